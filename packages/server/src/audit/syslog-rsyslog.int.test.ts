import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { formatEntry } from './audit-export.ts';
import { DbAuditLog } from './audit-log.ts';
import { type AuditEntryRow, entryPages } from './entry-pages.ts';

// The syslog export read by a real SIEM-side receiver: rsyslogd (RFC 5424 parser, mmpstrucdata
// for the structured data) on a loopback TCP port, writing the fields it parsed to a file.
const rsyslogd = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('syslog export read by rsyslogd', { skip: rsyslogd ? false : 'rsyslogd is not installed (apt-get install rsyslog)' }, () => {
  let t: TestDatabase;
  let daemon: ChildProcess | undefined;
  let port: number;
  let out: string;

  before(async () => {
    t = await createTestDatabase('sqlite');
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    port = await freePort();
    out = join(t.dataDir, 'received.log');
    const conf = join(t.dataDir, 'rsyslog.conf');
    writeFileSync(conf, [
      `global(workDirectory="${t.dataDir}")`,
      'module(load="imtcp")',
      'module(load="mmpstrucdata")',
      'template(name="fields" type="string" string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%$!rfc5424-sd%|%msg%\\n")',
      `input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="r")`,
      `ruleset(name="r") { action(type="mmpstrucdata") action(type="omfile" file="${out}" template="fields") }`,
    ].join('\n'));
    execFileSync(rsyslogd!, ['-N1', '-f', conf], { stdio: 'ignore' });
    daemon = spawn(rsyslogd!, ['-n', '-f', conf, '-i', join(t.dataDir, 'rsyslog.pid')], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const up = await new Promise<boolean>((r) => createConnection(port, '127.0.0.1').once('connect', function (this: Socket) { this.end(); r(true); }).once('error', () => r(false)));
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    await t?.close();
  });

  it('parses every line as RFC 5424 and gets back each field and SD-PARAM', async () => {
    const log = new DbAuditLog({ db: t.db, dialect: 'sqlite', clock: new ManualClock(Date.UTC(2026, 10, 23, 3, 4, 5, 678)) });
    await log.appendMany([
      { actor: 'user:usr_1', action: 'access.login.failed', target: 'user:usr_1', tenantId: 'ten_a', outcome: 'denied', details: { ip: '127.0.0.1' } },
      { actor: 'cli "quoted" [bracket] back\\slash', action: 'access.tenant.created', target: 'tenant:ten_b', details: { name: 'Ünïcode Hôpital' } },
      { actor: 'system', action: 'pki.certificate.issued.with.a.very.long.action.name', details: {} },
    ]);
    const host = { hostname: 'node-1', procId: '4242' };
    const rows: AuditEntryRow[] = [];
    for await (const e of entryPages(t.db)) rows.push(e);
    const lines = rows.map((e) => formatEntry('syslog', e, host));
    await new Promise<void>((resolve, reject) => {
      const c = createConnection(port, '127.0.0.1', () => c.end(lines.map((l) => `${l}\n`).join(''), resolve));
      c.once('error', reject);
    });
    let received: string[] = [];
    for (let i = 0; i < 100 && received.length < rows.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      received = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    }
    assert.equal(received.length, rows.length, received.join('\n'));
    received.forEach((line, i) => {
      const e = rows[i]!;
      const [pri, ts, hostname, app, procId, msgId, ...rest] = line.split('|');
      const msg = rest.pop();
      const sd = JSON.parse(rest.join('|')) as Record<string, Record<string, string>>;
      assert.equal(Number(pri), 13 * 8 + (e.outcome === 'success' ? 6 : 4));
      assert.equal(new Date(ts!).getTime(), e.at);
      assert.deepEqual([hostname, app, procId, msgId], ['node-1', 'medtrust', '4242', e.action.slice(0, 32)]);
      const p = sd['medtrust@32473']!;
      assert.equal(p.seq, String(e.seq));
      assert.equal(p.actor, e.actor, 'SD-PARAM escaping round-trips through rsyslog');
      assert.equal(p.outcome, e.outcome);
      assert.equal(p.target, e.target ?? undefined);
      assert.equal(p.tenant, e.tenant_id ?? undefined);
      assert.equal(p.hash, Buffer.from(e.hash).toString('hex'));
      assert.deepEqual(JSON.parse(msg!), JSON.parse(e.details));
    });
  });
});
