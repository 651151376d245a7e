// A deliberately cheap HTTP/1.1 load generator for the OCSP bench: raw TCP sockets, one request
// in flight per connection (no pipelining), responses parsed just enough to check them. node:http
// clients cost more CPU per request than a cached OCSP answer does, so with them the client, not
// the responder, would set the rate on a 2-core machine. A server that closes the connection
// after each answer (`openssl ocsp` speaks HTTP/1.0) gets a fresh connection per request.
import { connect, type Socket } from 'node:net';

export interface LoadResult {
  readonly ok: number;
  readonly failed: number;
  readonly firstFailure?: string;
  readonly seconds: number;
  /** CPU seconds this (load generator) process used meanwhile. */
  readonly clientCpuSeconds: number;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** A `successful` OCSPResponse: SEQUENCE { ENUMERATED 0, [0] ... }. */
const successful = (b: Buffer): boolean => b[0] === 0x30 && b.subarray(2, 8).includes(Buffer.from([0x0a, 0x01, 0x00]));

/** `connections` sockets POSTing `body` to host:port/path until `durationMs` has passed. */
export async function ocspLoad(opts: { host: string; port: number; path: string; body: Buffer; connections: number; durationMs: number }): Promise<LoadResult> {
  const request = Buffer.concat([
    Buffer.from(`POST ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${opts.body.length}\r\n\r\n`),
    opts.body,
  ]);
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + opts.durationMs;
  const fail = (why: string): void => {
    failed++;
    firstFailure ??= why;
  };

  const client = (): Promise<void> => new Promise((resolve) => {
    let socket: Socket;
    let buf: Buffer = Buffer.alloc(0);
    let awaiting = false;
    let done = false;
    const finish = (): void => {
      done = true;
      clearTimeout(stop);
      socket.destroy();
      resolve();
    };
    // A server that stops answering (openssl ocsp serves one connection at a time and can stall on
    // one) must not hold the bench past its duration: an answer not back 2 s after the end is dropped.
    const stop = setTimeout(() => {
      if (awaiting) fail('no answer by the end of the run');
      finish();
    }, opts.durationMs + 2000);
    const next = (): void => {
      if (done) return;
      if (performance.now() >= deadline) {
        finish();
        return;
      }
      awaiting = true;
      socket.write(request);
    };
    const open = (): void => {
      buf = Buffer.alloc(0);
      socket = connect(opts.port, opts.host);
      socket.setNoDelay(true);
      socket.on('connect', next);
      socket.on('data', (c: Buffer) => {
        buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
        for (;;) {
          const end = buf.indexOf(CRLF2);
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          if (!m) {
            fail(`no content-length: ${head.slice(0, 60)}`);
            socket.destroy();
            return;
          }
          const total = end + 4 + Number(m[1]);
          if (buf.length < total) return;
          const body = buf.subarray(end + 4, total);
          buf = buf.subarray(total);
          awaiting = false;
          if (head.startsWith('HTTP/1.1 200') || head.startsWith('HTTP/1.0 200')) {
            if (successful(body)) ok++;
            else fail(`not successful: ${body.subarray(0, 8).toString('hex')}`);
          } else fail(head.slice(0, 40));
          const closing = head.startsWith('HTTP/1.0') || /\r\nconnection:\s*close/i.test(head);
          if (!closing) next();
          // Else close our side and reconnect (on 'close'), as an HTTP/1.0 client does: openssl
          // 3.0's responder may keep the connection open waiting for another request.
          else {
            socket.destroy();
            return;
          }
        }
      });
      socket.on('error', (e) => {
        if (awaiting) fail(String(e));
      });
      socket.on('close', () => {
        if (done) return;
        if (performance.now() >= deadline) finish();
        else {
          if (awaiting) fail('connection closed before the answer');
          open();
        }
      });
    };
    open();
  });

  await Promise.all(Array.from({ length: opts.connections }, client));
  const cpu = process.cpuUsage(cpu0);
  return { ok, failed, ...(firstFailure ? { firstFailure } : {}), seconds: (performance.now() - start) / 1000, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}
