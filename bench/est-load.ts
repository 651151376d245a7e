// Load generator for the EST bench: N clients, each on its own keep-alive TLS connection,
// POSTing pre-made bodies back to back for a fixed time. Shared by the EST run and its baseline.
import { Agent, request } from 'node:https';

export interface LoadClient {
  /** TLS client certificate and key (PEM), when the client authenticates with one. */
  readonly cert?: string;
  readonly key?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The next request body; undefined ends this client early. */
  next(): string | undefined;
}

export interface LoadResult {
  readonly ok: number;
  readonly failed: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** First failing status and body, to say why a run went wrong. */
  readonly firstFailure?: string;
  /** CPU-seconds per wall second this process (the load generator) used. */
  readonly clientCpuShare: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function post(agent: Agent, url: URL, ca: string, body: string, headers: Readonly<Record<string, string>>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, ca, headers: { 'content-type': 'application/pkcs10', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs every client against `url` until `durationMs` has passed or their bodies run out. */
export async function runLoad(opts: { url: string; caPem: string; clients: readonly LoadClient[]; durationMs: number }): Promise<LoadResult> {
  const url = new URL(opts.url);
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + opts.durationMs;
  await Promise.all(opts.clients.map(async (c) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: c.cert, key: c.key, ca: opts.caPem });
    try {
      for (let body = c.next(); body !== undefined && performance.now() < deadline; body = c.next()) {
        const t0 = performance.now();
        const r = await post(agent, url, opts.caPem, body, c.headers ?? {});
        if (r.status === 200) latencies.push(performance.now() - t0);
        else {
          failed++;
          firstFailure ??= `${r.status} ${r.body.slice(0, 200)}`;
        }
      }
    } finally {
      agent.destroy();
    }
  }));
  const elapsedS = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return { ok: latencies.length, failed, perSecond: latencies.length / elapsedS, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), firstFailure, clientCpuShare: (cpu.user + cpu.system) / 1e6 / elapsedS };
}
