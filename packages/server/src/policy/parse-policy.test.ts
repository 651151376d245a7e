import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isMedTrustError } from '@medtrust/core';
import { PolicyParser } from './parse-policy.ts';

const EXAMPLES = join(import.meta.dirname, 'examples');
const parser = new PolicyParser();

function problemsOf(text: string): string[] {
  try {
    parser.parseText(text);
  } catch (e) {
    assert.ok(isMedTrustError(e));
    assert.equal(e.code, 'POLICY_INVALID');
    return (e.details?.problems ?? []) as string[];
  }
  assert.fail('expected POLICY_INVALID');
}

describe('PolicyParser', () => {
  describe('when the document is valid', () => {
    it('accepts every shipped example', () => {
      const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
      assert.equal(files.length, 6);
      for (const f of files) assert.equal(parser.parseText(readFileSync(join(EXAMPLES, f), 'utf8')).name.length > 0, true, f);
    });

    it('reads the same policy from JSON', () => {
      const p = parser.parseText(JSON.stringify({ name: 'x', trigger: { event: 'device.connect' }, rules: [{ name: 'r', when: { fact: 'device.model', eq: 'PumpX' }, actions: [{ kind: 'deny' }] }] }));
      assert.equal(p.rules[0]?.actions[0]?.kind, 'deny');
    });
  });

  describe('when the document is malformed', () => {
    it('reports a YAML syntax error with its line', () => {
      const p = problemsOf('name: x\ntrigger: { event: device.connect\nrules: []\n');
      assert.match(p[0] ?? '', /syntax error/);
    });
    it('reports a JSON syntax error', () => assert.match(problemsOf('{"name": "x",')[0] ?? '', /syntax error/));
    it('names an unknown fact', () => {
      const p = problemsOf('name: x\ntrigger: { event: device.connect }\nrules:\n  - name: r\n    when: { fact: device.colour, eq: red }\n    actions: [{ kind: deny }]\n');
      assert.deepEqual(p, ['rules[0].when: unknown fact "device.colour"']);
    });
    it('refuses an unknown operator and one that does not fit the fact', () => {
      assert.ok(problemsOf('name: x\ntrigger: { event: device.connect }\nrules:\n  - name: r\n    when: { fact: device.model, equals: PumpX }\n    actions: [{ kind: deny }]\n').some((l) => /equals/.test(l)));
      assert.ok(problemsOf('name: x\ntrigger: { event: device.connect }\nrules:\n  - name: r\n    when: { fact: device.model, semverLt: 1.0.0 }\n    actions: [{ kind: deny }]\n').some((l) => /does not apply/.test(l)));
    });
    it('refuses an unknown action, an alert without an event, deny on a schedule, an unknown trigger', () => {
      assert.ok(problemsOf('name: x\ntrigger: { event: device.connect }\nrules:\n  - name: r\n    when: { fact: device.model, eq: A }\n    actions: [{ kind: explode }]\n').length > 0);
      assert.ok(problemsOf('name: x\ntrigger: { event: device.connect }\nrules:\n  - name: r\n    when: { fact: device.model, eq: A }\n    actions: [{ kind: alert }]\n').length > 0);
      assert.ok(problemsOf('name: x\ntrigger: { schedule: { everyMinutes: 5 } }\nrules:\n  - name: r\n    when: { fact: device.model, eq: A }\n    actions: [{ kind: deny }]\n').some((l) => /deny needs a hook/.test(l)));
      assert.ok(problemsOf('name: x\ntrigger: { event: lunch }\nrules:\n  - name: r\n    when: { fact: device.model, eq: A }\n    actions: [{ kind: quarantine }]\n').length > 0);
    });
    it('lists every problem at once', () => {
      const p = problemsOf('name: x\ntrigger: { event: device.connect }\nrules:\n  - name: r\n    when: { all: [ { fact: a.b, eq: 1 }, { fact: device.firmwareVersion, semverLt: nope } ] }\n    actions: [{ kind: deny }]\n  - name: r\n    when: { fact: device.model, eq: A }\n    actions: [{ kind: deny }]\n');
      assert.equal(p.length, 3);
    });
    it('refuses a document that is not an object, and one too large', () => {
      assert.ok(problemsOf('- just\n- a list\n').length > 0);
      assert.ok(problemsOf(`name: x\ndescription: "${'a'.repeat(300_000)}"\n`).length > 0);
    });
  });
});
