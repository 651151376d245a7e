import { errorCatalogue } from './error-catalogue.ts';

/** docs/errors.md as it must read for the current catalogue (a test compares the two). */
export function renderErrorsDoc(): string {
  const rows = Object.entries(errorCatalogue)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, s]) => `| \`${code}\` | ${s.status} | ${s.meaning} | ${s.fix} |`);
  return [
    '# Error codes',
    '',
    'Every error the platform returns has the body `{ "error": { "code", "message", "details"?, "requestId" } }`.',
    'The CLI prints `error CODE: message` and exits 2. This table is generated from the catalogue',
    '(`packages/server/src/http/error-catalogue.ts`) by `npm run docs:errors`; a test fails when they drift.',
    '',
    '| Code | HTTP | Meaning | How to fix |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
