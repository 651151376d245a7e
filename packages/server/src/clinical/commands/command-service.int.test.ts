import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertWithinCarriedLimits, commandKeyId, ManualClock, MemoryNonceRegistry, type SignedCommand, verifySignedCommand } from '@medtrust/core';
import { TenantService } from '../../access/index.ts';
import { DbAuditLog } from '../../audit/index.ts';
import { migrateToLatest } from '../../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../db/testing.ts';
import { allMigrations } from '../../migrations.ts';
import { DrugLibraryService } from '../drug-library/drug-library-service.ts';
import { type CommandDeviceDirectory, CommandService } from './command-service.ts';

const csv = readFileSync(new URL('../fixtures/icu-drug-library.csv', import.meta.url), 'utf8');
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = { alg: 'ES256' as const, keyId: commandKeyId(key.publicKey), sign: (d: Buffer) => sign('sha256', d, key.privateKey) };

for (const dialect of TEST_DIALECTS) {
  describe(`CommandService (${dialect})`, () => {
    let t: TestDatabase;
    let hospital: string;
    let other: string;
    let commands: CommandService;
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 3, 0, 0));
    const sent: Array<{ deviceId: string; signed: SignedCommand }> = [];
    const devices = new Map<string, { tenantId: string; state: string }>();
    // Heparin 100 units/mL running at 1.8 mL/h = 180 units/h.
    const pumps = new Map<string, { state: 'infusing' | 'idle'; drug?: string; concentration?: number; rateMlPerH?: number }>();
    const directory: CommandDeviceDirectory = { device: async (id) => devices.get(id), pumpStatus: async (id) => pumps.get(id) };

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const tenants = new TenantService({ db: t.db, clock });
      await tenants.ensureOperator();
      hospital = await tenants.create({ kind: 'customer', name: 'St Elsewhere' });
      other = await tenants.create({ kind: 'customer', name: 'County General' });
      const audit = new DbAuditLog({ db: t.db, dialect, clock });
      const libraries = new DrugLibraryService({ db: t.db, audit, clock });
      await libraries.import(hospital, csv, 'csv', 'user:pharmacist');
      commands = new CommandService({ db: t.db, audit, clock, libraries, devices: directory, signer: async () => signer, transport: { send: async (deviceId, signed) => void sent.push({ deviceId, signed }) } });
      devices.set('dev_pump', { tenantId: hospital, state: 'active' });
      devices.set('dev_q', { tenantId: hospital, state: 'quarantined' });
      pumps.set('dev_pump', { state: 'infusing', drug: 'Heparin', concentration: 100, rateMlPerH: 1.8 });
    });
    after(() => t.close());

    const req = (over: Partial<Parameters<CommandService['request']>[0]> = {}) => ({ tenantScope: hospital, actor: 'user:nurse1', deviceId: 'dev_pump', careArea: 'ICU', command: { kind: 'infusion.change-rate', dose: 1800 } as const, ...over });

    it('stops a heparin rate keyed at 10x the running rate, and records the refusal', async () => {
      await assert.rejects(commands.request(req()), { code: 'RATE_JUMP_CONFIRMATION_REQUIRED' });
      const [last] = await commands.list(hospital, 'dev_pump');
      assert.equal(last!.status, 'refused');
      assert.equal(last!.refusalCode, 'RATE_JUMP_CONFIRMATION_REQUIRED');
      assert.equal(sent.length, 0, 'nothing reached the pump');
    });

    it('issues an ordinary change signed, fresh and bound to the device; the device verifies, re-checks and refuses a replay', async () => {
      const v = await commands.request(req({ command: { kind: 'infusion.change-rate', dose: 360 } }));
      assert.equal(v.status, 'issued');
      const { signed } = sent.at(-1)!;
      const nonces = new MemoryNonceRegistry();
      const env = verifySignedCommand(signed, { publicKey: key.publicKey, deviceId: 'dev_pump', nowMs: clock.nowMs(), nonces });
      assert.equal(env.params.rateMlPerH, 3.6);
      assertWithinCarriedLimits(env);
      assert.throws(() => verifySignedCommand(signed, { publicKey: key.publicKey, deviceId: 'dev_pump', nowMs: clock.nowMs(), nonces }), { code: 'COMMAND_REPLAYED' });
      assert.throws(() => verifySignedCommand(signed, { publicKey: key.publicKey, deviceId: 'dev_pump', nowMs: clock.nowMs() + 10 * 60_000, nonces: new MemoryNonceRegistry() }), { code: 'COMMAND_EXPIRED' });
      await commands.onAck('dev_pump', { commandId: v.id, result: 'accepted' });
      assert.equal((await commands.get(hospital, v.id)).status, 'acknowledged');
    });

    it('holds a high-alert soft-limit override for a second clinician, not the requester', async () => {
      const before = sent.length;
      pumps.set('dev_pump', { state: 'idle' });
      const held = await commands.request(req({ command: { kind: 'infusion.program', drug: 'Heparin', dose: 2500 }, overrideReason: 'per anticoagulation protocol' }));
      assert.equal(held.status, 'pending-approval');
      await assert.rejects(commands.approve(hospital, held.id, 'user:nurse1'), { code: 'COMMAND_STATE_INVALID' });
      await assert.rejects(commands.approve(other, held.id, 'user:nurse2'), { code: 'COMMAND_NOT_FOUND' });
      assert.equal(sent.length, before);
      const issued = await commands.approve(hospital, held.id, 'user:nurse2');
      assert.equal(issued.status, 'issued');
      assert.equal(issued.secondApprover, 'user:nurse2');
      assert.equal(sent.length, before + 1);
      await assert.rejects(commands.approve(hospital, held.id, 'user:nurse3'), { code: 'COMMAND_STATE_INVALID' });
    });

    it('refuses beyond a hard limit, to a quarantined device, and to another tenant\'s device', async () => {
      await assert.rejects(commands.request(req({ command: { kind: 'infusion.program', drug: 'Heparin', dose: 5000 }, overrideReason: 'x'.repeat(10), confirmRateJump: true })), { code: 'LIMIT_HARD_EXCEEDED' });
      await assert.rejects(commands.request(req({ deviceId: 'dev_q', command: { kind: 'infusion.change-rate', dose: 200 } })), { code: 'DEVICE_NOT_COMMANDABLE' });
      await assert.rejects(commands.request(req({ tenantScope: other })), { code: 'COMMAND_NOT_FOUND' });
      await assert.rejects(commands.request(req({ deviceId: 'dev_nope' })), { code: 'COMMAND_NOT_FOUND' });
    });

    it('a device refuses a command whose carried limits the parameters break', () => {
      assert.throws(() => assertWithinCarriedLimits({ v: 1, id: 'c', deviceId: 'd', kind: 'infusion.program', params: { dose: 9000 }, nonce: 'n'.repeat(22), issuedAtMs: 0, expiresAtMs: 1, limits: { dose: { hardMax: 3000 } } }), { code: 'COMMAND_LIMIT_EXCEEDED' });
    });
  });
}
