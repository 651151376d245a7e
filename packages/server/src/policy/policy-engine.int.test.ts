import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMedTrustError } from '@medtrust/core';
import { TEST_DIALECTS } from '../db/testing.ts';
import { DeviceAuthenticator, RegistryDeviceDirectory } from '../gateway/index.ts';
import { PresenceService } from '../telemetry/index.ts';
import { readFeedPaths } from '../vulns/index.ts';
import { keyFacts } from './fact-source.ts';
import { createPolicyTestStack, rsaPublicKey, type PolicyTestStack } from './testing/policy-test-stack.ts';

const DAY_MS = 86_400_000;
const example = (name: string): string => readFileSync(join(import.meta.dirname, 'examples', name), 'utf8');
const FEEDS = ['kev-subset.json', 'CVE-2014-0160.json'].map((f) => join(import.meta.dirname, 'fixtures', f));

/** A CycloneDX 1.6 firmware SBOM with OpenSSL 1.0.1f (Heartbleed, KEV-listed). */
function heartbleedSbom(): string {
  return JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'openssl', version: '1.0.1f', 'bom-ref': 'openssl', cpe: 'cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*' }] });
}

async function counts(s: PolicyTestStack): Promise<Record<string, unknown>> {
  const db = s.pki.t.db;
  const n = async (table: 'policy_decision' | 'policy_device_flag' | 'audit_entry' | 'cluster_event' | 'certificate' | 'alert') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return {
    decisions: await n('policy_decision'), flags: await n('policy_device_flag'), audit: await n('audit_entry'), events: await n('cluster_event'), alerts: await n('alert'),
    revoked: (await db.selectFrom('certificate').select('serial').where('status', '=', 'revoked').execute()).length,
    states: (await db.selectFrom('device').select(['id', 'state']).orderBy('id').execute()).map((r) => `${r.id}:${r.state}`).join(','),
  };
}

function code(e: unknown): string {
  return isMedTrustError(e) ? e.code : String(e);
}

// RSA generation is slow: once per file, shared by both dialects.
let rsaKeys: { small: ReturnType<typeof rsaPublicKey>; large: ReturnType<typeof rsaPublicKey> } | undefined;
const rsa = (): NonNullable<typeof rsaKeys> => (rsaKeys ??= { small: rsaPublicKey(2048), large: rsaPublicKey(3072) });

for (const dialect of TEST_DIALECTS) {
  describe(`PolicyEngine (${dialect})`, () => {
    let s: PolicyTestStack;
    let operator = '';
    let hospitalA = '';
    let hospitalB = '';
    before(async () => {
      s = await createPolicyTestStack(dialect);
      operator = s.pki.operatorTenantId;
      hospitalA = await s.tenants.create({ kind: 'customer', name: 'A' });
      hospitalB = await s.tenants.create({ kind: 'customer', name: 'B' });
    });
    after(() => s.close());

    describe('when a KEV-listed vulnerability stays unpatched (kev-quarantine.yaml)', () => {
      it('dry-runs without changing anything, then quarantines once through the registry', async () => {
        const exposed = await s.device({ model: 'PumpX', tenantId: hospitalA, firmwareVersion: '1.0.0' });
        const patched = await s.device({ model: 'PumpX', tenantId: hospitalB, firmwareVersion: '2.0.0' });
        await s.vulns.importSbom({ model: 'PumpX', firmwareVersion: '1.0.0', text: heartbleedSbom(), actor: 'test' });
        await s.vulns.importFeed(readFeedPaths(FEEDS), 'test');
        const doc = s.parser.parseText(example('kev-quarantine.yaml'));
        const policy = await s.store.save(operator, doc, 'test');

        s.clock.advance(10 * DAY_MS);
        assert.equal(await s.engine.runScheduled({ force: true }), 0, 'not yet 30 days');

        s.clock.advance(21 * DAY_MS);
        const before = await counts(s);
        const hits = await s.engine.dryRun(doc, operator, policy.id);
        assert.deepEqual(hits.map((h) => [h.deviceId, h.rule, h.actions.map((a) => `${a.kind}:${a.outcome}`).join(' '), h.alreadyDecided]), [[exposed.id, 'kev-unpatched-30-days', 'quarantine:done notify:done', false]]);
        assert.deepEqual(await counts(s), before, 'a dry run changes nothing');

        assert.equal(await s.engine.runScheduled(), 1);
        assert.equal((await s.pki.devices.get(exposed.id)).state, 'quarantined');
        assert.equal((await s.pki.devices.get(patched.id)).state, 'active');
        const [d] = await s.decisions.list(null, { deviceId: exposed.id });
        assert.equal(d?.policyId, policy.id);
        assert.equal(d?.policyVersion, 1);
        assert.equal(d?.rule, 'kev-unpatched-30-days');
        assert.equal(d?.facts['vulns.kevMaxDaysUnpatched'], 31);
        assert.deepEqual(d?.actions.map((a) => a.outcome), ['done', 'done']);
        assert.ok(d?.reason.some((l) => l.startsWith('vulns.kevMaxDaysUnpatched gt 30: 31')));
        const audit = await s.pki.t.db.selectFrom('audit_entry').selectAll().where('action', '=', 'policy.decision').execute();
        assert.equal(audit.length, 1);
        assert.equal(audit[0]?.target, `device:${exposed.id}`);
        assert.ok(s.published.some((e) => e.kind === 'policy.notify' && e.deviceId === exposed.id && e.flag === 'update-required'));
        // A hospital sees decisions about its own devices only.
        assert.equal((await s.decisions.list(hospitalB)).length, 0);
        assert.equal((await s.decisions.list(hospitalA)).length, 1);
      });

      it('does not act twice on the same fact state, even a day later or after a manual release', async () => {
        const n = (await s.decisions.list(null)).length;
        assert.equal(await s.engine.runScheduled({ force: true }), 0);
        s.clock.advance(DAY_MS);
        assert.equal(await s.engine.runScheduled({ force: true }), 0, '32 days is the same state as 31');
        const hits = await s.engine.dryRun(s.parser.parseText(example('kev-quarantine.yaml')), operator, (await s.store.list(operator))[0]?.id);
        assert.equal(hits.length, 0, 'a quarantined device no longer matches');
        assert.equal((await s.decisions.list(null)).length, n);
      });
    });

    describe('when a model needs a minimum firmware to connect (firmware-minimum.yaml)', () => {
      it('refuses an old PumpX with POLICY_DENIED, records it once, admits others', async () => {
        await s.store.save(operator, s.parser.parseText(example('firmware-minimum.yaml')), 'test');
        const old = await s.device({ model: 'PumpX', tenantId: hospitalA, firmwareVersion: '2.3.9' });
        const current = await s.device({ model: 'PumpX', tenantId: hospitalA, firmwareVersion: '2.4.0' });
        const unknown = await s.device({ model: 'PumpX', tenantId: hospitalB });
        const monitor = await s.device({ model: 'MonitorY', tenantId: hospitalA, firmwareVersion: '1.0.0' });
        for (let i = 0; i < 2; i++) await assert.rejects(s.engine.admitConnect({ deviceId: old.id, transport: 'mqtt' }), (e) => code(e) === 'POLICY_DENIED');
        await assert.rejects(s.engine.admitConnect({ deviceId: unknown.id }), (e) => code(e) === 'POLICY_DENIED');
        await s.engine.admitConnect({ deviceId: current.id });
        await s.engine.admitConnect({ deviceId: monitor.id });
        const ds = await s.decisions.list(null, { deviceId: old.id });
        assert.equal(ds.length, 1, 'two refusals of the same state: one decision');
        assert.equal(ds[0]?.trigger, 'device.connect');
        assert.deepEqual(ds[0]?.actions.map((a) => `${a.kind}:${a.outcome}`), ['deny:done', 'force-update:done']);
        const flag = await s.pki.t.db.selectFrom('policy_device_flag').selectAll().where('device_id', '=', old.id).executeTakeFirst();
        assert.equal(flag?.flag, 'update-required');
        // After the update the same device connects.
        await s.pki.t.db.updateTable('device').set({ firmware_version: '2.4.1' }).where('id', '=', old.id).execute();
        await s.engine.admitConnect({ deviceId: old.id });
      });

      it('is asked by the gateway authenticator with the device\'s real LDevID', async () => {
        const auth = new DeviceAuthenticator({ certificates: s.pki.certificates, devices: new RegistryDeviceDirectory(s.pki.devices), clock: s.clock, admission: s.engine });
        const old = await s.device({ model: 'PumpX', tenantId: hospitalB, firmwareVersion: '2.0.0' });
        const current = await s.device({ model: 'PumpX', tenantId: hospitalB, firmwareVersion: '2.4.0' });
        const der = async (id: string) => Buffer.from((await s.pki.certificates.currentForDevice(id, 'ldevid'))?.der ?? []);
        await assert.rejects(auth.authenticate(await der(old.id)), (e) => code(e) === 'POLICY_DENIED');
        assert.equal((await auth.authenticate(await der(current.id))).deviceId, current.id);
      });

      it('stops refusing once the policy is disabled (a new version), and keeps every version', async () => {
        const [p] = (await s.store.list(operator)).filter((x) => x.name === 'firmware-minimum-pumpx');
        assert.ok(p);
        const old = await s.device({ model: 'PumpX', tenantId: hospitalA, firmwareVersion: '1.0.0' });
        await assert.rejects(s.engine.admitConnect({ deviceId: old.id }), (e) => code(e) === 'POLICY_DENIED');
        const disabled = await s.store.disable(operator, p.id, 'test');
        assert.equal(disabled.version, 2);
        await s.engine.admitConnect({ deviceId: old.id });
        assert.deepEqual((await s.store.versions(null, p.id)).map((v) => [v.version, v.enabled]), [[2, false], [1, true]]);
      });
    });

    describe('when a hospital writes a policy', () => {
      it('reaches only that hospital\'s devices, and another tenant cannot read it', async () => {
        const doc = s.parser.parseText('name: flag-all\ntrigger: { schedule: { everyMinutes: 60 } }\nrules:\n  - name: any-device\n    when: { fact: device.state, exists: true }\n    actions: [{ kind: notify, topic: inventory }]\n');
        const p = await s.store.save(hospitalB, doc, 'test');
        const hits = await s.engine.dryRun(doc, hospitalB, p.id);
        assert.ok(hits.length > 0);
        assert.ok(hits.every((h) => h.tenantId === hospitalB));
        await assert.rejects(s.store.get(hospitalA, p.id), (e) => code(e) === 'POLICY_NOT_FOUND');
        await s.store.disable(hospitalB, p.id, 'test');
      });
    });

    describe('when keys, certificates and alerts are involved', () => {
      it('refuses RSA below 3072 bits at issuance (key-strength.yaml)', async () => {
        await s.store.save(operator, s.parser.parseText(example('key-strength.yaml')), 'test');
        const d = await s.device({ model: 'MonitorY', tenantId: hospitalA, firmwareVersion: '1.0.0' });
        await assert.rejects(s.engine.checkIssuance({ deviceId: d.id, key: keyFacts(rsa().small) }), (e) => code(e) === 'POLICY_DENIED');
        await s.engine.checkIssuance({ deviceId: d.id, key: keyFacts(rsa().large) });
        await s.engine.checkIssuance({ deviceId: d.id, key: { 'cert.keyType': 'ec-p256' } });
      });

      it('flags re-enrolment 30 days before the LDevID expires (certificate-renewal.yaml)', async () => {
        const p = await s.store.save(operator, s.parser.parseText(example('certificate-renewal.yaml')), 'test');
        assert.equal(await s.engine.evaluateFleet(p), 0);
        s.clock.advance(340 * DAY_MS);
        const fired = await s.engine.evaluateFleet(p);
        assert.ok(fired > 0);
        const flags = await s.pki.t.db.selectFrom('policy_device_flag').selectAll().where('flag', '=', 'reenrol-required').execute();
        assert.equal(flags.length, fired);
        assert.equal(await s.engine.evaluateFleet(p), 0, 'idempotent');
        await s.store.disable(operator, p.id, 'test');
      });

      it('alerts and notifies when a site-a device last connected from outside its networks (network-allowlist.yaml)', async () => {
        await s.alertRules.create(hospitalA, { name: 'Unexpected network', priority: 'high', enabled: true, scope: {}, condition: { kind: 'security', event: 'unexpected-network' }, escalateAfterMs: 60_000, escalationRoles: ['hospital-admin'] }, 'test');
        const presence = new PresenceService({ db: s.pki.t.db, clock: s.clock, node: 'test-node' });
        const siteA = await s.tenants.create({ kind: 'site', name: 'A North', parentId: hospitalA });
        const siteB = await s.tenants.create({ kind: 'site', name: 'A South', parentId: hospitalA });
        // The shipped example names `site-a`; a deployment puts its own site id there.
        const p = await s.store.save(operator, s.parser.parseText(example('network-allowlist.yaml').replace('eq: site-a', `eq: ${siteA}`)), 'test');
        const inside = await s.device({ model: 'MonitorY', tenantId: hospitalA, firmwareVersion: '1.0.0', siteId: siteA });
        const outside = await s.device({ model: 'MonitorY', tenantId: hospitalA, firmwareVersion: '1.0.0', siteId: siteA });
        const elsewhere = await s.device({ model: 'MonitorY', tenantId: hospitalA, firmwareVersion: '1.0.0', siteId: siteB });
        const connect = (d: { id: string; tenantId: string }, remoteAddress: string) => presence.connected({ deviceId: d.id, tenantId: d.tenantId, transport: 'mqtt', certSerial: '01', remoteAddress });
        await connect(inside, '::ffff:10.20.3.4');
        await connect(outside, '10.20.9.9');
        await connect(elsewhere, '192.0.2.10');
        assert.equal(await s.engine.evaluateFleet(p), 0, 'every site-a device inside its networks; site-b not reached by the rule');
        s.clock.advance(60_000);
        await connect(outside, '198.51.100.7');
        const before = s.published.length;
        assert.equal(await s.engine.evaluateFleet(p), 1);
        const notices = s.published.slice(before).filter((e) => e.kind === 'policy.notify');
        assert.deepEqual(notices.map((e) => e.kind === 'policy.notify' && [e.deviceId, e.topic]), [[outside.id, 'unexpected-network']]);
        const raised = await s.alerts.list(hospitalA, {});
        assert.deepEqual(raised.map((a) => a.deviceId), [outside.id], 'one security alert, for the device outside its networks');
        const [decision] = await s.decisions.list(null, { deviceId: outside.id });
        assert.ok(decision?.reason.some((r) => r.includes('198.51.100.7')), 'the reason names the address');
        assert.equal(await s.engine.evaluateFleet(p), 0, 'the same address does not notify twice');
        await s.store.disable(operator, p.id, 'test');
      });

      it('revokes through the revocation service and alerts through AlertService on an event', async () => {
        await s.alertRules.create(hospitalA, { name: 'Cloned certificate', priority: 'high', enabled: true, scope: {}, condition: { kind: 'security', event: 'cloned-certificate' }, escalateAfterMs: 60_000, escalationRoles: ['hospital-admin'] }, 'test');
        const d = await s.device({ model: 'GlucoZ', tenantId: hospitalA, firmwareVersion: '1.0.0', state: 'enrolled' });
        await s.store.save(operator, s.parser.parseText('name: compromised\ntrigger: { event: device.state-changed }\nrules:\n  - name: glucoz-quarantined\n    when: { all: [ { fact: device.model, eq: GlucoZ }, { fact: device.state, eq: quarantined } ] }\n    actions: [ { kind: revoke, reason: keyCompromise }, { kind: alert, event: cloned-certificate } ]\n'), 'test');
        const cert = await s.pki.certificates.currentForDevice(d.id, 'ldevid');
        assert.ok(cert);
        await s.pki.devices.transition(d.id, 'quarantined', 'test');
        // The bus delivers to in-process subscribers; onEvent is what listen() calls.
        assert.equal(await s.engine.onEvent('device.state-changed', d.id), 1);
        assert.equal((await s.pki.certificates.get(cert.serial))?.status, 'revoked');
        const alerts = await s.alerts.list(hospitalA, { deviceId: d.id });
        assert.equal(alerts.length, 1);
        assert.equal(await s.engine.onEvent('device.state-changed', d.id), 0, 'same state, no second revocation');
      });
    });
  });
}
