/**
 * Things that happen later and concern other domains. Published on the cluster event bus, so
 * every node (and a server beside a CLI command) hears them. Add a variant per new event kind.
 */
export type PlatformEvent =
  | { readonly kind: 'certificate.revoked'; readonly serial: string; readonly caName: string; readonly deviceId: string | null; readonly reason: number }
  | { readonly kind: 'certificate.issued'; readonly serial: string; readonly caName: string; readonly deviceId: string | null }
  | { readonly kind: 'device.state-changed'; readonly deviceId: string; readonly from: string; readonly to: string }
  | { readonly kind: 'crl.updated'; readonly caName: string; readonly crlNumber: number }
  | { readonly kind: 'alert.changed'; readonly alertId: string; readonly tenantId: string; readonly change: 'raised' | 'repeated' | 'acknowledged' | 'resolved' | 'condition-cleared' | 'escalated' }
  /** A policy asks for attention on a device (certificate renewal, unexpected network...). */
  | { readonly kind: 'policy.notify'; readonly topic: string; readonly deviceId: string; readonly tenantId: string; readonly policyId: string; readonly flag: string | null }
  /** A policy requires the device to update (updates/ campaigns may act on it). */
  | { readonly kind: 'policy.force-update'; readonly deviceId: string; readonly tenantId: string; readonly policyId: string }
  /** A platform node stopped heartbeating; the devices it held were marked offline. */
  | { readonly kind: 'presence.node-lost'; readonly node: string; readonly devices: number };

export type PlatformEventKind = PlatformEvent['kind'];
export type EventOf<K extends PlatformEventKind> = Extract<PlatformEvent, { kind: K }>;
