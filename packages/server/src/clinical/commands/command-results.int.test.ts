import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { TenantService } from '../../access/index.ts';
import { DbAuditLog } from '../../audit/index.ts';
import { migrateToLatest } from '../../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../db/testing.ts';
import { allMigrations } from '../../migrations.ts';
import { CommandResults } from './command-results.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`CommandResults (${dialect})`, () => {
    let t: TestDatabase;
    let results: CommandResults;
    let hospital: string;
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 6, 0, 0));
    const pump = () => ({ deviceId: 'dev_pump', tenantId: hospital });
    const insert = async (id: string, deviceId = 'dev_pump', status: 'issued' | 'executed' = 'issued') => {
      const now = clock.nowMs();
      await t.db.insertInto('device_command').values({ id, tenant_id: hospital, device_id: deviceId, kind: 'infusion.program', request: '{}', care_area: 'ICU', requested_by: 'user:n', override_reason: null, confirm_rate_jump: 0, second_approver: null, status, refusal_code: null, findings: '[]', drug_library_version: 1, signed: '{}', nonce: `n-${id}`, issued_at: now, expires_at: now + 60_000, acked_at: null, ack_detail: null, created_at: now }).execute();
    };
    const status = async (id: string) => (await t.db.selectFrom('device_command').select(['status', 'ack_detail']).where('id', '=', id).executeTakeFirstOrThrow());
    const audits = async (action: string) => t.db.selectFrom('audit_entry').select(['target', 'outcome', 'details']).where('action', '=', action).execute();
    const report = (o: object) => results.onPayload(pump(), Buffer.from(JSON.stringify({ v: 1, at: clock.nowMs(), ...o })));

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const tenants = new TenantService({ db: t.db, clock });
      await tenants.ensureOperator();
      hospital = await tenants.create({ kind: 'customer', name: 'St Elsewhere' });
      results = new CommandResults({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect, clock }), clock });
    });
    after(() => t.close());

    it('moves a command through accepted and executed, auditing each report', async () => {
      await insert('cmd_a');
      await report({ commandId: 'cmd_a', result: 'accepted' });
      assert.equal((await status('cmd_a')).status, 'acknowledged');
      await report({ commandId: 'cmd_a', result: 'executed' });
      assert.deepEqual(await status('cmd_a'), { status: 'executed', ack_detail: 'executed' });
      assert.equal((await audits('command.device-executed')).length, 1);
    });

    it('keeps executed when accepted and executed arrive together (the later report re-reads and applies)', async () => {
      for (let i = 0; i < 5; i++) {
        await insert(`cmd_race${i}`);
        await Promise.all([report({ commandId: `cmd_race${i}`, result: 'accepted' }), report({ commandId: `cmd_race${i}`, result: 'executed' })]);
        assert.equal((await status(`cmd_race${i}`)).status, 'executed');
      }
    });

    it('records a verified refusal as rejected with its code; a replay, forgery or late report changes nothing but is audited', async () => {
      await insert('cmd_b');
      await report({ commandId: 'cmd_b', result: 'refused', code: 'COMMAND_LIMIT_EXCEEDED' });
      assert.deepEqual(await status('cmd_b'), { status: 'rejected', ack_detail: 'COMMAND_LIMIT_EXCEEDED' });
      await insert('cmd_c');
      await report({ commandId: 'cmd_c', result: 'refused', code: 'COMMAND_SIGNATURE_INVALID' });
      assert.equal((await status('cmd_c')).status, 'issued', 'an unauthenticated id cannot reject a genuine command');
      await report({ commandId: 'cmd_a', result: 'refused', code: 'COMMAND_REPLAYED' });
      await report({ commandId: 'cmd_a', result: 'accepted' });
      assert.equal((await status('cmd_a')).status, 'executed');
      const refused = await audits('command.device-refused');
      assert.equal(refused.length, 3);
      assert.ok(refused.every((r) => r.outcome === 'denied'));
    });

    it('ignores a report on another device\'s command (audited against the reporting device) and audits malformed reports', async () => {
      await insert('cmd_other', 'dev_other');
      await report({ commandId: 'cmd_other', result: 'refused', code: 'COMMAND_EXPIRED' });
      assert.equal((await status('cmd_other')).status, 'issued');
      const last = (await audits('command.device-refused')).at(-1)!;
      assert.equal(last.target, 'device:dev_pump');
      await results.onPayload(pump(), Buffer.from('{"v":1,"result":"exploded"}'));
      await results.onPayload(pump(), Buffer.from('garbage'));
      assert.equal((await audits('command.result-malformed')).length, 2);
    });

    it('expires issued commands nobody acknowledged, once past expiry and skew', async () => {
      await insert('cmd_late');
      assert.equal(await results.expireDue(), 0);
      clock.advance(95_000);
      const n = await results.expireDue();
      assert.ok(n >= 1);
      assert.equal((await status('cmd_late')).status, 'expired');
      assert.equal((await status('cmd_a')).status, 'executed', 'finished commands are left alone');
      await report({ commandId: 'cmd_late', result: 'accepted' });
      assert.equal((await status('cmd_late')).status, 'expired', 'a report after expiry does not revive it');
    });
  });
}
