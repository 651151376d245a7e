import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type SlotName = 'a' | 'b';

/** What is installed in a slot. */
export interface InstalledFirmware {
  readonly version: string;
  readonly releaseId: string | null;
  readonly target: string | null;
  readonly sha256: string | null;
}

interface SlotState {
  readonly active: SlotName;
  readonly slots: Readonly<Record<SlotName, InstalledFirmware | null>>;
}

/**
 * A simulated A/B firmware layout: `<dir>/slot-a`, `<dir>/slot-b` and `state.json` naming the
 * active slot. An update is written to the inactive slot and only becomes active by `switchTo`,
 * so the running image is never overwritten; state changes are written atomically (rename).
 */
export class AbSlots {
  readonly #dir: string;

  constructor(opts: { dir: string; factory: InstalledFirmware }) {
    this.#dir = opts.dir;
    mkdirSync(join(this.#dir, 'slot-a'), { recursive: true });
    mkdirSync(join(this.#dir, 'slot-b'), { recursive: true });
    if (!existsSync(this.#statePath)) this.#write({ active: 'a', slots: { a: opts.factory, b: null } });
  }

  get #statePath(): string {
    return join(this.#dir, 'state.json');
  }

  #read(): SlotState {
    return JSON.parse(readFileSync(this.#statePath, 'utf8')) as SlotState;
  }

  #write(s: SlotState): void {
    const tmp = `${this.#statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(s));
    renameSync(tmp, this.#statePath);
  }

  active(): SlotName {
    return this.#read().active;
  }

  inactive(): SlotName {
    return this.active() === 'a' ? 'b' : 'a';
  }

  /** The firmware running now. */
  installed(): InstalledFirmware {
    const s = this.#read();
    const fw = s.slots[s.active];
    if (!fw) throw new Error('active slot is empty');
    return fw;
  }

  slotDir(slot: SlotName): string {
    return join(this.#dir, `slot-${slot}`);
  }

  /** Replaces the inactive slot's content with `file` (named `fileName`); returns its path. */
  writeInactive(file: string, fileName: string, fw: InstalledFirmware): string {
    const slot = this.inactive();
    const dir = this.slotDir(slot);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const dest = join(dir, fileName);
    copyFileSync(file, dest);
    const s = this.#read();
    this.#write({ active: s.active, slots: { ...s.slots, [slot]: fw } });
    return dest;
  }

  /** Makes `slot` the active one (the simulated reboot into it). */
  switchTo(slot: SlotName): void {
    const s = this.#read();
    if (!s.slots[slot]) throw new Error(`slot ${slot} is empty`);
    this.#write({ ...s, active: slot });
  }
}
