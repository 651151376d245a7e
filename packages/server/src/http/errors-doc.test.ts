import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { errorCatalogue } from './error-catalogue.ts';
import { renderErrorsDoc } from './errors-doc.ts';

describe('docs/errors.md', () => {
  it('matches the error catalogue (run `npm run docs:errors` after adding a code)', () => {
    const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    assert.equal(doc, renderErrorsDoc());
  });

  it('gives every code an HTTP error status, a meaning and a fix', () => {
    for (const [code, spec] of Object.entries(errorCatalogue)) {
      assert.match(code, /^[A-Z][A-Z0-9_]+$/, code);
      assert.ok(spec.status >= 400 && spec.status < 600, code);
      assert.ok(spec.meaning.length > 10 && spec.fix.length > 5, code);
    }
  });
});
