import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '@medtrust/core';
import { csrDerFromFile, MAX_BATCH_DEVICES } from '@medtrust/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { progress } from '../output.ts';

interface ProvisionOptions {
  model: string;
  hwRev: string;
  count?: number;
  out: string;
  csrDir?: string;
  serialPrefix?: string;
  keyType: 'ec-p256' | 'ec-p384' | 'ed25519';
  json?: boolean;
}

const CSR_FILE = /^([A-Za-z0-9][A-Za-z0-9.-]{0,31}?)(\.(csr|der|pem|req))?$/;

/** `medtrust factory provision`: devices, IDevIDs and a batch record, with a bundle per device. */
export function registerFactory(program: Command, ctx: CliContext): void {
  const factory = program.command('factory').description('factory provisioning');
  factory.command('provision')
    .description('register devices, issue their IDevIDs (generated keys, or CSRs from --csr-dir) and write a bundle per device')
    .requiredOption('--model <model>', 'device model')
    .requiredOption('--hw-rev <rev>', 'hardware revision')
    .option('--count <n>', 'how many devices (generated-key mode; must match the CSRs with --csr-dir)', (v) => Number(v))
    .requiredOption('--out <dir>', 'output directory: <serial>/chain.pem and <serial>/key.pem (0600, generated keys only)')
    .option('--csr-dir <dir>', 'one CSR per device (DER or PEM); the file name (without extension) is the serial')
    .option('--serial-prefix <p>', 'serials are <prefix><6-digit number>, continuing after the highest existing one')
    .option('--key-type <type>', 'generated key type: ec-p256, ec-p384 or ed25519', 'ec-p256')
    .option('--json', 'print {"batchId","model","hardwareRevision","mode","count","devices":[{"id","serial","certificateSerial","dir"}]}')
    .action(async (o: ProvisionOptions) => {
      if (!['ec-p256', 'ec-p384', 'ed25519'].includes(o.keyType)) throw new CoreError('REQUEST_INVALID', '--key-type must be ec-p256, ec-p384 or ed25519');
      const csrs = o.csrDir ? readCsrDir(o.csrDir) : undefined;
      if (csrs && o.count !== undefined && o.count !== csrs.size) throw new CoreError('REQUEST_INVALID', `--count ${o.count} but ${csrs.size} CSRs in ${o.csrDir}`);
      if (!csrs && (o.count === undefined || !Number.isInteger(o.count) || o.count < 1 || o.count > MAX_BATCH_DEVICES)) throw new CoreError('REQUEST_INVALID', `--count must be 1-${MAX_BATCH_DEVICES}`);
      const p = await ctx.openPlatform();
      try {
        const s = p.services;
        await s.cas.init(); // idempotent; a factory station needs no admin token
        const tenantId = await s.tenants.ensureOperator();
        let serials: string[];
        if (csrs) {
          serials = [...csrs.keys()].sort();
        } else {
          const prefix = o.serialPrefix ?? `${o.model.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 8) || 'SN'}-`;
          const first = await s.provisioning.nextSequence(o.model, prefix);
          serials = Array.from({ length: o.count as number }, (_, i) => `${prefix}${String(first + i).padStart(6, '0')}`);
        }
        const bar = progress(ctx.output, 'issuing IDevIDs', serials.length);
        let shown = 0;
        const devices = await s.provisioning.provision({
          model: o.model, hardwareRevision: o.hwRev, serials, tenantId, actor: 'cli', csrs, keyType: o.keyType,
          onProgress: (done) => {
            bar.tick(done - shown);
            shown = done;
          },
        });
        bar.done();
        mkdirSync(o.out, { recursive: true, mode: 0o700 });
        for (const d of devices) {
          const dir = join(o.out, d.serial);
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          writeFileSync(join(dir, 'chain.pem'), d.idevid.chainPem);
          if (d.privateKeyPem) {
            writeFileSync(join(dir, 'key.pem'), d.privateKeyPem, { mode: 0o600 });
            chmodSync(join(dir, 'key.pem'), 0o600); // an existing file keeps its mode otherwise
          }
          writeFileSync(join(dir, 'device.json'), `${JSON.stringify({ id: d.id, serial: d.serial, model: d.model, hardwareRevision: d.hardwareRevision, batchId: d.batchId, certificateSerial: d.idevid.serial })}\n`);
        }
        const batchId = devices[0]?.batchId;
        if (o.json) {
          ctx.output.out(JSON.stringify({ batchId, model: o.model, hardwareRevision: o.hwRev, mode: csrs ? 'csr' : 'generated-keys', count: devices.length, devices: devices.map((d) => ({ id: d.id, serial: d.serial, certificateSerial: d.idevid.serial, dir: join(o.out, d.serial) })) }));
        } else {
          ctx.output.out(`provisioned ${devices.length} ${o.model} devices (batch ${batchId}), serials ${serials[0]} .. ${serials[serials.length - 1]}`);
          ctx.output.out(`bundles in ${o.out}/<serial>/: chain.pem (IDevID + Manufacturing CA + root)${csrs ? '' : ', key.pem (0600)'}`);
        }
      } finally {
        await p.stop();
      }
    });
}

/** Reads `<serial>[.csr|.der|.pem|.req]` files; any other file name is refused. */
function readCsrDir(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(dir).sort()) {
    const m = CSR_FILE.exec(name);
    if (!m?.[1]) throw new CoreError('REQUEST_INVALID', `${name}: CSR file names must be <serial>[.csr|.der|.pem|.req]`);
    if (out.has(m[1])) throw new CoreError('REQUEST_INVALID', `two CSR files for serial ${m[1]}`);
    out.set(m[1], csrDerFromFile(readFileSync(join(dir, name))));
  }
  if (out.size === 0) throw new CoreError('REQUEST_INVALID', `no CSR files in ${dir}`);
  return out;
}
