import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderPermissionMatrix, withPermissionMatrix } from './access-doc.ts';
import { PERMISSIONS, ROLES } from './roles.ts';

describe('docs/access.md', () => {
  const doc = readFileSync(new URL('../../../../docs/access.md', import.meta.url), 'utf8');

  it('holds the permission matrix of roles.ts (run `node --import tsx packages/server/src/access/write-access-doc.ts`)', () => {
    assert.equal(doc, withPermissionMatrix(doc));
  });

  it('has a row per permission and a column per role', () => {
    const m = renderPermissionMatrix();
    for (const p of Object.keys(PERMISSIONS)) assert.ok(m.includes(`| \`${p}\` |`), p);
    for (const r of ROLES) assert.ok(m.split('\n')[1]!.includes(` ${r} `), r);
  });

  it('describes every role', () => {
    for (const r of ROLES) assert.match(doc, new RegExp(`^\\| \`${r}\` \\|`, 'm'), r);
  });
});
