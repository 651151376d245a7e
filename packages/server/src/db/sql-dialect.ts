export type SqlDialectName = 'sqlite' | 'postgres';

/** Column types that differ between the dialects, for migrations. */
export interface ColumnTypes {
  readonly dialect: SqlDialectName;
  /** Binary data: `blob` or `bytea`. */
  readonly binary: 'blob' | 'bytea';
  /** Integer milliseconds or counters: both dialects store 64-bit. */
  readonly int64: 'integer' | 'bigint';
  /** Auto-incrementing primary key type for append-only tables. */
  readonly serial: 'integer' | 'bigserial';
}

export function columnTypes(dialect: SqlDialectName): ColumnTypes {
  return dialect === 'sqlite'
    ? { dialect, binary: 'blob', int64: 'integer', serial: 'integer' }
    : { dialect, binary: 'bytea', int64: 'bigint', serial: 'bigserial' };
}
