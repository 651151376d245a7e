// Signing through PKCS#11 (SoftHSM2 via pkcs11js) against node:crypto signing with the same
// algorithm in the same process: the cost of keeping CA keys on a token, per certificate issued.
// SoftHSM2 does the maths in OpenSSL too, so the ratio is mostly call and session overhead; a real
// HSM adds its own latency on top.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pkcs11KeyStore } from '@medtrust/server';
import type { BenchRow } from './bench-row.ts';

const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const DURATION_MS = 2000;

function perSecond(fn: () => void): number {
  for (let i = 0; i < 50; i++) fn();
  const start = process.hrtime.bigint();
  let n = 0;
  while (Number(process.hrtime.bigint() - start) / 1e6 < DURATION_MS) {
    fn();
    n++;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

function softHsmToken(dir: string): void {
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', '1234', '--so-pin', '5678'], { stdio: 'ignore' });
}

export async function run(): Promise<BenchRow[]> {
  if (!existsSync(LIBRARY)) return [{ name: 'pkcs11 sign', value: 0, unit: 'signs/s', note: `skipped: ${LIBRARY} not installed` }];
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-hsm-bench-'));
  const rows: BenchRow[] = [];
  try {
    softHsmToken(dir);
    const store = Pkcs11KeyStore.open({ kind: 'pkcs11', library: LIBRARY, tokenLabel: 'bench', slot: undefined, pin: '1234' });
    try {
      const tbs = Buffer.alloc(600, 7); // about the size of a device certificate's TBSCertificate
      const cases: Array<{ algorithm: 'ec-p256' | 'rsa-2048'; local: KeyObject }> = [
        { algorithm: 'ec-p256', local: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
        { algorithm: 'rsa-2048', local: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey },
      ];
      for (const c of cases) {
        const handle = await store.generate(`bench-${c.algorithm}`, c.algorithm);
        const base = perSecond(() => sign('sha256', tbs, c.local));
        const hsm = perSecond(() => handle.sign(tbs));
        rows.push({ name: `${c.algorithm} sign via PKCS#11 (SoftHSM2)`, value: hsm, unit: 'signs/s', baseline: `node:crypto ${c.algorithm} ${base.toFixed(0)}/s`, ratio: hsm / base });
      }
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
