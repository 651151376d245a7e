// Shared by the EST end-to-end tests: real curl and openssl against a running platform.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { get, request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CurlResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The parsed coded error body, when the status is an error. */
  readonly code: string | undefined;
}

/** Runs curl (never -k) and returns status, lower-cased headers and body. */
export async function curl(dir: string, args: readonly string[]): Promise<CurlResult> {
  const out = join(dir, `curl-${Math.random().toString(36).slice(2)}`);
  const { stdout } = await run('curl', ['-sS', '-o', `${out}.body`, '-D', `${out}.headers`, '-w', '%{http_code}', ...args], { cwd: dir });
  const headers: Record<string, string> = {};
  for (const line of readFileSync(`${out}.headers`, 'latin1').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = readFileSync(`${out}.body`);
  const status = Number(stdout);
  let code: string | undefined;
  if (status >= 400) {
    try {
      code = (JSON.parse(body.toString()) as { error: { code: string } }).error.code;
    } catch {
      code = undefined;
    }
  }
  return { status, headers, body, code };
}

export async function openssl(dir: string, args: readonly string[], input?: Buffer): Promise<string> {
  if (input) {
    const f = join(dir, `in-${Math.random().toString(36).slice(2)}`);
    writeFileSync(f, input);
    args = args.map((a) => (a === '@in' ? f : a));
  }
  const { stdout } = await run('openssl', [...args], { cwd: dir, encoding: 'utf8' });
  return stdout;
}

/** A fresh key and a base64 (line-broken) DER CSR made by `openssl req`; returns file names. */
export async function makeCsr(dir: string, name: string, opts: { keyArgs?: readonly string[]; subject?: string; key?: string } = {}): Promise<{ key: string; csrB64: string }> {
  const key = opts.key ?? `${name}.key`;
  const keyArgs = opts.key ? ['-key', opts.key] : ['-newkey', ...(opts.keyArgs ?? ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']), '-nodes', '-keyout', key];
  await openssl(dir, ['req', '-new', ...keyArgs, '-subj', opts.subject ?? '/CN=ignored-by-the-ca', '-outform', 'DER', '-out', `${name}.csr.der`]);
  await openssl(dir, ['base64', '-in', `${name}.csr.der`, '-out', `${name}.csr.b64`]);
  return { key, csrB64: `${name}.csr.b64` };
}

/** Decodes a base64 certs-only PKCS#7 body with `openssl pkcs7 -print_certs`; returns the PEM file. */
export async function decodeCerts(dir: string, body: Buffer, name: string): Promise<{ file: string; pems: string[] }> {
  writeFileSync(join(dir, `${name}.p7.b64`), body);
  await openssl(dir, ['base64', '-d', '-in', `${name}.p7.b64`, '-out', `${name}.p7`]);
  await openssl(dir, ['pkcs7', '-inform', 'DER', '-in', `${name}.p7`, '-print_certs', '-out', `${name}.pem`]);
  const pems = [...readFileSync(join(dir, `${name}.pem`), 'utf8').matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)].map((m) => m[0]);
  return { file: `${name}.pem`, pems };
}

/** GET over HTTPS trusting only `caPem`, in-process (cheaper than a curl per check); resolves the status. */
export function httpsStatus(url: string, caPem: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { ca: caPem }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** POST in-process over HTTPS trusting only `caPem`; resolves status and the coded error, if any. */
export function httpsPost(url: string, caPem: string, body: Buffer | string, headers: Readonly<Record<string, string>>): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: caPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString()) as { error?: { code?: string } }).error?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
