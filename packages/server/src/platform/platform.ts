import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '@medtrust/core';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { accessRoutes, authRoutes, createSso, LoginRateLimiter, SessionService, type Sso, ssoRoutes, TenantService, TokenService, UserService } from '../access/index.ts';
import { type AuditLog, auditRoutes, CheckpointKeys, CheckpointService, DbAuditLog } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import { type Database, type DatabaseHandle, migrateToLatest, openDatabase, type SqlDialectName } from '../db/index.ts';
import { DbEventBus } from '../events/index.ts';
import { authenticateRequest, buildHttpApp, type HttpsListener, requirePermission, type RouteModule, startHttpsListener, staticWebRoutes } from '../http/index.ts';
import { type PlatformGateway, startPlatformGateway } from '../gateway/index.ts';
import { JobRunner } from '../jobs/index.ts';
import { CaHierarchy, type CaSummary, CertificateQueries, certificateRoutes, CrlService, DbCertificateStore, EnrollTokenService, enrollTokenRoutes, EstService, estRoutes, FactoryProvisioner, IssuanceService, type KeyStore, LazyKeyStore, OcspResponder, ocspFastPath, openKeyring, openKeyStore, openSecretStore, publicPkiRoutes, RevocationService, type SecretStore } from '../pki/index.ts';
import { DeviceRegistry, deviceRoutes as deviceRegistryRoutes } from '../devices/index.ts';
import { createLogger, type Logger } from '../logging/index.ts';
import { allMigrations } from '../migrations.ts';
import { createPolicies, keyFacts, type Policies } from '../policy/index.ts';
import { createUpdates, S3ArtifactStore, type Updates } from '../updates/index.ts';
import { StaleNodeReaper } from '../telemetry/index.ts';
import { VulnService, vulnRoutes } from '../vulns/index.ts';
import { ensureAdminToken } from './admin-token.ts';
import { buildClinical, type ClinicalWiring } from './clinical-wiring.ts';

export const VERSION = '0.1.0';

/** How often the cluster signs an audit checkpoint (when the log grew). */
const AUDIT_CHECKPOINT_INTERVAL_MS = 10 * 60_000;

/** Everything a command or route may use, built once per process. */
export interface PlatformServices {
  /** Alerts, webhooks, drug library, safe commands, patients and FHIR. */
  readonly clinical: ClinicalWiring;
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialectName;
  readonly audit: AuditLog;
  readonly events: DbEventBus;
  readonly tenants: TenantService;
  readonly tokens: TokenService;
  readonly jobs: JobRunner;
  readonly metrics: Registry;
  readonly enrollTokens: EnrollTokenService;
  readonly users: UserService;
  readonly sessions: SessionService;
  /** Hospital single sign-on: per-tenant OIDC identity providers and the login flow. */
  readonly sso: Sso;
  /** Signed Merkle checkpoints over the audit log, and the keys that sign and verify them. */
  readonly auditCheckpoints: CheckpointService;
  readonly auditKeys: CheckpointKeys;
  /** Private keys of the CAs and signers (file store or HSM), opened on first use. */
  readonly keyStore: KeyStore;
  /** Symmetric secrets sealed under the master key. */
  readonly secrets: SecretStore;
  readonly cas: CaHierarchy;
  readonly certificates: DbCertificateStore;
  readonly issuer: IssuanceService;
  readonly devices: DeviceRegistry;
  readonly provisioning: FactoryProvisioner;
  /** Releases, artifact store and the TUF repository. */
  readonly updates: Updates;
  /** SBOMs, vulnerability feeds, matching, device exposure and risk. */
  readonly vulns: VulnService;
  /** Revokes certificates (row, audit, `certificate.revoked` on the bus). */
  readonly revocation: RevocationService;
  /** Certificates as people see them (REST, CLI), tenant-scoped. */
  readonly certificateQueries: CertificateQueries;
  /** One in-memory CRL per CA, re-issued on revocation and on schedule. */
  readonly crls: CrlService;
  /** RFC 6960 responder with cached signed responses. */
  readonly ocsp: OcspResponder;
  /** Policy engine (events, schedule, hooks, dry run) and anomaly detection. */
  readonly policies: Policies;
}

export interface InitResult {
  readonly operatorTenantId: string;
  readonly adminTokenPath: string;
  readonly adminTokenCreated: boolean;
  /** The CAs and OCSP signers, with `created` true for those made by this call. */
  readonly cas: readonly CaSummary[];
}

export interface Listening {
  readonly httpUrl: string;
  /** The device-facing HTTPS listener (EST, device API). */
  readonly httpsUrl: string;
  /** The embedded MQTT broker (`mqtts://host:port`); undefined with an external broker. */
  readonly mqttUrl: string | undefined;
}

/**
 * The platform process: opens storage, builds the domain services, and (on `start`) listens.
 * CLI commands open it too, without listening, to act on the same data dir.
 */
export class Platform {
  readonly services: PlatformServices;
  readonly #handle: DatabaseHandle;
  #http: FastifyInstance | undefined;
  #gateway: PlatformGateway | undefined;
  #https: HttpsListener | undefined;

  private constructor(services: PlatformServices, handle: DatabaseHandle) {
    this.services = services;
    this.#handle = handle;
  }

  /** Opens the data dir and database and applies pending migrations. */
  static async open(opts: { config: Config; logger?: Logger; clock?: Clock }): Promise<Platform> {
    const { config } = opts;
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const logger = opts.logger ?? createLogger({ level: config.logLevel });
    const clock = opts.clock ?? systemClock;
    const handle = openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    await migrateToLatest(handle.db, handle.dialect, allMigrations);
    const db = handle.db;
    const audit = new DbAuditLog({ db, dialect: handle.dialect, clock });
    const events = new DbEventBus({ db, clock });
    events.onError = (e) => logger.error({ err: e }, 'event handler failed');
    const metrics = new Registry();
    const keyring = openKeyring(config, config.dataDir);
    const pkiKeyStore = new LazyKeyStore(config.keyStore.kind, () => openKeyStore(config, config.dataDir, { keyring }));
    const cas = new CaHierarchy({ db, keyStore: pkiKeyStore, audit, publicUrl: config.publicUrl, clock });
    const devices = new DeviceRegistry({ db, audit, events, clock });
    const issuer = new IssuanceService({ db, dialect: handle.dialect, cas, devices, audit, events, publicUrl: config.publicUrl, ldevidValidityDays: config.ldevidValidityDays, clock,
      // docs/policy.md: issuance policies (e.g. key-strength.yaml) are asked before an LDevID is signed.
      issuanceCheck: (c) => services.policies.engine.checkIssuance({ deviceId: c.deviceId, key: keyFacts(c.publicKey) }) });
    // Label 'audit-checkpoint' in the platform key store; opened on the first checkpoint.
    const auditKeys = new CheckpointKeys({ db, clock, keyStore: pkiKeyStore });
    const tokens = new TokenService({ db, audit, clock });
    const tenants = new TenantService({ db, clock, audit });
    const secrets = openSecretStore(config, config.dataDir, { keyring });
    const certificates = new DbCertificateStore({ db });
    const revocation = new RevocationService({ db, audit, events, clock });
    const clinical = buildClinical({ db, audit, events, clock, keyStore: pkiKeyStore, secrets, devices, tokens, metrics, publicUrl: config.publicUrl, commandPolicy: { checkCommand: (c) => services.policies.engine.checkCommand(c) } });
    const services: PlatformServices = {
      config, logger, clock, db, dialect: handle.dialect, audit, events, metrics, clinical,
      tenants,
      tokens,
      jobs: new JobRunner({ db, clock, holder: events.origin, logger }),
      enrollTokens: new EnrollTokenService({ db, audit, clock, ttlHours: config.enrollTokenTtlHours }),
      users: new UserService({ db, audit, clock }),
      sessions: new SessionService({ db, clock }),
      // Its own user and session services over the same tables (both hold no state of their own).
      sso: createSso({ db, audit, clock, users: new UserService({ db, audit, clock }), sessions: new SessionService({ db, clock }), publicUrl: config.publicUrl, secretKey: () => secrets.get('oidc-client-secrets') }),
      auditKeys,
      auditCheckpoints: new CheckpointService({ db, clock, signingKey: () => auditKeys.signer() }),
      keyStore: pkiKeyStore,
      secrets,
      cas,
      certificates,
      issuer,
      devices,
      provisioning: new FactoryProvisioner({ db, devices, issuer, audit, clock }),
      revocation,
      certificateQueries: new CertificateQueries({ db }),
      crls: new CrlService({ db, cas, events, clock, logger, validityHours: config.crlValidityHours }),
      ocsp: new OcspResponder({ db, cas, events, clock, logger, metrics, cacheSeconds: config.ocspCacheSeconds }),
      // TUF root keys share the store under `tuf-offline.` labels (docs/updates.md); ed25519 unless an HSM.
      // CSAF documents name the operator (the manufacturer) with the public URL as namespace.
      vulns: new VulnService({ db, audit, clock, publisher: { name: 'MedTrust operator', namespace: config.publicUrl } }),
      // Artifacts in the data dir unless MEDTRUST_ARTIFACT_STORE=s3 (docs/updates.md); uploads spool to the data dir either way.
      updates: createUpdates({ db, dialect: handle.dialect, dataDir: config.dataDir, keyStore: pkiKeyStore, audit, clock,
        artifacts: config.artifactStore.kind === 's3' ? new S3ArtifactStore({ ...config.artifactStore, tmpDir: `${config.dataDir}/artifacts/tmp` }) : undefined,
        algorithm: config.keyStore.kind === 'pkcs11' ? 'ec-p256' : 'ed25519', sbomImporter: (o) => services.vulns.importSbom(o), onChannelError: (e) => logger.warn({ err: e }, 'update desired-state push failed'), recordFirmware: (id, version, actor) => devices.recordFirmware(id, version, actor) }),
      // Security alerts of policies and anomaly detection go through the clinical AlertService.
      policies: createPolicies({ db, audit, events, clock, devices, certificates, revocation, alerts: clinical.alerts, operatorTenantId: () => tenants.ensureOperator() }),
    };
    for (const job of services.updates.jobs) services.jobs.add(job);
    services.jobs.add(services.auditCheckpoints.job(AUDIT_CHECKPOINT_INTERVAL_MS));
    services.jobs.add(services.sessions.pruneJob(3_600_000));
    services.jobs.add(services.crls.job());
    services.jobs.add(services.cas.ocspSignerRenewalJob());
    for (const job of services.policies.jobs) services.jobs.add(job);
    for (const job of clinical.jobs) services.jobs.add(job);
    // Devices held by a crashed node go offline once its heartbeat is stale (docs/gateway.md).
    services.jobs.add(new StaleNodeReaper({ db, audit, events, clock }).job());
    // A hospital told of an advisory also gets a security alert (SSE, webhooks) when it has a rule for it.
    services.vulns.notices.onNotice((n) => clinical.alerts.onSecurityEvent({ tenantId: n.tenantId, deviceId: null, patientId: null, event: 'security-advisory', atMs: clock.nowMs(), details: { noticeId: n.id, vulnId: n.vulnId, trackingId: n.trackingId, affectedDevices: n.affectedDevices } }));
    return new Platform(services, handle);
  }

  /** Idempotent first-time set-up: operator tenant and admin token. */
  async init(): Promise<InitResult> {
    const s = this.services;
    const operatorTenantId = await s.tenants.ensureOperator();
    const admin = await ensureAdminToken({ dataDir: s.config.dataDir, tokens: s.tokens, operatorTenantId });
    if (admin.created) await s.audit.append({ actor: 'system', action: 'platform.initialised', tenantId: operatorTenantId, details: { adminTokenPath: admin.path } });
    const cas = await s.cas.init();
    await s.updates.ceremony.initialise('system');
    return { operatorTenantId, adminTokenPath: admin.path, adminTokenCreated: admin.created, cas };
  }

  /** Initialises if needed, then listens on the configured ports. */
  async start(): Promise<Listening> {
    const s = this.services;
    await this.init();
    collectDefaultMetrics({ register: s.metrics });
    const routes: RouteModule[] = [
      enrollTokenRoutes({ service: s.enrollTokens, guard: requirePermission(s.tokens, 'enroll-token:create') }),
      vulnRoutes({ vulns: s.vulns, guard: (permission) => requirePermission(s.tokens, permission) }),
      s.updates.tufRoutes,
      s.updates.releaseRoutes({ manage: requirePermission(s.tokens, 'release:manage'), read: requirePermission(s.tokens, 'release:read') }),
      s.updates.deviceTagRoutes({ manage: requirePermission(s.tokens, 'device:manage'), read: requirePermission(s.tokens, 'device:read') }),
      authRoutes({ users: s.users, sessions: s.sessions, audit: s.audit, limiter: new LoginRateLimiter({ clock: s.clock }), authenticated: async (req) => void (await authenticateRequest(s.tokens, req)) }),
      ssoRoutes({ providers: s.sso.providers, login: s.sso.login, sessions: s.sessions, manage: requirePermission(s.tokens, 'sso:manage') }),
      accessRoutes({
        tenants: s.tenants, users: s.users, tokens: s.tokens,
        guards: { tenantManage: requirePermission(s.tokens, 'tenant:manage'), userManage: requirePermission(s.tokens, 'user:manage'), tokenCreate: requirePermission(s.tokens, 'token:create'), authenticated: async (req) => void (await authenticateRequest(s.tokens, req)) },
      }),
      auditRoutes({ db: s.db, checkpoints: s.auditCheckpoints, trustedKeys: () => s.auditKeys.trusted(), guard: requirePermission(s.tokens, 'audit:read') }),
      publicPkiRoutes({ crls: s.crls, ocsp: s.ocsp, cas: s.cas }),
      certificateRoutes({ tokens: s.tokens, queries: s.certificateQueries, revocation: s.revocation }),
      s.policies.routes((permission) => requirePermission(s.tokens, permission)),
      deviceRegistryRoutes({ tokens: s.tokens, devices: s.devices, db: s.db }),
      ...s.clinical.routes,
      // The web dashboard (packages/web/dist) at / and its client routes; a hint page when not built.
      staticWebRoutes(),
    ];
    // Only a listening node keeps CRLs and OCSP responses; it hears revocations from any process.
    s.crls.listen();
    s.ocsp.listen();
    // Event-triggered policies run on every node that hears the event; decisions dedupe across nodes.
    s.policies.engine.listen(s.events);
    // Device gateway: embedded MQTT broker (unless MEDTRUST_MQTT_URL), telemetry queries, device HTTPS API.
    this.#gateway = await startPlatformGateway({
      ...s, node: s.events.origin, admission: s.policies.engine,
      onStored: (m) => void s.clinical.onStored(m).catch((e: unknown) => s.logger.error({ err: e, deviceId: m.deviceId }, 'alert evaluation failed')),
      // Devices report on commands (accepted, executed, refused with a code) on their command-results topic.
      onCommandResult: (session, payload) => s.clinical.commandResults.onPayload(session, payload),
      // Update status and desired-state checks on devices/{id}/update-status, either broker.
      onUpdateStatus: async (session, payload) => void (await s.updates.channel.handle(session, 'update-status', payload)),
      // The same over the device HTTPS API (GET /device/v1/updates/desired, POST /device/v1/update-status).
      deviceUpdates: s.updates.channel,
    });
    routes.push(this.#gateway.apiRoutes);
    const gateway = this.#gateway.gateway;
    // Updates: devices report status on devices/{id}/update-status (onUpdateStatus above) and get
    // their desired state on devices/{id}/updates/desired, pushed on campaign changes and on request.
    s.updates.channel.bindPublisher(async (deviceId, suffix, payload) => {
      const broker = gateway.broker ?? gateway.external;
      if (broker) await broker.publishToDevice(deviceId, suffix, payload);
    });
    // Signed commands (and update notices) travel on the device's own topics, either broker.
    s.clinical.bindDeviceSender(async (deviceId, suffix, payload) => {
      const broker = gateway.broker ?? gateway.external;
      if (!broker) throw new Error('no device broker');
      await broker.publishToDevice(deviceId, suffix, payload);
    });
    this.#http = await buildHttpApp({
      logger: s.logger, metrics: s.metrics, version: VERSION, routes,
      // Well-formed OCSP requests skip Fastify (hot path); the /ocsp routes document and back them.
      fastPaths: [ocspFastPath(s.ocsp), s.updates.tufFastPath],
      ready: async () => {
        await s.db.selectFrom('tenant').select('id').limit(1).execute();
        return true;
      },
    });
    await this.#http.listen({ host: s.config.bindHost, port: s.config.httpPort });
    const port = (this.#http.server.address() as AddressInfo).port;
    // Device-facing routes (client certificates reach them): EST, then the device HTTPS API.
    const est = new EstService({ cas: s.cas, issuer: s.issuer, store: s.certificates, devices: s.devices, tokens: s.enrollTokens, audit: s.audit, clock: s.clock });
    const deviceRoutes: RouteModule[] = [estRoutes(est), this.#gateway.deviceRoutes];
    this.#https = await startHttpsListener({
      bindHost: s.config.bindHost, port: s.config.httpsPort, publicUrl: s.config.publicUrl, tlsHostnames: s.config.tlsHostnames,
      issuer: s.issuer, cas: s.cas, logger: s.logger, metrics: s.metrics, version: VERSION, routes: deviceRoutes, fastPaths: this.#gateway.deviceFastPaths,
      ready: async () => {
        await s.cas.get('operational');
        return true;
      },
    });
    await s.events.start();
    s.jobs.start();
    return { httpUrl: `http://${s.config.bindHost}:${port}`, httpsUrl: this.#https.url, mqttUrl: this.#gateway.mqttUrl };
  }

  async stop(): Promise<void> {
    await this.services.jobs.stop();
    this.services.events.stop();
    // The broker first: no PUBACK after this, and pending telemetry commits drain.
    await this.#gateway?.stop();
    await this.#http?.close();
    await this.#https?.close();
    await this.services.keyStore.close();
    await this.#handle.close();
  }
}
