import { CoreError } from '@medtrust/core';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AccessError } from './errors.ts';
import { actorOf, type Principal, tenantOf, tenantScopeOf } from './principal.ts';
import type { TenantService } from './tenant-service.ts';
import type { TokenService } from './token-service.ts';
import type { UserService } from './user-service.ts';

export interface AccessRoutesOptions {
  readonly tenants: TenantService;
  readonly users: UserService;
  readonly tokens: TokenService;
  /** `requirePermission(tokens, p)` for each permission these routes check. */
  readonly guards: { readonly tenantManage: preHandlerAsyncHookHandler; readonly userManage: preHandlerAsyncHookHandler; readonly tokenCreate: preHandlerAsyncHookHandler; readonly authenticated: preHandlerAsyncHookHandler };
}

const security = [{ bearerAuth: [] as string[] }];
const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] } as const;

function principal(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new CoreError('UNAUTHENTICATED', 'no principal');
  return p;
}

/**
 * The tenant an admin acts in: the operator may name any tenant; anyone else only their own
 * (naming another answers TENANT_UNKNOWN, as if it did not exist).
 */
function targetTenant(p: Principal, requested: string | undefined): string {
  const scope = tenantScopeOf(p);
  if (scope === null) return requested ?? tenantOf(p).tenantId;
  if (requested !== undefined && requested !== scope) throw new AccessError('TENANT_UNKNOWN', `no tenant ${requested}`);
  return scope;
}

/** REST for tenants (operator-admin), users (tenant admins in their tenant) and API tokens. */
export function accessRoutes(opts: AccessRoutesOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const { guards } = opts;

    app.post<{ Body: { kind: 'customer' | 'site'; name: string; parentId?: string; timeZone?: string } }>('/api/v1/tenants', {
      preValidation: guards.tenantManage,
      schema: {
        tags: ['access'], summary: 'Create a customer or site tenant (operator)', security,
        body: { type: 'object', additionalProperties: false, required: ['kind', 'name'], properties: { kind: { type: 'string', enum: ['customer', 'site'] }, name: { type: 'string', maxLength: 200 }, parentId: { type: 'string', maxLength: 64 }, timeZone: { type: 'string', maxLength: 64 } } },
      },
    }, async (request, reply) => {
      const p = principal(request);
      if (tenantScopeOf(p) !== null) throw new CoreError('FORBIDDEN', 'tenants are managed by the operator');
      const id = await opts.tenants.create({ ...request.body, createdBy: actorOf(p) });
      return reply.status(201).send(await opts.tenants.get(id));
    });

    app.get('/api/v1/tenants', {
      preValidation: guards.tenantManage,
      schema: { tags: ['access'], summary: 'List tenants (operator)', security },
    }, async (request) => {
      if (tenantScopeOf(principal(request)) !== null) throw new CoreError('FORBIDDEN', 'tenants are managed by the operator');
      return { tenants: await opts.tenants.list() };
    });

    app.get<{ Params: { id: string } }>('/api/v1/tenants/:id', {
      preValidation: guards.authenticated,
      schema: { tags: ['access'], summary: 'One tenant: your own, or any for the operator', security, params: idParams },
    }, async (request) => {
      const scope = tenantScopeOf(principal(request));
      if (scope !== null && scope !== request.params.id) throw new AccessError('TENANT_UNKNOWN', `no tenant ${request.params.id}`);
      return opts.tenants.get(request.params.id);
    });

    app.post<{ Body: { email: string; role: string; tenantId?: string; password?: string } }>('/api/v1/users', {
      preValidation: guards.userManage,
      schema: {
        tags: ['access'], summary: 'Create a user in your tenant (operator: any tenant); a generated password is returned once', security,
        body: { type: 'object', additionalProperties: false, required: ['email', 'role'], properties: { email: { type: 'string', maxLength: 320 }, role: { type: 'string', maxLength: 40 }, tenantId: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 } } },
      },
    }, async (request, reply) => {
      const p = principal(request);
      const tenantId = targetTenant(p, request.body.tenantId);
      const u = await opts.users.create({ tenantId, email: request.body.email, role: request.body.role, password: request.body.password, createdBy: actorOf(p) });
      return reply.status(201).header('cache-control', 'no-store').send(u);
    });

    app.get('/api/v1/users', {
      preValidation: guards.userManage,
      schema: { tags: ['access'], summary: 'List users of your tenant (operator: all)', security },
    }, async (request) => ({ users: await opts.users.list(tenantScopeOf(principal(request))) }));

    app.get<{ Params: { id: string } }>('/api/v1/users/:id', {
      preValidation: guards.userManage,
      schema: { tags: ['access'], summary: 'One user of your tenant', security, params: idParams },
    }, async (request) => opts.users.get(request.params.id, tenantScopeOf(principal(request))));

    app.delete<{ Params: { id: string } }>('/api/v1/users/:id', {
      preValidation: guards.userManage,
      schema: { tags: ['access'], summary: 'Disable a user of your tenant and end their sessions', security, params: idParams },
    }, async (request, reply) => {
      const p = principal(request);
      await opts.users.disable(request.params.id, tenantScopeOf(p), actorOf(p));
      return reply.status(204).send();
    });

    app.post<{ Body: { role: string; name: string; ttlDays?: number; tenantId?: string } }>('/api/v1/tokens', {
      preValidation: guards.tokenCreate,
      schema: {
        tags: ['access'], summary: 'Create an API token for a role in your tenant; the secret is returned once', security,
        body: { type: 'object', additionalProperties: false, required: ['role', 'name'], properties: { role: { type: 'string', maxLength: 40 }, name: { type: 'string', minLength: 1, maxLength: 100 }, ttlDays: { type: 'number', exclusiveMinimum: 0, maximum: 3650, default: 90 }, tenantId: { type: 'string', maxLength: 64 } } },
      },
    }, async (request, reply) => {
      const p = principal(request);
      const tenantId = targetTenant(p, request.body.tenantId);
      const t = await opts.tokens.create({ tenantId, role: request.body.role, name: request.body.name, ttlDays: request.body.ttlDays ?? 90, createdBy: actorOf(p) });
      return reply.status(201).header('cache-control', 'no-store').send(t);
    });

    app.get('/api/v1/tokens', {
      preValidation: guards.tokenCreate,
      schema: { tags: ['access'], summary: 'List API tokens of your tenant (operator: all); secrets are never shown', security },
    }, async (request) => ({ tokens: await opts.tokens.list(tenantScopeOf(principal(request))) }));

    app.delete<{ Params: { id: string } }>('/api/v1/tokens/:id', {
      preValidation: guards.tokenCreate,
      schema: { tags: ['access'], summary: 'Revoke an API token of your tenant', security, params: idParams },
    }, async (request, reply) => {
      const p = principal(request);
      await opts.tokens.revoke(request.params.id, actorOf(p), tenantScopeOf(p));
      return reply.status(204).send();
    });
  };
}
