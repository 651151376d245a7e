import type { KeyObject } from 'node:crypto';
import { CoreError } from '@medtrust/core';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import { type Principal, tenantScopeOf } from '../access/index.ts';
import type { Database } from '../db/index.ts';
import { entryJson } from './audit-export.ts';
import { verifyAuditLog } from './audit-verifier.ts';
import { describeProblem } from './chain-checker.ts';
import { checkpointJson } from './checkpoint-note.ts';
import type { CheckpointService } from './checkpoint-service.ts';
import { AuditError } from './errors.ts';
import { buildInclusionProof, proofToJson } from './inclusion-proof.ts';

const security = [{ bearerAuth: [] as string[] }];

function principal(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new CoreError('UNAUTHENTICATED', 'no principal');
  return p;
}

/** Whole-log operations reveal every tenant's activity: the operator tenant only. */
function requireOperator(p: Principal): void {
  if (tenantScopeOf(p) !== null) throw new CoreError('FORBIDDEN', 'only the operator tenant can verify or checkpoint the whole log');
}

/**
 * REST for the audit log: list (tenant-scoped), verify, checkpoints and inclusion proofs.
 * `guard` is the platform's `requirePermission(tokens, 'audit:read')`.
 */
export function auditRoutes(opts: { db: Kysely<Database>; checkpoints: CheckpointService; trustedKeys: () => Promise<KeyObject[]>; guard: preHandlerAsyncHookHandler }) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { target?: string; action?: string; since?: number; limit?: number } }>('/api/v1/audit', {
      preValidation: opts.guard,
      schema: {
        tags: ['audit'], summary: 'Audit entries in seq order (a customer tenant sees only its own)', security,
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            target: { type: 'string', maxLength: 200 }, action: { type: 'string', maxLength: 100 },
            since: { type: 'integer', minimum: 0, description: 'only entries with seq greater than this (page with `next`)' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
        },
      },
    }, async (request) => {
      const q = request.query;
      const scope = tenantScopeOf(principal(request));
      const limit = q.limit ?? 100;
      let sel = opts.db.selectFrom('audit_entry').selectAll().where('seq', '>', q.since ?? 0).orderBy('seq').limit(limit);
      if (scope !== null) sel = sel.where('tenant_id', '=', scope);
      if (q.target !== undefined) sel = sel.where('target', '=', q.target);
      if (q.action !== undefined) sel = sel.where('action', '=', q.action);
      const rows = await sel.execute();
      return { entries: rows.map(entryJson), next: rows.length === limit ? (rows.at(-1)?.seq ?? null) : null };
    });

    app.get('/api/v1/audit/verify', {
      preValidation: opts.guard,
      schema: { tags: ['audit'], summary: 'Verify the whole hash chain and every signed checkpoint (operator)', security },
    }, async (request) => {
      requireOperator(principal(request));
      const report = await verifyAuditLog({ db: opts.db, trustedKeys: opts.trustedKeys });
      return report.ok ? report : { ...report, description: describeProblem(report.problem) };
    });

    app.get('/api/v1/audit/checkpoints/latest', {
      preValidation: opts.guard,
      schema: { tags: ['audit'], summary: 'The latest signed Merkle checkpoint', security },
    }, async () => {
      const cp = await opts.checkpoints.latest();
      if (!cp) throw new AuditError('AUDIT_NO_CHECKPOINT', 'no checkpoint yet');
      return checkpointJson(cp);
    });

    app.post('/api/v1/audit/checkpoints', {
      preValidation: opts.guard,
      schema: { tags: ['audit'], summary: 'Sign a checkpoint over the log now (operator)', security },
    }, async (request, reply) => {
      requireOperator(principal(request));
      const cp = await opts.checkpoints.create();
      if (!cp) throw new AuditError('AUDIT_NO_CHECKPOINT', 'the log is empty');
      return reply.status(201).send(checkpointJson(cp));
    });

    app.get<{ Params: { seq: number } }>('/api/v1/audit/:seq/proof', {
      preValidation: opts.guard,
      schema: {
        tags: ['audit'], summary: 'RFC 9162 inclusion proof of one entry against the latest checkpoint', security,
        params: { type: 'object', properties: { seq: { type: 'integer', minimum: 1 } }, required: ['seq'] },
      },
    }, async (request) => {
      const scope = tenantScopeOf(principal(request));
      const seq = request.params.seq;
      const owner = await opts.db.selectFrom('audit_entry').select('tenant_id').where('seq', '=', seq).executeTakeFirst();
      // Tenant isolation: another tenant's entry answers exactly like a missing one.
      if (!owner || (scope !== null && owner.tenant_id !== scope)) throw new AuditError('AUDIT_ENTRY_NOT_FOUND', `no audit entry ${seq}`);
      return proofToJson(await buildInclusionProof(opts.db, seq));
    });
  };
}
