import { type Clock, commandKeyId } from '@medtrust/core';
import type { Kysely } from 'kysely';
import { Histogram, type Registry } from 'prom-client';
import type { TokenService } from '../access/index.ts';
import type { AuditLog } from '../audit/index.ts';
import { AlertRuleStore, AlertService, alertRoutes, type CommandPolicyCheck, CommandService, commandRoutes, type CommandSigner, type DeviceAlarm, DrugLibraryService, type VitalMetric, WebhookService } from '../clinical/index.ts';
import type { Database } from '../db/index.ts';
import type { DeviceRegistry } from '../devices/index.ts';
import type { EventBus } from '../events/index.ts';
import { CommandResults } from '../clinical/index.ts';
import { FhirPushService, fhirPushRoutes, fhirRoutes, ObservationSource } from '../fhir/index.ts';
import type { RouteModule } from '../http/index.ts';
import type { Job } from '../jobs/index.ts';
import type { DeviceMessage } from '../telemetry/index.ts';
import { PatientService, PhiCipher, patientRoutes } from '../patients/index.ts';
import type { KeyHandle, KeyStore, SecretStore } from '../pki/index.ts';

/** Key store label of the platform's command-signing key (ECDSA P-256). */
export const COMMAND_KEY_LABEL = 'command-signing';

export interface ClinicalDeps {
  readonly db: Kysely<Database>;
  readonly audit: AuditLog;
  readonly events: EventBus;
  readonly clock: Clock;
  readonly keyStore: KeyStore;
  readonly secrets: SecretStore;
  readonly devices: DeviceRegistry;
  readonly tokens: TokenService;
  readonly metrics: Registry;
  readonly publicUrl: string;
  /** Command policies (policy/ PolicyEngine.checkCommand), asked before a command is signed. */
  readonly commandPolicy?: CommandPolicyCheck;
}

/** A stored device message, as the ingest hands it on after the commit. */
export interface StoredDeviceMessage {
  readonly deviceId: string;
  readonly tenantId: string;
  readonly receivedAtMs: number;
  readonly message: DeviceMessage;
}

const VITAL_FIELDS: ReadonlyArray<['heartRate' | 'spo2' | 'bodyTemperature' | 'respiratoryRate' | 'glucose', VitalMetric]> = [['heartRate', 'heart-rate'], ['spo2', 'spo2'], ['bodyTemperature', 'body-temperature'], ['respiratoryRate', 'respiratory-rate'], ['glucose', 'glucose']];
const ALARM_MAP: Readonly<Record<string, DeviceAlarm>> = { occlusion: 'occlusion', 'upstream-occlusion': 'occlusion', 'downstream-occlusion': 'occlusion', 'air-in-line': 'air-in-line', 'door-open': 'door-open', 'low-battery': 'low-battery', 'infusion-complete': 'infusion-complete' };

async function loadOrCreate(store: KeyStore, label: string): Promise<KeyHandle> {
  try {
    return await store.load(label);
  } catch {
    try {
      return await store.generate(label, 'ec-p256');
    } catch (e) {
      // Another process created it first.
      return store.load(label).catch(() => Promise.reject(e as Error));
    }
  }
}

/**
 * Builds the clinical side (alerts, webhooks, drug library, safe commands, patients, FHIR) over
 * the platform's services. `sendToDevice` is bound once the gateway has started.
 */
export function buildClinical(d: ClinicalDeps) {
  let sendToDevice: ((deviceId: string, suffix: string, payload: string) => Promise<void>) | undefined;
  const latency = new Histogram({ name: 'medtrust_alert_delivery_latency_seconds', help: 'From receipt of the raising message to delivery', labelNames: ['channel'], registers: [d.metrics], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30] });
  const webhooks = new WebhookService({ db: d.db, audit: d.audit, clock: d.clock, secretKey: () => d.secrets.get('webhook-secrets'), onDelivered: (a, at) => latency.observe({ channel: 'webhook' }, Math.max(0, at - a.receivedAtMs) / 1000) });
  const alertRules = new AlertRuleStore({ db: d.db, audit: d.audit, clock: d.clock });
  const alerts = new AlertService({ db: d.db, audit: d.audit, events: d.events, rules: alertRules, clock: d.clock, notify: async (a, c) => {
    await webhooks.enqueue(a, c);
    void webhooks.deliverDue().catch(() => undefined);
  } });
  let cipher: Promise<PhiCipher> | undefined;
  const patients = new PatientService({ db: d.db, audit: d.audit, clock: d.clock, cipher: () => (cipher ??= Promise.all([d.secrets.get('phi-fields'), d.secrets.get('phi-index')]).then(([k, i]) => new PhiCipher(k, i))) });
  const drugLibraries = new DrugLibraryService({ db: d.db, audit: d.audit, clock: d.clock });
  let signer: Promise<CommandSigner> | undefined;
  const commandSigner = (): Promise<CommandSigner> => (signer ??= loadOrCreate(d.keyStore, COMMAND_KEY_LABEL).then((k) => ({ alg: 'ES256' as const, keyId: commandKeyId(k.publicKey), sign: (data: Buffer) => k.sign(data) })));
  const commands = new CommandService({
    db: d.db, audit: d.audit, clock: d.clock, libraries: drugLibraries, signer: commandSigner, policy: d.commandPolicy,
    devices: {
      device: async (id) => d.devices.find(id),
      pumpStatus: async (id) => {
        const row = await d.db.selectFrom('telemetry_message').select('payload').where('device_id', '=', id).where('kind', '=', 'infusion').orderBy('device_ts', 'desc').limit(1).executeTakeFirst();
        if (!row) return undefined;
        const i = (JSON.parse(row.payload) as { infusion: { state: 'idle' | 'infusing' | 'paused' | 'alarm'; drug: string; concentration: { value: number }; rateMlPerH: number } }).infusion;
        return { state: i.state, drug: i.drug, concentration: i.concentration.value, rateMlPerH: i.rateMlPerH };
      },
    },
    transport: {
      send: async (deviceId, signed) => {
        if (!sendToDevice) throw new Error('the device gateway is not running');
        await sendToDevice(deviceId, 'commands', JSON.stringify(signed));
      },
    },
  });
  const commandResults = new CommandResults({ db: d.db, audit: d.audit, clock: d.clock });
  const observations = new ObservationSource({ db: d.db });
  const fhirPush = new FhirPushService({ db: d.db, audit: d.audit, patients, clock: d.clock, secretKey: () => d.secrets.get('fhir-endpoint-secrets') });

  const routes: RouteModule[] = [
    alertRoutes({ tokens: d.tokens, rules: alertRules, alerts, webhooks, events: d.events, onStreamed: (a, at) => latency.observe({ channel: 'sse' }, Math.max(0, at - a.receivedAtMs) / 1000) }),
    commandRoutes({ tokens: d.tokens, commands, libraries: drugLibraries, signingKeyPem: async () => (await loadOrCreate(d.keyStore, COMMAND_KEY_LABEL)).publicKey.export({ type: 'spki', format: 'pem' }).toString() }),
    patientRoutes({ tokens: d.tokens, patients }),
    fhirRoutes({ tokens: d.tokens, patients, devices: d.devices, observations, manufacturer: 'MedTrust', publicUrl: d.publicUrl }),
    fhirPushRoutes({ tokens: d.tokens, push: fhirPush }),
  ];
  const jobs: Job[] = [
    { name: 'clinical.alert-escalation', intervalMs: 10_000, run: async () => void (await alerts.escalateDue()) },
    { name: 'clinical.webhook-delivery', intervalMs: 2_000, run: async () => void (await webhooks.deliverDue()) },
    { name: 'fhir.push', intervalMs: 5_000, run: async () => void (await fhirPush.pushDue()) },
    { name: 'clinical.command-expiry', intervalMs: 10_000, run: async () => void (await commandResults.expireDue()) },
  ];

  // A replayed backlog arrives as a burst; evaluated concurrently, a device's readings reached the
  // threshold trackers out of order (and PostgreSQL lookups finish in any order), so a 30 s rule
  // fired late. Per device, one message at a time, in store order (found by test/e2e/outage).
  const chains = new Map<string, Promise<void>>();
  /** After the commit of a device message: alerts from vitals and pump alarms, on original device time. */
  function onStored(m: StoredDeviceMessage): Promise<void> {
    const run = (chains.get(m.deviceId) ?? Promise.resolve()).then(() => evaluateStored(m));
    const tail = run.catch(() => undefined);
    chains.set(m.deviceId, tail);
    void tail.then(() => {
      if (chains.get(m.deviceId) === tail) chains.delete(m.deviceId);
    });
    return run;
  }

  async function evaluateStored(m: StoredDeviceMessage): Promise<void> {
    const device = await d.devices.find(m.deviceId);
    if (!device) return;
    const patientId = await patients.patientAt(m.deviceId, m.message.ts);
    const base = { tenantId: device.tenantId, deviceId: m.deviceId, patientId };
    if (m.message.kind === 'vitals') {
      for (const [field, metric] of VITAL_FIELDS) {
        const v = m.message.vitals[field]?.value;
        if (typeof v === 'number') await alerts.onVital({ ...base, careArea: null, metric, value: v, atMs: m.message.ts, receivedAtMs: m.receivedAtMs });
      }
      const nibp = m.message.vitals.nibp;
      if (nibp) await alerts.onVital({ ...base, careArea: null, metric: 'nibp-systolic', value: nibp.systolic, atMs: m.message.ts, receivedAtMs: m.receivedAtMs });
      if (nibp) await alerts.onVital({ ...base, careArea: null, metric: 'nibp-diastolic', value: nibp.diastolic, atMs: m.message.ts, receivedAtMs: m.receivedAtMs });
    }
    if (m.message.kind === 'infusion') {
      const active = new Set(m.message.infusion.alarms.map((a) => ALARM_MAP[a]).filter((a): a is DeviceAlarm => a !== undefined));
      for (const alarm of new Set(Object.values(ALARM_MAP))) await alerts.onDeviceAlarm({ ...base, alarm, active: active.has(alarm), atMs: m.message.ts, receivedAtMs: m.receivedAtMs });
    }
  }

  return {
    alertRules, alerts, webhooks, patients, drugLibraries, commands, commandResults, observations, fhirPush, routes, jobs, onStored,
    /** Publishes on the device's own topic (`devices/{id}/{suffix}`) through the running broker. */
    async sendToDevice(deviceId: string, suffix: string, payload: string): Promise<void> {
      if (!sendToDevice) throw new Error('the device gateway is not running');
      await sendToDevice(deviceId, suffix, payload);
    },
    bindDeviceSender(send: (deviceId: string, suffix: string, payload: string) => Promise<void>): void {
      sendToDevice = send;
    },
  };
}

export type ClinicalWiring = ReturnType<typeof buildClinical>;
