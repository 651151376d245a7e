/**
 * A leading comment that asks the PostgreSQL connection to run the query as a named prepared
 * statement (`dialect/postgres`); harmless on SQLite, whose statements are all cached
 * (`dialect/sqlite`). For fixed, hot SQL only: see `withPrepareMark`.
 */
export const PREPARE_MARK = '/* medtrust:prepared */ ';

/** The query's SQL with `PREPARE_MARK` in front. */
export function withPrepareMark(sql: string): string {
  return sql.startsWith(PREPARE_MARK) ? sql : PREPARE_MARK + sql;
}
