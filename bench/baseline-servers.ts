// Baseline servers that benches run as child processes (light imports, so they start fast):
//   node --import tsx bench/baseline-servers.ts fixed <hex>         answers every request with those bytes
//   node --import tsx bench/baseline-servers.ts sign KEY.pem CHAIN.pem   https, one P-256 signature of each body
// Each prints the URL it listens on.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

const [mode, a, b] = process.argv.slice(2);
if (mode === 'fixed') {
  const body = Buffer.from(a ?? '', 'hex');
  const headers = { 'content-type': 'application/ocsp-response', 'content-length': body.length, 'cache-control': 'no-store' };
  const server = createHttpServer({ keepAliveTimeout: 72_000 }, (req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.writeHead(200, headers).end(body));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
} else if (mode === 'sign') {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = createHttpsServer({ key: readFileSync(a!), cert: readFileSync(b!) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const sig = sign('sha256', Buffer.concat(chunks), privateKey);
      res.writeHead(200, { 'content-type': 'application/pkcs7-mime' }).end(sig.toString('base64'));
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`https://localhost:${(server.address() as AddressInfo).port}\n`));
} else {
  process.stderr.write('usage: baseline-servers.ts fixed <hex> | sign <key.pem> <chain.pem>\n');
  process.exit(2);
}
