import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Platform } from '@medtrust/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

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

/** `medtrust demo`: the platform on its embedded defaults, one sample device, and how to enrol it. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program.command('demo').description('start the platform with a sample device and print how to enrol it over EST (Ctrl-C stops)').action(async () => {
    const p = await ctx.openPlatform();
    const listening = await p.start();
    try {
      const s = p.services;
      const init = await p.init();
      const device = await sampleDevice(p);
      const secret = await s.enrollTokens.create({ deviceId: device.id, createdBy: 'demo' });
      const rootFile = join(s.config.dataDir, 'est-root.pem');
      writeFileSync(rootFile, (await s.cas.get('root')).certificatePem);
      // Clients reach the listener by name; the server certificate names localhost.
      const estUrl = listening.httpsUrl.replace('127.0.0.1', 'localhost');
      const o = ctx.output;
      o.out(`MedTrust demo (data dir ${s.config.dataDir})`);
      o.out(`  dashboard / REST API: ${listening.httpUrl}  (OpenAPI at ${listening.httpUrl}/docs)`);
      o.out(`  admin API token:      ${init.adminTokenPath}  (send as Authorization: Bearer <token>)`);
      o.out(`  EST (RFC 7030):       ${estUrl}/.well-known/est/`);
      o.out(`  sample device:        ${device.id} (model ${DEMO_MODEL}, serial ${device.serial}, state ${device.state})`);
      o.out(`  one-time secret:      ${secret.username} / ${secret.password} (until ${new Date(secret.expiresAt).toISOString()})`);
      o.out('');
      o.out('Enrol the sample device with openssl and curl (docs/est.md explains each step):');
      o.out('');
      for (const line of enrolInstructions({ estUrl, rootFile, username: secret.username, password: secret.password, deviceId: device.id, idevidCert: device.idevidCert, idevidKey: device.idevidKey })) o.out(line);
      o.out('');
      o.out('Ctrl-C stops the platform; data stays in the data dir. A new secret: npx medtrust enroll-token create --device DEMO-0001');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    } finally {
      await p.stop();
    }
  });
}
