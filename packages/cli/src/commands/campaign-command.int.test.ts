import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, Platform } from '@medtrust/server';
import { main } from '../main.ts';
import type { Output } from '../output.ts';

function capture(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, isTty: false, out: (l) => void lines.push(l), err: (l) => void errors.push(l) };
}

describe('medtrust campaign and tags (SQLite data dir)', () => {
  let dir: string;
  let env: Record<string, string>;
  const devices: string[] = [];
  const run = async (...args: string[]) => {
    const o = capture();
    const code = await main(['node', 'medtrust', ...args], env, o);
    return { code, o, json: () => JSON.parse(o.lines.at(-1) ?? 'null') as Record<string, unknown> };
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-cli-campaign-'));
    env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_MASTER_KEY: 'cli test master key 0123', MEDTRUST_LOG_LEVEL: 'error' };
    const p = await Platform.open({ config: loadConfig(env) });
    try {
      await p.init();
      const tenantId = await p.services.tenants.ensureOperator();
      for (let i = 0; i < 4; i++) devices.push((await p.services.devices.create({ serial: `CLI-${i}`, model: 'pump-cli', hardwareRevision: 'A', tenantId }, 'test')).id);
      for (const id of devices) await p.services.db.updateTable('device').set({ state: 'active' }).where('id', '=', id).execute();
    } finally {
      await p.stop();
    }
    writeFileSync(join(dir, 'fw.bin'), 'pump-cli 2.0.0');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('tags devices, starts an approval-gated campaign by tag, and approves its next phase', async () => {
    for (const id of devices.slice(0, 2)) assert.equal((await run('tags', 'set', id, 'ward-3', 'pilot')).code, 0);
    const got = await run('tags', 'get', devices[0]!, '--json');
    assert.deepEqual(got.json(), { tags: ['pilot', 'ward-3'] });
    const bad = await run('tags', 'set', devices[0]!, 'no spaces allowed');
    assert.deepEqual([bad.code, bad.o.errors[0]?.split(':')[0]], [2, 'error DEVICE_TAG_INVALID']);
    const rel = await run('release', 'create', '--model', 'pump-cli', '--version', '2.0.0', '--file', join(dir, 'fw.bin'), '--json');
    const id = rel.json().id as string;
    const pub = await run('release', 'publish', id);
    assert.equal(pub.code, 0, pub.o.errors.join('\n'));
    const c = await run('campaign', 'create', '--release', id, '--name', 'ward 3 pilot', '--model', 'pump-cli', '--tag', 'ward-3', '--phases', '50,100', '--success', '1', '--requires-approval', '--json');
    assert.equal(c.code, 0, c.o.errors.join('\n'));
    const campaign = c.json();
    assert.deepEqual([(campaign.counts as Record<string, number>).pending, campaign.requiresApproval], [2, true]);
    const early = await run('campaign', 'approve', campaign.id as string);
    assert.deepEqual([early.code, early.o.errors[0]?.split(':')[0]], [2, 'error CAMPAIGN_STATE_INVALID']);
    // The canary device reports installed (as it would over MQTT): the campaign waits for approval.
    const p = await Platform.open({ config: loadConfig(env) });
    try {
      const canary = await p.services.db.selectFrom('campaign_device').select('device_id').where('campaign_id', '=', campaign.id as string).where('phase', '=', 0).executeTakeFirstOrThrow();
      await p.services.updates.campaigns.report(campaign.id as string, canary.device_id, 'installed');
      await p.services.updates.campaigns.evaluate(campaign.id as string);
    } finally {
      await p.stop();
    }
    assert.match((await run('campaign', 'show', campaign.id as string)).o.lines[0]!, /awaiting-approval phase 1\/2 installed 1/);
    const ok = await run('campaign', 'approve', campaign.id as string, '--json');
    assert.equal(ok.code, 0, ok.o.errors.join('\n'));
    assert.deepEqual([ok.json().state, ok.json().currentPhase], ['running', 1]);
  });
});
