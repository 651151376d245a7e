// Regenerates docs/errors.md from the error catalogue: `npm run docs:errors`.
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../packages/server/src/http/errors-doc.ts';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
