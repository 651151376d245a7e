import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import { PREPARE_MARK } from '../../prepare-mark.ts';
import pg from 'pg';
import type { Database } from '../../schema.ts';

// int8 (bigint) columns hold millisecond timestamps and counters, all far below 2^53: read them
// as numbers so both dialects return the same types.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- pg types its parsers as any
    return pg.types.getTypeParser(oid, format);
  },
} as typeof pg.types;

/** Opens a pooled PostgreSQL connection. */
export function openPostgresDatabase(url: string, maxConnections = 10): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, types: pgTypes });
  // A pool error on an idle client (server restart) must not crash the process; the next query
  // gets a fresh connection.
  pool.on('error', () => undefined);
  // pg-pool removes its own error listener while a client is checked out, and pg emits 'error' on
  // the client when the server goes away mid-query (besides failing the query): without a listener
  // of our own, a PostgreSQL restart during a query would be an uncaught exception that ends the
  // process. The failed query already carries the error to its caller.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    namePreparedStatements(client);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Queries whose SQL starts with `PREPARE_MARK` run as named prepared statements on each
 * connection: PostgreSQL parses and plans them once per connection instead of on every call
 * (the desired-state check's five-table join spent most of its time being planned). Opt-in per
 * query, because a connection keeps every statement it prepared: only fixed, hot SQL is marked.
 */
function namePreparedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (config: unknown, values?: unknown) => unknown;
  const names = new Map<string, string>();
  (client as { query: unknown }).query = (config: unknown, values?: unknown): unknown => {
    if (typeof config !== 'string' || !config.startsWith(PREPARE_MARK)) return query(config, values);
    let name = names.get(config);
    if (!name) names.set(config, (name = `mt_${createHash('sha256').update(config).digest('hex').slice(0, 24)}`));
    return query({ name, text: config, values });
  };
}
