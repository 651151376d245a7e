// A raw keep-alive HTTP/1.1 GET load generator in a worker thread (its own core): undici's
// per-request cost capped every server near 11,000 req/s on this machine (the client, not the
// server, was measured). `connections` sockets each send the next request when the last answer
// is in. Plain TCP, or mutual TLS (`tls`): each connection presents one device's client
// certificate and moves on to the next device of its share after `requestsPerDevice` requests (a
// new handshake), so a few hundred devices take turns and none runs dry of its rate limit.
// Counts responses with the expected status and body length per second; anything else is `bad`.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const tls = require('node:tls');
const { port, path, headers, status, length, durationMs, connections } = workerData;
const mtls = workerData.tls;
const request = Buffer.from('GET ' + path + ' HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n' + Object.entries(headers).map(([k, v]) => k + ': ' + v + '\\r\\n').join('') + '\\r\\n');
const CRLF2 = Buffer.from('\\r\\n\\r\\n');
let ok = 0, bad = 0, handshakes = 0;
const end = Date.now() + durationMs;
const client = (c) => new Promise((resolve) => {
  let turn = 0;
  const connect = () => {
    let socket;
    if (mtls) {
      const d = mtls.devices[(c + turn * connections) % mtls.devices.length];
      turn++;
      handshakes++;
      socket = tls.connect({ host: '127.0.0.1', port, ca: mtls.ca, cert: d.cert, key: d.key });
    } else {
      socket = net.connect(port, '127.0.0.1');
    }
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let sent = 0;
    const next = () => {
      if (Date.now() >= end) { socket.destroy(); resolve(); return; }
      if (mtls && sent === mtls.requestsPerDevice) { socket.destroy(); connect(); return; }
      sent++;
      socket.write(request);
    };
    socket.on(mtls ? 'secureConnect' : 'connect', next);
    socket.on('error', () => { bad++; if (!socket.destroyed) socket.destroy(); resolve(); });
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const h = buf.indexOf(CRLF2);
        if (h < 0) return;
        const head = buf.subarray(0, h).toString('latin1');
        const code = Number(head.slice(9, 12));
        const m = /\\r\\ncontent-length:\\s*(\\d+)/i.exec(head);
        const bodyLength = code === 304 ? 0 : m ? Number(m[1]) : -1;
        if (bodyLength < 0) { bad++; socket.destroy(); resolve(); return; }
        if (buf.length < h + 4 + bodyLength) return;
        buf = buf.subarray(h + 4 + bodyLength);
        if (code === status && bodyLength === length) ok++; else bad++;
        next();
      }
    });
  };
  connect();
});
(async () => {
  const t0 = Date.now();
  await Promise.all(Array.from({ length: connections }, (_, c) => client(c)));
  parentPort.postMessage({ perSecond: ok / ((Date.now() - t0) / 1000), bad, handshakes });
})();
`;

export interface KeepAliveLoadOptions {
  readonly port: number;
  readonly path: string;
  /** Expected status and body length (304: no body). */
  readonly status: number;
  readonly length: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly durationMs: number;
  readonly connections: number;
  /** Mutual TLS instead of plain TCP. */
  readonly tls?: {
    /** Client certificate and key (PEM) per device. */
    readonly devices: ReadonlyArray<{ readonly cert: string; readonly key: string }>;
    /** Trust anchor for the server certificate (PEM). */
    readonly ca: string;
    readonly requestsPerDevice: number;
  };
}

/** Runs the load; returns good responses per second (and TLS handshakes), throws when any response was unexpected. */
export async function keepAliveLoad(o: KeepAliveLoadOptions): Promise<{ perSecond: number; handshakes: number }> {
  const tls = o.tls ? { ca: o.tls.ca, requestsPerDevice: o.tls.requestsPerDevice, devices: o.tls.devices.map((d) => ({ cert: d.cert, key: d.key })) } : undefined;
  const w = new Worker(LOAD, { eval: true, workerData: { port: o.port, path: o.path, status: o.status, length: o.length, headers: o.headers ?? {}, durationMs: o.durationMs, connections: o.connections, tls } });
  const [r] = (await once(w, 'message')) as [{ perSecond: number; bad: number; handshakes: number }];
  await w.terminate();
  if (r.bad > 0) throw new Error(`${r.bad} bad responses on port ${o.port}`);
  return { perSecond: r.perSecond, handshakes: r.handshakes };
}
