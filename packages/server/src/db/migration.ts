import type { Kysely } from 'kysely';
import type { ColumnTypes } from './sql-dialect.ts';

/**
 * One versioned schema change. Names sort in apply order: `YYYYMMDD-NN-domain-what`.
 * Migrations see an untyped Kysely because they create the schema the types describe.
 */
export interface DomainMigration {
  readonly name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- schema does not exist yet
  up(db: Kysely<any>, t: ColumnTypes): Promise<void>;
}
