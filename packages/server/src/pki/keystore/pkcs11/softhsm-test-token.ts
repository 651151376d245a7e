import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pkcs11KeyStoreConfig } from './pkcs11-token.ts';

/** Where Debian's softhsm2 package installs the module (also the path in docs/hsm.md). */
export const SOFTHSM2_LIBRARY = process.env.MEDTRUST_TEST_SOFTHSM2_LIBRARY ?? '/usr/lib/softhsm/libsofthsm2.so';

/** A freshly initialised SoftHSM2 token in a temp dir, for tests. */
export interface SoftHsmTestToken {
  readonly config: Pkcs11KeyStoreConfig;
  readonly soPin: string;
  /** CK_SLOT_ID SoftHSM2 assigned to the token (derived from its serial). */
  readonly slotId: number;
  readonly confPath: string;
  /** Rewrites softhsm2.conf with extra lines (read again at the next C_Initialize). */
  configure(extraLines?: readonly string[]): void;
  /** Runs softhsm2-util with this token's configuration. */
  util(args: readonly string[]): string;
  remove(): void;
}

/**
 * Creates a token labelled `label` with user PIN 1234 in its own token directory and points
 * SOFTHSM2_CONF (read by libsofthsm2 at C_Initialize) at it for this process.
 */
export function createSoftHsmTestToken(label = 'medtrust-test'): SoftHsmTestToken {
  if (!existsSync(SOFTHSM2_LIBRARY)) throw new Error(`SoftHSM2 is not installed (${SOFTHSM2_LIBRARY}); .ci/run installs the softhsm2 package`);
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir);
  const confPath = join(dir, 'softhsm2.conf');
  const configure = (extraLines: readonly string[] = []): void => {
    writeFileSync(confPath, [`directories.tokendir = ${tokenDir}`, 'objectstore.backend = file', 'log.level = ERROR', 'slots.removable = false', ...extraLines, ''].join('\n'));
  };
  configure();
  process.env.SOFTHSM2_CONF = confPath;
  const util = (args: readonly string[]): string =>
    execFileSync('softhsm2-util', args, { env: { ...process.env, SOFTHSM2_CONF: confPath }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const soPin = '5678';
  const out = util(['--init-token', '--free', '--label', label, '--pin', '1234', '--so-pin', soPin]);
  const slotMatch = /reassigned to slot (\d+)/.exec(out);
  if (!slotMatch?.[1]) throw new Error(`softhsm2-util did not report the slot: ${out}`);
  return {
    config: { kind: 'pkcs11', library: SOFTHSM2_LIBRARY, tokenLabel: label, slot: undefined, pin: '1234' },
    soPin,
    slotId: Number(slotMatch[1]),
    confPath,
    configure,
    util,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
