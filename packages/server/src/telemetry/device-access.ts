import type { DeviceAccess } from './telemetry-routes.ts';

/**
 * What a caller may see of a device's telemetry. Tenant isolation: a hospital (customer) or site
 * sees its own devices in full; the operator runs every device but sees patient data only of
 * devices it still holds itself (ARCHITECTURE.md: operator roles see devices, never PHI).
 */
export function deviceAccessOf(device: { readonly tenantId: string; readonly siteId: string | null }, caller: { readonly tenantId: string; readonly tenantKind: 'operator' | 'customer' | 'site' }): DeviceAccess {
  if (device.tenantId === caller.tenantId || device.siteId === caller.tenantId) return { kind: 'full' };
  if (caller.tenantKind === 'operator') return { kind: 'device-only' };
  return { kind: 'none' };
}
