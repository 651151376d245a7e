// `node --import tsx packages/server/src/access/write-access-doc.ts`: regenerates the permission
// matrix in docs/access.md after a permission is added to roles.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withPermissionMatrix } from './access-doc.ts';

const file = new URL('../../../../docs/access.md', import.meta.url);
writeFileSync(file, withPermissionMatrix(readFileSync(file, 'utf8')));
