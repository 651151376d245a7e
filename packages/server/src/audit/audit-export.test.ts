import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MedTrustError } from '@medtrust/core';
import { type entryJson, escapeSdParam, formatEntry, parseExportFormat, syslogLine } from './audit-export.ts';
import type { AuditEntryRow } from './entry-pages.ts';

// RFC 5424 §6 ABNF, transcribed: HEADER SP STRUCTURED-DATA [SP MSG].
const PRI = '<(\\d{1,3})>';
const TIMESTAMP = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,6})?(?:Z|[+-]\\d{2}:\\d{2}))';
const field = (max: number): string => `([\\x21-\\x7e]{1,${max}})`;
const SD_NAME = '[\\x21\\x23-\\x3c\\x3e-\\x5c\\x5e-\\x7e]{1,32}'; // PRINTUSASCII except = SP ] "
const PARAM_VALUE = '(?:[^"\\\\\\]]|\\\\["\\\\\\]])*';
const SD_ELEMENT = `\\[${SD_NAME}(?: ${SD_NAME}="${PARAM_VALUE}")*\\]`;
const LINE = new RegExp(`^${PRI}1 ${TIMESTAMP} ${field(255)} ${field(48)} ${field(128)} ${field(32)} ((?:${SD_ELEMENT})+|-)(?: (.*))?$`, 's');

const entry = (over: Partial<AuditEntryRow> = {}): AuditEntryRow => ({
  seq: 42, at: Date.UTC(2026, 10, 23, 1, 2, 3, 456), tenant_id: 'ten_a', actor: 'user:usr_1', action: 'access.login.failed', target: 'user:usr_1',
  outcome: 'denied', details: '{"ip":"127.0.0.1"}', prev_hash: Buffer.alloc(32, 1), hash: Buffer.alloc(32, 2), ...over,
});
const host = { hostname: 'node-1', procId: '1234' };

/** Reads the SD-PARAMs back with RFC 5424 §6.3.3 unescaping. */
function params(sd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of sd.matchAll(/ ([^=\s]+)="((?:[^"\\\]]|\\["\\\]])*)"/g)) out[m[1]!] = m[2]!.replace(/\\(["\\\]])/g, '$1');
  return out;
}

describe('audit export', () => {
  describe('syslog (RFC 5424)', () => {
    it('writes a line the RFC 5424 grammar accepts, with facility 13 and the fields', () => {
      const m = LINE.exec(syslogLine(entry(), host));
      assert.ok(m, syslogLine(entry(), host));
      assert.equal(Number(m[1]), 13 * 8 + 4, 'log audit, warning for denied');
      assert.equal(m[2], '2026-11-23T01:02:03.456Z');
      assert.deepEqual([m[3], m[4], m[5], m[6]], ['node-1', 'medtrust', '1234', 'access.login.failed']);
      assert.deepEqual(params(m[7]!), { seq: '42', actor: 'user:usr_1', outcome: 'denied', target: 'user:usr_1', tenant: 'ten_a', hash: '02'.repeat(32) });
      assert.equal(m[8], '{"ip":"127.0.0.1"}');
      assert.equal(Number(LINE.exec(syslogLine(entry({ outcome: 'success' }), host))![1]), 13 * 8 + 6);
    });

    it('escapes ", \\ and ] in SD-PARAM values (§6.3.3) so they round-trip', () => {
      const nasty = 'a"b\\c]d [x="y"]';
      assert.equal(escapeSdParam(nasty), 'a\\"b\\\\c\\]d [x=\\"y\\"\\]');
      const line = syslogLine(entry({ actor: nasty, target: null, tenant_id: null }), host);
      const m = LINE.exec(line);
      assert.ok(m, line);
      const p = params(m[7]!);
      assert.equal(p.actor, nasty);
      assert.equal(p.target, undefined, 'null fields are left out');
    });

    it('keeps header fields printable and within their lengths', () => {
      const line = syslogLine(entry({ action: `x.${'y'.repeat(60)} z` }), { hostname: 'bad host\n', procId: '' });
      const m = LINE.exec(line);
      assert.ok(m, line);
      assert.equal(m[3], 'bad_host_');
      assert.equal(m[5], '-');
      assert.equal(m[6]!.length, 32);
    });
  });

  it('writes JSON lines with parsed details and hex hashes', () => {
    const j = JSON.parse(formatEntry('jsonl', entry(), host)) as ReturnType<typeof entryJson>;
    assert.deepEqual(j.details, { ip: '127.0.0.1' });
    assert.equal(j.hash, '02'.repeat(32));
    assert.equal(j.at, '2026-11-23T01:02:03.456Z');
  });

  it('refuses an unknown format with AUDIT_FORMAT_UNKNOWN', () => {
    assert.equal(parseExportFormat('syslog'), 'syslog');
    assert.throws(() => parseExportFormat('cef'), (e: unknown) => e instanceof MedTrustError && e.code === 'AUDIT_FORMAT_UNKNOWN');
  });
});
