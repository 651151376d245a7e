// `npm run bench [name...]`: runs the registered benches and prints one table of ratios
// against baselines measured in the same run. Results also go to bench/results/latest.json.
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { BenchModule, BenchRow } from './bench-row.ts';

const benches: Array<() => Promise<BenchModule>> = [
  async () => ({ name: 'est', run: (await import('./est.bench.ts')).run }),
  async () => ({ name: 'ocsp', run: (await import('./ocsp.bench.ts')).run }),
  // one line per bench: async () => ({ name: 'x', run: (await import('./x.bench.ts')).run }),
  async () => ({ name: 'alerts', run: (await import('./alerts.bench.ts')).run }),
  async () => ({ name: 'audit', run: (await import('./audit.bench.ts')).run }),
  async () => ({ name: 'issuance', run: (await import('./issuance.bench.ts')).run }),
  async () => ({ name: 'updates', run: (await import('./updates.bench.ts')).run }),
  async () => ({ name: 'hsm', run: (await import('./hsm.bench.ts')).run }),
  async () => ({ name: 'vulns', run: (await import('./vulns.bench.ts')).run }),
  async () => ({ name: 'telemetry', run: (await import('./telemetry.bench.ts')).run }),
  async () => ({ name: 'dashboard', run: (await import('./dashboard.bench.ts')).run }),
  async () => ({ name: 'telemetry-storm', run: (await import('./telemetry-storm.bench.ts')).run }),
];

const only = process.argv.slice(2);
const rows: Array<BenchRow & { bench: string }> = [];
for (const load of benches) {
  const b = await load();
  if (only.length > 0 && !only.includes(b.name)) continue;
  process.stderr.write(`bench ${b.name}...\n`);
  for (const r of await b.run()) rows.push({ bench: b.name, ...r });
}
const fmt = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));
console.log('| bench | measure | value | unit | baseline | ratio | note |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.bench} | ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.baseline ?? ''} | ${r.ratio === undefined ? '' : `${fmt(r.ratio)}x`} | ${r.note ?? ''} |`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify(rows, null, 2));
