import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '@medtrust/core';
import { DEVICE_MODELS, type SimDeviceKind, simProfile } from '@medtrust/device/sim';
import type { Platform } from '@medtrust/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { admitPatients, changeRate, DEMO_HOSPITAL, importVulnerabilities, PUMP_MODEL, pressStuckKey, setUpHospital, VULNERABLE_PUMP_FIRMWARE } from '../sim/demo-hospital.ts';
import { type FleetBundle, kindOfModel, parseDuration, provisionFleet } from '../sim/fleet-bundles.ts';
import { startSimulation } from '../sim/run-simulation.ts';

const DEMO_SERIAL = 'DEMO-0001';
const DEMO_MODEL = 'DemoPump';

/** The sample device: registered with an IDevID on the first demo run (files in data/demo/), reused after. */
async function sampleDevice(p: Platform): Promise<{ id: string; serial: string; state: string; idevidCert: string; idevidKey: string }> {
  const s = p.services;
  const dir = join(s.config.dataDir, 'demo');
  const files = { idevidCert: join(dir, `${DEMO_SERIAL}.idevid.pem`), idevidKey: join(dir, `${DEMO_SERIAL}.idevid.key`) };
  const existing = await s.devices.list({ model: DEMO_MODEL, limit: 1 });
  if (existing[0] && existsSync(files.idevidKey)) return { ...existing[0], ...files };
  if (existing[0]) throw new Error(`the demo device exists but its key file ${files.idevidKey} is gone; use another data dir`);
  const tenantId = await s.tenants.ensureOperator();
  // Factory provisioning for a device without a secure element: a generated key and its IDevID.
  const [device] = await s.provisioning.provision({ model: DEMO_MODEL, hardwareRevision: 'A', serials: [DEMO_SERIAL], tenantId, actor: 'demo' });
  if (!device?.privateKeyPem) throw new Error('factory provisioning returned no generated key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(files.idevidCert, device.idevid.chainPem);
  writeFileSync(files.idevidKey, device.privateKeyPem, { mode: 0o600 });
  return { ...device, ...files };
}

/** The commands a newcomer pastes to enrol the sample device with only openssl and curl. */
export function enrolInstructions(o: { estUrl: string; rootFile: string; username: string; password: string; deviceId: string; idevidCert: string; idevidKey: string }): string[] {
  const est = `${o.estUrl}/.well-known/est`;
  const decode = 'openssl base64 -d | openssl pkcs7 -inform DER -print_certs';
  return [
    `# 1. the CA bundle (RFC 7030 cacerts), trusting the root the platform published in ${o.rootFile}`,
    `curl -s --cacert ${o.rootFile} ${est}/cacerts | ${decode} > cacerts.pem`,
    '# 2. a key and a CSR (the CA sets the subject: CN = device id)',
    'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -subj /CN=device -outform DER | openssl base64 > device.csr.b64',
    '# 3. enrol once with the one-time secret, then check the LDevID',
    `curl -s --cacert ${o.rootFile} -u '${o.username}:${o.password}' -H 'Content-Type: application/pkcs10' --data-binary @device.csr.b64 ${est}/simpleenroll | ${decode} > ldevid.pem`,
    'openssl verify -CAfile cacerts.pem ldevid.pem && openssl x509 -in ldevid.pem -noout -subject -enddate',
    '#    (or, instead of the secret, with the IDevID from the factory as TLS client certificate)',
    `#    curl -s --cacert ${o.rootFile} --cert ${o.idevidCert} --key ${o.idevidKey} -H 'Content-Type: application/pkcs10' --data-binary @device.csr.b64 ${est}/simpleenroll | ${decode} > ldevid.pem`,
    '# 4. renew with the LDevID as client certificate (same subject, fresh CSR)',
    `openssl req -new -key device.key -subj /CN=${o.deviceId} -outform DER | openssl base64 > renew.csr.b64`,
    `curl -s --cacert ${o.rootFile} --cert ldevid.pem --key device.key -H 'Content-Type: application/pkcs10' --data-binary @renew.csr.b64 ${est}/simplereenroll | ${decode}`,
  ];
}

/** `medtrust demo`: the platform on its embedded defaults, a simulated hospital, one sample device, and how to enrol it. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program.command('demo')
    .description('start the platform with a simulated hospital (devices over EST and MQTT, patients, alerts, a vulnerable firmware, a refused stuck-key infusion) and a sample device to enrol with curl (Ctrl-C stops)')
    .option('--devices <n>', 'simulated devices in the hospital', '50')
    .option('--seed <s>', 'same seed, same readings and events', '1')
    .option('--backfill <d>', 'history the devices recorded before the platform came up, replayed on connect', '5m')
    .action(async (opts: { devices: string; seed: string; backfill: string }) => {
      const count = Number(opts.devices);
      if (!Number.isInteger(count) || count < 6 || count > 2000) throw new CoreError('REQUEST_INVALID', '--devices must be 6-2000 (the ICU rotation reaches a glucose monitor at the sixth device)');
      const backfillMs = parseDuration(opts.backfill, '--backfill');
      if (backfillMs < 60_000 || backfillMs > 3_600_000) throw new CoreError('REQUEST_INVALID', '--backfill must be 1m-1h');
      const p = await ctx.openPlatform();
      const listening = await p.start();
      let sim: { stop(): Promise<void> } | undefined;
      try {
        const s = p.services;
        const init = await p.init();
        const device = await sampleDevice(p);
        const secret = await s.enrollTokens.create({ deviceId: device.id, createdBy: 'demo' });
        const rootPem = (await s.cas.get('root')).certificatePem;
        const rootFile = join(s.config.dataDir, 'est-root.pem');
        writeFileSync(rootFile, rootPem);
        // Clients reach the listener by name; the server certificate names localhost.
        const estUrl = listening.httpsUrl.replace('127.0.0.1', 'localhost');
        const hospital = await startHospital(p, { count, seed: opts.seed, backfillMs, estUrl, mqttUrl: listening.mqttUrl, httpUrl: listening.httpUrl, caPem: rootPem, output: ctx.output });
        sim = hospital.sim;
        const o = ctx.output;
        // The fleet's status line (stderr, terminals only) is redrawn below the summary.
        if (o.isTty) process.stderr.write('\r\x1b[K');
        o.out(`MedTrust demo (data dir ${s.config.dataDir})`);
        o.out(`  dashboard / REST API: ${listening.httpUrl}  (OpenAPI at ${listening.httpUrl}/docs)`);
        o.out(`  admin API token:      ${init.adminTokenPath}  (send as Authorization: Bearer <token>)`);
        o.out(`  EST (RFC 7030):       ${estUrl}/.well-known/est/`);
        o.out(`  sample device:        ${device.id} (model ${DEMO_MODEL}, serial ${device.serial}, state ${device.state})`);
        o.out(`  one-time secret:      ${secret.username} / ${secret.password} (until ${new Date(secret.expiresAt).toISOString()})`);
        o.out('');
        for (const line of hospital.lines) o.out(line);
        o.out('');
        o.out('Enrol the sample device with openssl and curl (docs/est.md explains each step):');
        o.out('');
        for (const line of enrolInstructions({ estUrl, rootFile, username: secret.username, password: secret.password, deviceId: device.id, idevidCert: device.idevidCert, idevidKey: device.idevidKey })) o.out(line);
        o.out('');
        o.out('Ctrl-C stops the platform and the simulated devices; data stays in the data dir. A new secret: npx medtrust enroll-token create --device DEMO-0001');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      } finally {
        await sim?.stop();
        await p.stop();
      }
    });
}

/**
 * The simulated hospital: an ICU fleet factory-provisioned and claimed by the hospital, onboarded
 * over EST and reporting over MQTT with a few minutes of history; patients on some devices; a
 * scripted desaturation and hypoglycaemia; one pump on the vulnerable firmware; and a stuck key.
 */
async function startHospital(p: Platform, o: { count: number; seed: string; backfillMs: number; estUrl: string; mqttUrl: string | undefined; httpUrl: string; caPem: string; output: CliContext['output'] }): Promise<{ sim: { stop(): Promise<void> }; lines: string[] }> {
  const s = p.services;
  if (!o.mqttUrl) throw new CoreError('REQUEST_INVALID', 'the demo runs the embedded MQTT broker; unset MEDTRUST_MQTT_URL');
  const dir = join(s.config.dataDir, 'demo');
  const hospital = await setUpHospital(p, dir);
  const vulnIds = await importVulnerabilities(p);
  const profile = simProfile('icu');
  const fleetDir = join(dir, 'fleet');
  // The first pump leaves the factory on the old firmware; the others on the current one.
  const bundles = await provisionFleet(p, { dir: fleetDir, count: o.count, profile, tenantId: await s.tenants.ensureOperator(), firmwareOf: (kind, i) => (kind === 'infusion-pump' && i === profile.mix.indexOf('infusion-pump') ? VULNERABLE_PUMP_FIRMWARE : DEVICE_MODELS[kind].firmwareVersion) });
  const firmware = new Map<string, string>();
  for (const b of bundles) {
    // The hospital claims its devices (docs/device-lifecycle.md): that authorises onboarding.
    const d = await s.devices.get(b.id);
    if (d.tenantId !== hospital.tenantId) await s.devices.assign(b.id, hospital.tenantId, null, 'demo');
    firmware.set(b.serial, d.firmwareVersion ?? DEVICE_MODELS[kindOfModel(b.model) ?? 'infusion-pump'].firmwareVersion);
  }
  const of = (kind: SimDeviceKind) => bundles.filter((b) => kindOfModel(b.model) === kind);
  const [monitor1, monitor2] = of('patient-monitor');
  const glucose = of('glucose-monitor')[0];
  const vulnerable = of('infusion-pump').find((b) => firmware.get(b.serial) === VULNERABLE_PUMP_FIRMWARE);
  const stuck = of('infusion-pump').find((b) => b !== vulnerable);
  if (!monitor1 || !glucose || !stuck) throw new CoreError('REQUEST_INVALID', 'the fleet needs a monitor, a glucose monitor and two pumps: raise --devices');
  const startMs = Date.now() - o.backfillMs;
  const bound = await admitPatients(p, hospital.tenantId, [
    { mrn: 'DEMO-1001', family: 'Okafor', given: 'Ada', birthDate: '1956-03-14', deviceIds: [monitor1.id, stuck.id] },
    { mrn: 'DEMO-1002', family: 'Lindqvist', given: 'Erik', birthDate: '1971-09-02', deviceIds: [glucose.id] },
    { mrn: 'DEMO-1003', family: 'Moreau', given: 'Claire', birthDate: '1988-12-24', deviceIds: monitor2 ? [monitor2.id] : [] },
  ], startMs - 60_000);

  // Pumps pin the command-signing key at provisioning (docs/clinical-commands.md).
  const commandKeyPem = await (await fetch(`${o.httpUrl}/pki/command-signing-key.pem`)).text();
  const running = await startSimulation({
    bundles, profile, seed: o.seed, estUrl: o.estUrl, mqttUrl: o.mqttUrl, caPem: o.caPem, dir: fleetDir, backfillMs: o.backfillMs, output: o.output, commandKeyPem,
    firmwareOf: (i) => firmware.get(bundles[i]!.serial),
    prepare: (fleet) => {
      const at = (b: FleetBundle) => fleet.devices.find((d) => d.serial === b.serial)!;
      at(monitor1).trigger('desaturation', startMs + 30_000);
      at(glucose).trigger('hypoglycaemia', startMs + 30_000);
      // A live one a minute from now, for whoever watches the dashboard.
      if (monitor2) at(monitor2).trigger('desaturation', Date.now() + 60_000);
      const pump = at(stuck).model;
      if (pump.kind === 'infusion-pump') pump.m.program('Heparin', 10, 250); // 100 units/mL: 1000 units/h
    },
  });
  // The platform checks a rate change against the pump's reported state: wait for it.
  const deadline = Date.now() + 30_000;
  while (!(await s.db.selectFrom('telemetry_message').select('seq').where('device_id', '=', stuck.id).where('kind', '=', 'infusion').limit(1).executeTakeFirst())) {
    if (Date.now() > deadline) throw new Error(`pump ${stuck.serial} reported no infusion status in 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const refusal = await pressStuckKey({ httpUrl: o.httpUrl, token: hospital.clinicianToken, deviceId: stuck.id, runningDose: 1000 });
  // What the clinician meant: 1200 units/h, inside the limits; signed, sent, verified and run by the pump.
  const meant = await changeRate({ httpUrl: o.httpUrl, token: hospital.clinicianToken, deviceId: stuck.id, dose: 1200, timeoutMs: 15_000 });
  const kinds = (k: SimDeviceKind, name: string): string => `${of(k).length} ${name}${of(k).length === 1 ? '' : 's'}`;
  const lines = [
    `Simulated hospital "${DEMO_HOSPITAL}" (tenant ${hospital.tenantId}), ICU profile, seed ${o.seed}:`,
    `  devices:          ${bundles.length} (${kinds('infusion-pump', 'infusion pump')}, ${kinds('patient-monitor', 'patient monitor')}, ${kinds('glucose-monitor', 'glucose monitor')}), IDevID -> EST -> MQTT ${o.mqttUrl}; bundles and queues in ${fleetDir}`,
    `  history:          ${Math.round(o.backfillMs / 60_000)} min recorded before the platform came up, replayed with original timestamps`,
    `  patients:         3 (MRN DEMO-1001..1003), ${bound} new device bindings`,
    `  clinician token:  ${hospital.clinicianTokenFile}  (patients, alerts, commands of the hospital)`,
    `  dashboard logins: ${hospital.loginsFile}`,
    `  alerts:           GET /api/v1/alerts (desaturation on ${monitor1.serial}, hypoglycaemia on ${glucose.serial}${monitor2 ? `, a live desaturation on ${monitor2.serial} in a minute` : ''})`,
    `  vulnerable:       ${PUMP_MODEL} firmware ${VULNERABLE_PUMP_FIRMWARE} on ${vulnerable?.serial ?? '(none)'}${vulnerable ? ` (${vulnerable.id})` : ''}: ${vulnIds.join(', ') || 'none matched'}  (GET /api/v1/vulnerabilities)`,
    `  stuck key:        heparin 1000 -> 10000 units/h on ${stuck.serial} (${stuck.id}): ${refusal.status} ${refusal.code ?? ''}  (GET /api/v1/devices/${stuck.id}/commands)`,
    `  then as meant:    heparin 1000 -> 1200 units/h: ${meant.status} ${meant.commandStatus} (command ${meant.commandId ?? '-'}, signed, verified and run by the pump)`,
  ];
  return { sim: running, lines };
}
