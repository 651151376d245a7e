import { generateKeyPairSync } from 'node:crypto';
import type { Clock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { tenantOf, type TokenService } from '../access/index.ts';
import type { AuditLog } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { DeviceRegistry } from '../devices/index.ts';
import type { EventBus } from '../events/index.ts';
import { authenticateRequest, type HttpFastPath, requirePermission, type RouteModule, serverNames } from '../http/index.ts';
import type { CertificateAuthorities, CertificateStore, Issuer } from '../pki/index.ts';
import { deviceAccessOf, telemetryRoutes } from '../telemetry/index.ts';
import type { DeviceAdmission } from './device-authenticator.ts';
import { DeviceGateway } from './device-gateway.ts';
import type { CommandResultListener, StoredListener, UpdateStatusListener } from './device-message-ingest.ts';
import { deviceHttpsRoutes } from './device-https-routes.ts';
import { deviceDesiredFastPath, type DeviceUpdateService } from './device-update-routes.ts';
import { RegistryDeviceDirectory } from './registry-device-directory.ts';

export interface PlatformGatewayDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  readonly audit: AuditLog;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly clock: Clock;
  readonly cas: CertificateAuthorities;
  readonly issuer: Issuer;
  readonly certificates: CertificateStore;
  readonly devices: DeviceRegistry;
  readonly tokens: TokenService;
  /** This node's id (the event bus origin). */
  readonly node: string;
  /** Connect-time policy check (the policy engine). */
  readonly admission?: DeviceAdmission;
  readonly onStored?: StoredListener;
  readonly onCommandResult?: CommandResultListener;
  readonly onUpdateStatus?: UpdateStatusListener;
  /** Desired state and update status over the device HTTPS API (the updates domain's channel). */
  readonly deviceUpdates?: DeviceUpdateService;
}

export interface PlatformGateway {
  readonly gateway: DeviceGateway;
  /** `mqtts://host:port` of the embedded broker; undefined in external mode. */
  readonly mqttUrl: string | undefined;
  /** REST routes for :8080 (telemetry and presence queries). */
  readonly apiRoutes: RouteModule;
  /** Device routes for the :8443 listener (/device/v1/messages, /device/v1/updates/desired, /device/v1/update-status). */
  readonly deviceRoutes: RouteModule;
  /** Handlers for the :8443 listener asked before those routes (the desired-state poll). */
  readonly deviceFastPaths: readonly HttpFastPath[];
  stop(): Promise<void>;
}

/**
 * Builds the gateway for `medtrust serve`: the embedded broker on config.mqttPort with a fresh
 * in-memory TLS key (like the :8443 listener) unless MEDTRUST_MQTT_URL names an external broker.
 */
export async function startPlatformGateway(d: PlatformGatewayDeps): Promise<PlatformGateway> {
  const { config } = d;
  let mqtt;
  if (config.mqttUrl === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = await d.issuer.issueTlsServer({ ...serverNames(config.publicUrl, config.tlsHostnames, config.bindHost), publicKey });
    const [operational, root] = await Promise.all([d.cas.get('operational'), d.cas.get('root')]);
    // Trust anchors for device certificates: the Operational CA (and the root it chains to; the
    // authenticator then insists on an LDevID of the Operational CA, so an IDevID cannot pass).
    mqtt = { bindHost: config.bindHost, port: config.mqttPort, tls: { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: cert.chainPem, clientCas: [operational.certificatePem, root.certificatePem] } };
  }
  const gateway = await DeviceGateway.start({
    db: d.db, audit: d.audit, events: d.events, logger: d.logger, metrics: d.metrics, clock: d.clock, node: d.node,
    certificates: d.certificates, devices: new RegistryDeviceDirectory(d.devices), mqtt, ...(d.admission ? { admission: d.admission } : {}), ...(d.onStored ? { onStored: d.onStored } : {}), ...(d.onCommandResult ? { onCommandResult: d.onCommandResult } : {}),
    ...(d.onUpdateStatus ? { onUpdateStatus: d.onUpdateStatus } : {}),
    ...(config.mqttUrl !== undefined ? { external: { url: config.mqttUrl, nodeName: config.nodeName } } : {}),
  });
  const apiRoutes = telemetryRoutes({
    query: gateway.query, presence: gateway.presence,
    readGuard: requirePermission(d.tokens, 'telemetry:read'),
    presenceGuard: requirePermission(d.tokens, 'device:read'),
    access: async (request, deviceId) => {
      const principal = await authenticateRequest(d.tokens, request);
      const device = await d.devices.find(deviceId);
      return device && { access: deviceAccessOf(device, tenantOf(principal)), model: device.model };
    },
  });
  const host = config.bindHost.includes(':') ? `[${config.bindHost}]` : config.bindHost;
  return {
    gateway,
    mqttUrl: gateway.broker ? `mqtts://${host}:${gateway.broker.port}` : undefined,
    apiRoutes,
    deviceRoutes: deviceHttpsRoutes({ sessions: gateway.https, ingest: gateway.ingest, buckets: gateway.buckets, ...(d.deviceUpdates ? { updates: d.deviceUpdates } : {}) }),
    deviceFastPaths: d.deviceUpdates ? [deviceDesiredFastPath({ sessions: gateway.https, buckets: gateway.buckets, updates: d.deviceUpdates })] : [],
    stop: () => gateway.stop(),
  };
}
