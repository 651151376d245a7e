export interface JobLeaseTable {
  /** Job name; one row per job. */
  name: string;
  /** Node holding the lease, and until when. */
  holder: string;
  lease_until: number;
  last_run_at: number | null;
}

export interface JobTables {
  job_lease: JobLeaseTable;
}
