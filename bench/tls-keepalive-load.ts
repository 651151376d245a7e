// A raw keep-alive HTTP/1.1 load generator over mutual TLS, in a worker thread (its own core):
// `connections` TLS connections, each presenting one device's client certificate; a connection
// moves on to the next device of its share after `requestsPerDevice` requests (a new handshake),
// so a few hundred devices take turns and none runs dry of its rate limit. Counts responses with
// the expected status and body length per second; anything else is `bad`.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const tls = require('node:tls');
const { port, path, headers, status, length, durationMs, connections, devices, ca, requestsPerDevice } = workerData;
const request = Buffer.from('GET ' + path + ' HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n' + Object.entries(headers).map(([k, v]) => k + ': ' + v + '\\r\\n').join('') + '\\r\\n');
const CRLF2 = Buffer.from('\\r\\n\\r\\n');
let ok = 0, bad = 0, handshakes = 0;
const end = Date.now() + durationMs;
const client = (c) => new Promise((resolve) => {
  let turn = 0;
  const connect = () => {
    const d = devices[(c + turn * connections) % devices.length];
    turn++;
    handshakes++;
    const socket = tls.connect({ host: '127.0.0.1', port, ca, cert: d.cert, key: d.key });
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let sent = 0;
    const next = () => {
      if (Date.now() >= end) { socket.destroy(); resolve(); return; }
      if (sent === requestsPerDevice) { socket.destroy(); connect(); return; }
      sent++;
      socket.write(request);
    };
    socket.on('secureConnect', next);
    socket.on('error', (e) => { bad++; if (!socket.destroyed) socket.destroy(); resolve(); });
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

export interface TlsLoadOptions {
  readonly port: number;
  readonly path: string;
  /** Expected status and body length (304: no body). */
  readonly status: number;
  readonly length: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly durationMs: number;
  readonly connections: number;
  /** Client certificate and key (PEM) per device. */
  readonly devices: ReadonlyArray<{ readonly cert: string; readonly key: string }>;
  /** Trust anchor for the server certificate (PEM). */
  readonly ca: string;
  readonly requestsPerDevice: number;
}

/** Runs the load; returns good responses per second, throws when any response was unexpected. */
export async function tlsKeepAliveLoad(o: TlsLoadOptions): Promise<{ perSecond: number; handshakes: number }> {
  const w = new Worker(LOAD, { eval: true, workerData: { ...o, headers: o.headers ?? {}, devices: o.devices.map((d) => ({ cert: d.cert, key: d.key })) } });
  const [r] = (await once(w, 'message')) as [{ perSecond: number; bad: number; handshakes: number }];
  await w.terminate();
  if (r.bad > 0) throw new Error(`${r.bad} bad responses on port ${o.port}`);
  return { perSecond: r.perSecond, handshakes: r.handshakes };
}
