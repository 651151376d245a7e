import type { Clock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { SessionService } from '../session-service.ts';
import type { UserService } from '../user-service.ts';
import { SsoLoginService } from './sso-login-service.ts';
import { SsoProviderStore } from './sso-provider-store.ts';

/** Hospital single sign-on as the platform uses it. */
export interface Sso {
  readonly providers: SsoProviderStore;
  readonly login: SsoLoginService;
}

/** Builds the provider store (secrets sealed under `secretKey`) and the OIDC login flow. */
export function createSso(d: { db: Kysely<Database>; audit: AuditLog; clock: Clock; users: UserService; sessions: SessionService; publicUrl: string; secretKey: () => Promise<Buffer> }): Sso {
  const providers = new SsoProviderStore({ db: d.db, audit: d.audit, clock: d.clock, secretKey: d.secretKey });
  return { providers, login: new SsoLoginService({ db: d.db, providers, users: d.users, sessions: d.sessions, audit: d.audit, clock: d.clock, publicUrl: d.publicUrl }) };
}
