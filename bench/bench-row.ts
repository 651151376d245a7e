/** One line of the bench table: a measured value and, where there is one, its in-run baseline. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The baseline measured in the same run, named. */
  readonly baseline?: string;
  /** value / baseline value (or the reverse where lower is better; `note` says). */
  readonly ratio?: number;
  readonly note?: string;
}

export type BenchModule = { readonly name: string; run(): Promise<BenchRow[]> };
