import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenService } from '../access/index.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * Writes an operator-admin API token to `<dataDir>/admin-token` (mode 0600) when the file does
 * not exist yet. Returns the path, and whether a new token was written.
 */
export async function ensureAdminToken(opts: { dataDir: string; tokens: TokenService; operatorTenantId: string }): Promise<{ path: string; created: boolean }> {
  const path = join(opts.dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) return { path, created: false };
  const t = await opts.tokens.create({ tenantId: opts.operatorTenantId, role: 'operator-admin', name: 'initial admin', createdBy: 'system' });
  writeFileSync(path, `${t.token}\n`, { mode: 0o600, flag: 'wx' });
  return { path, created: true };
}
