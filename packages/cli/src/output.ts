/** Where a command writes; injected so tests can capture it. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** True when stdout is a terminal: progress bars are shown only then. */
  readonly isTty: boolean;
}

export const processOutput: Output = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  get isTty() {
    return process.stdout.isTTY === true;
  },
};

/** A progress line on a terminal; silent when piped. */
export function progress(o: Output, label: string, total: number): { tick(n?: number): void; done(): void } {
  let count = 0;
  let last = 0;
  const draw = (): void => {
    if (!o.isTty) return;
    const pct = total === 0 ? 100 : Math.floor((count / total) * 100);
    process.stderr.write(`\r${label} ${count}/${total} (${pct}%)`);
  };
  return {
    tick(n = 1) {
      count += n;
      const now = Date.now();
      if (now - last > 100 || count === total) {
        last = now;
        draw();
      }
    },
    done() {
      if (o.isTty) process.stderr.write('\n');
    },
  };
}
