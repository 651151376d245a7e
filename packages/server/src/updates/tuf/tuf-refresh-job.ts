import type { Job } from '../../jobs/index.ts';
import type { TufRepository } from './tuf-repository.ts';

/** Re-signs timestamp (and any other online role) past half its lifetime; runs once per cluster. */
export function tufRefreshJob(opts: { repository: TufRepository; intervalMs?: number }): Job {
  return {
    name: 'tuf-refresh',
    intervalMs: opts.intervalMs ?? 10 * 60_000,
    async run() {
      await opts.repository.refreshExpiring();
    },
  };
}
