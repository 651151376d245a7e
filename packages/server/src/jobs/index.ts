export { JobRunner } from './job-runner.ts';
export type { Job } from './job-runner.ts';
export { jobMigrations } from './migrations.ts';
export type { JobTables } from './tables.ts';
