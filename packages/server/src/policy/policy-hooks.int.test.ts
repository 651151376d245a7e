// The issuance and command hooks as the platform wires them: IssuanceService.issueLdevid asks the
// policy engine before signing, CommandService.request before checking and signing. Real platform
// services (CA hierarchy, registry, clinical commands) on both dialects.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { isMedTrustError } from '@medtrust/core';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import type { Device } from '../devices/index.ts';
import { loadConfig, Platform } from '../index.ts';

const example = (name: string): string => readFileSync(join(import.meta.dirname, 'examples', name), 'utf8');
const code = (e: unknown): string => (isMedTrustError(e) ? e.code : String(e));

type Alg = { name: 'ECDSA'; namedCurve: 'P-256'; hash: 'SHA-256' } | { name: 'RSASSA-PKCS1-v1_5'; modulusLength: number; publicExponent: Uint8Array; hash: 'SHA-256' };
const ec: Alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const rsa = (bits: number): Alg => ({ name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' });

async function csrFor(deviceId: string, alg: Alg): Promise<Buffer> {
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${deviceId}`, keys, signingAlgorithm: alg });
  return Buffer.from(csr.rawData);
}

// RSA generation is slow: one CSR body per size, made once per file (the CN is checked against the registry only by EST).
const rsaKeys = new Map<number, CryptoKeyPair>();
async function rsaCsr(deviceId: string, bits: number): Promise<Buffer> {
  let keys = rsaKeys.get(bits);
  if (!keys) rsaKeys.set(bits, (keys = await webcrypto.subtle.generateKey(rsa(bits), true, ['sign', 'verify'])));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${deviceId}`, keys, signingAlgorithm: rsa(bits) });
  return Buffer.from(csr.rawData);
}

for (const dialect of TEST_DIALECTS) {
  describe(`policy hooks wired in the platform (${dialect})`, () => {
    let t: TestDatabase;
    let p: Platform;
    let operator = '';
    let hospital = '';
    let n = 0;
    const sent: string[] = [];

    /** A registered device; with `ldevid` it gets a P-256 LDevID and is moved to `state`. */
    async function device(state: 'manufactured' | 'active' | 'quarantined'): Promise<Device> {
      const s = p.services;
      n += 1;
      const d = await s.devices.create({ serial: `HOOK-${n}`, model: 'PumpX', hardwareRevision: 'A', tenantId: hospital }, 'test');
      if (state === 'manufactured') return d;
      await s.issuer.issueLdevid({ deviceId: d.id, csrDer: await csrFor(d.id, ec), actor: 'test' });
      let cur = d;
      for (const to of ['enrolled', 'active', 'quarantined'] as const) {
        if (cur.state === state) break;
        cur = await s.devices.transition(d.id, to, 'test');
      }
      return cur;
    }

    const decisions = (deviceId: string) => p.services.db.selectFrom('policy_decision').select(['rule', 'trigger', 'policy_name']).where('device_id', '=', deviceId).execute();
    const certificates = async (deviceId: string) => (await p.services.db.selectFrom('certificate').select('serial').where('device_id', '=', deviceId).execute()).length;

    before(async () => {
      t = await createTestDatabase(dialect);
      const env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) };
      p = await Platform.open({ config: loadConfig(env) });
      operator = (await p.init()).operatorTenantId;
      hospital = await p.services.tenants.create({ kind: 'customer', name: 'Hook Hospital' });
      // No broker in this test: signed commands are captured where the gateway would publish them.
      p.services.clinical.bindDeviceSender(async (deviceId, suffix) => void sent.push(`${deviceId}/${suffix}`));
    });
    after(async () => {
      await p.stop();
      await t.close();
    });

    describe('when key-strength.yaml is active', () => {
      it('refuses an LDevID for an RSA-2048 key, records the rule and signs nothing; RSA-3072 and P-256 pass', async () => {
        const s = p.services;
        const policy = await s.policies.store.save(operator, s.policies.parser.parseText(example('key-strength.yaml')), 'test');
        const d = await device('manufactured');
        await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: await rsaCsr(d.id, 2048), actor: 'test' }), (e) => code(e) === 'POLICY_DENIED');
        assert.equal(await certificates(d.id), 0, 'nothing was signed');
        assert.deepEqual(await decisions(d.id), [{ rule: 'rsa-below-3072', trigger: 'certificate.issuance', policy_name: 'key-strength' }]);
        const audit = await s.db.selectFrom('audit_entry').select(['outcome', 'details']).where('action', '=', 'policy.decision').where('target', '=', `device:${d.id}`).execute();
        assert.equal(audit.length, 1);
        assert.equal(audit[0]!.outcome, 'denied');
        assert.match(String(audit[0]!.details), /rsa-below-3072/);
        // The same key state again: still refused, recorded once (idempotent decisions).
        await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: await rsaCsr(d.id, 2048), actor: 'test' }), (e) => code(e) === 'POLICY_DENIED');
        assert.equal((await decisions(d.id)).length, 1);
        await s.issuer.issueLdevid({ deviceId: d.id, csrDer: await rsaCsr(d.id, 3072), actor: 'test' });
        const d2 = await device('manufactured');
        await s.issuer.issueLdevid({ deviceId: d2.id, csrDer: await csrFor(d2.id, ec), actor: 'test' });
        assert.equal(await certificates(d.id), 1);
        // Disabled (a new version): the built-in key policy alone decides again.
        await s.policies.store.disable(operator, policy.id, 'test');
        const d3 = await device('manufactured');
        await s.issuer.issueLdevid({ deviceId: d3.id, csrDer: await rsaCsr(d3.id, 2048), actor: 'test' });
        assert.equal(await certificates(d3.id), 1);
      });
    });

    describe('when block-commands-quarantined.yaml is active', () => {
      const command = (deviceId: string, kind: 'infusion.change-rate' | 'infusion.stop' = 'infusion.change-rate') => p.services.clinical.commands.request({
        tenantScope: hospital, actor: 'user:nurse', deviceId, careArea: 'ICU', command: kind === 'infusion.stop' ? { kind } : { kind, dose: 100 },
      });

      it('without the policy, the built-in floor refuses a quarantined pump (no decision recorded)', async () => {
        const q = await device('quarantined');
        await assert.rejects(command(q.id), (e) => code(e) === 'DEVICE_NOT_COMMANDABLE');
        assert.deepEqual(await decisions(q.id), []);
      });

      it('refuses a command to a quarantined pump with POLICY_DENIED, stores and audits the refusal with the rule, sends nothing', async () => {
        const s = p.services;
        const policy = await s.policies.store.save(hospital, s.policies.parser.parseText(example('block-commands-quarantined.yaml')), 'test');
        const q = await device('quarantined');
        await assert.rejects(command(q.id), (e) => code(e) === 'POLICY_DENIED' && (e as { details?: { rule?: string } }).details?.rule === 'device-not-active');
        const [row] = await s.clinical.commands.list(hospital, q.id);
        assert.equal(row?.status, 'refused');
        assert.equal(row?.refusalCode, 'POLICY_DENIED');
        assert.deepEqual(await decisions(q.id), [{ rule: 'device-not-active', trigger: 'command.request', policy_name: 'block-commands-quarantined' }]);
        const refused = await s.db.selectFrom('audit_entry').select('details').where('action', '=', 'command.refused').where('target', '=', `command:${row.id}`).executeTakeFirstOrThrow();
        assert.match(String(refused.details), /device-not-active/);
        assert.deepEqual(sent, []);
        // Stopping an infusion is never blocked by a policy: the stop is signed and sent.
        const stop = await command(q.id, 'infusion.stop');
        assert.equal(stop.status, 'issued');
        assert.deepEqual(sent, [`${q.id}/commands`]);
        // An active pump passes the policy and reaches the clinical checks (no drug library here).
        const a = await device('active');
        await assert.rejects(command(a.id), (e) => code(e) === 'NO_DRUG_LIBRARY');
        assert.deepEqual(await decisions(a.id), []);
        await s.policies.store.disable(hospital, policy.id, 'test');
      });

      it('refuses at approval a held command whose pump was quarantined while it waited (policy, then the floor)', async () => {
        const s = p.services;
        await s.clinical.drugLibraries.import(hospital, readFileSync(join(import.meta.dirname, '..', 'clinical', 'fixtures', 'icu-drug-library.csv'), 'utf8'), 'csv', 'user:pharmacist');
        // A heparin dose above the soft limit with an override waits for a second clinician (ISMP double check).
        const held = async (deviceId: string) => s.clinical.commands.request({ tenantScope: hospital, actor: 'user:nurse1', deviceId, careArea: 'ICU', command: { kind: 'infusion.program', drug: 'Heparin', dose: 2500 }, overrideReason: 'per protocol' });
        const policy = await s.policies.store.save(hospital, s.policies.parser.parseText(example('block-commands-quarantined.yaml')), 'test');
        const a = await device('active');
        const cmd = await held(a.id);
        assert.equal(cmd.status, 'pending-approval');
        await s.devices.transition(a.id, 'quarantined', 'test');
        const before = sent.length;
        await assert.rejects(s.clinical.commands.approve(hospital, cmd.id, 'user:nurse2'), (e) => code(e) === 'POLICY_DENIED');
        assert.equal((await s.clinical.commands.get(hospital, cmd.id)).refusalCode, 'POLICY_DENIED');
        assert.deepEqual((await decisions(a.id)).map((d) => d.rule), ['device-not-active']);
        await s.policies.store.disable(hospital, policy.id, 'test');
        // Without the policy the built-in floor refuses the same way.
        const b = await device('active');
        const cmd2 = await held(b.id);
        await s.devices.transition(b.id, 'quarantined', 'test');
        await assert.rejects(s.clinical.commands.approve(hospital, cmd2.id, 'user:nurse2'), (e) => code(e) === 'DEVICE_NOT_COMMANDABLE');
        assert.equal((await s.clinical.commands.get(hospital, cmd2.id)).status, 'refused');
        assert.equal(sent.length, before, 'nothing was signed or sent');
        // An active pump's held command is still approved and sent.
        const c = await device('active');
        const cmd3 = await held(c.id);
        assert.equal((await s.clinical.commands.approve(hospital, cmd3.id, 'user:nurse2')).status, 'issued');
        assert.equal(sent.length, before + 1);
      });
    });
  });
}
