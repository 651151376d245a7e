import type { Clock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import type { Advisory } from './match/advisory.ts';
import { type ComponentMatch, matchFirmware, toMatchable } from './match/firmware-matcher.ts';

const CHUNK = 500;

/** Splits a list so IN (...) and multi-row inserts stay under both dialects' parameter limits. */
export function chunks<T>(xs: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export interface Firmware {
  readonly model: string;
  readonly firmwareVersion: string;
}

/** Keeps `vuln_match` current: per firmware after an SBOM import, per advisory after a feed update. */
export class MatchStore {
  readonly #clock: Clock;

  /** Every method takes the connection or transaction to work in, so callers keep their atomicity. */
  constructor(opts: { clock: Clock }) {
    this.#clock = opts.clock;
  }

  async #components(db: Kysely<Database>, fw: Firmware) {
    const rows = await db.selectFrom('vuln_component').select(['id', 'name', 'version', 'purl', 'cpe'])
      .where('model', '=', fw.model).where('firmware_version', '=', fw.firmwareVersion).execute();
    return rows.map(toMatchable);
  }

  async #advisoriesForKeys(db: Kysely<Database>, keys: readonly string[]): Promise<Map<string, Advisory[]>> {
    const byKey = new Map<string, Advisory[]>();
    const parsed = new Map<string, Advisory>();
    for (const part of chunks([...new Set(keys)])) {
      const rows = await db.selectFrom('vuln_advisory_key as k').innerJoin('vuln_advisory as a', 'a.id', 'k.advisory_id')
        .select(['k.package_key', 'a.id', 'a.record']).where('k.package_key', 'in', part).execute();
      for (const r of rows) {
        let a = parsed.get(r.id);
        if (!a) {
          a = JSON.parse(r.record) as Advisory;
          parsed.set(r.id, a);
        }
        const list = byKey.get(r.package_key);
        if (list) list.push(a);
        else byKey.set(r.package_key, [a]);
      }
    }
    return byKey;
  }

  async #write(db: Kysely<Database>, fw: Firmware, matches: readonly ComponentMatch[]): Promise<void> {
    const now = this.#clock.nowMs();
    for (const part of chunks(matches, 200)) {
      await db.insertInto('vuln_match').values(part.map((m) => ({
        component_id: m.componentId, advisory_id: m.advisoryId, vuln_id: m.vulnId, model: fw.model, firmware_version: fw.firmwareVersion,
        status: m.status, reason: m.reason.slice(0, 1000), fixed_version: m.fixedVersion, matched_at: now,
      }))).execute();
    }
  }

  /** Re-matches every component of one firmware against all advisories under its keys. */
  async rematchFirmware(db: Kysely<Database>, fw: Firmware): Promise<number> {
    const components = await this.#components(db, fw);
    const index = await this.#advisoriesForKeys(db, components.flatMap((c) => c.keys));
    const matches = matchFirmware(components, (k) => index.get(k) ?? []);
    await db.deleteFrom('vuln_match').where('model', '=', fw.model).where('firmware_version', '=', fw.firmwareVersion).execute();
    await this.#write(db, fw, matches);
    return matches.length;
  }

  /**
   * Incremental: only firmwares holding a component under one of the changed advisories' keys
   * are touched, and only the changed advisories are evaluated there.
   */
  async rematchAdvisories(db: Kysely<Database>, changed: ReadonlyMap<string, { advisory: Advisory; keys: readonly string[] }>): Promise<{ firmwares: number; matches: number }> {
    if (changed.size === 0) return { firmwares: 0, matches: 0 };
    const ids = [...changed.keys()];
    for (const part of chunks(ids)) await db.deleteFrom('vuln_match').where('advisory_id', 'in', part).execute();
    const byKey = new Map<string, Advisory[]>();
    for (const { advisory, keys } of changed.values()) for (const k of keys) byKey.set(k, [...(byKey.get(k) ?? []), advisory]);
    const firmwares = new Map<string, Firmware>();
    for (const part of chunks([...byKey.keys()])) {
      const rows = await db.selectFrom('vuln_component_key as k').innerJoin('vuln_component as c', 'c.id', 'k.component_id')
        .select(['c.model', 'c.firmware_version']).distinct().where('k.package_key', 'in', part).execute();
      for (const r of rows) firmwares.set(`${r.model}\u0000${r.firmware_version}`, { model: r.model, firmwareVersion: r.firmware_version });
    }
    const only = new Set(ids);
    let total = 0;
    for (const fw of firmwares.values()) {
      const matches = matchFirmware(await this.#components(db, fw), (k) => byKey.get(k) ?? [], only);
      await this.#write(db, fw, matches);
      total += matches.length;
    }
    return { firmwares: firmwares.size, matches: total };
  }
}
