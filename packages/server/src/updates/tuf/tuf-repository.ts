import { type Clock, canonicalJson, systemClock } from '@medtrust/core';
import type { Kysely, Transaction } from 'kysely';
import type { Readable } from 'node:stream';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { KeyStore } from '../../pki/index.ts';
import type { ArtifactStore } from '../artifact-store.ts';
import { UpdateError } from '../errors.ts';
import { compareVersions, type VersionScheme } from '../version.ts';
import type { StoredDocument, TufDocumentStore } from './tuf-document-store.ts';
import { TufKeyring } from './tuf-keyring.ts';
import { type DelegatedRoleSpec, metaFileInfo, type SnapshotSigned, type TargetFileInfo, type TargetsSigned, type TimestampSigned, TUF_SPEC_VERSION, tufExpiry } from './tuf-metadata.ts';

/** How long each online role's metadata is valid; each is re-signed at half its lifetime. */
export interface TufLifetimes {
  readonly targetsMs: number;
  readonly delegationMs: number;
  readonly snapshotMs: number;
  readonly timestampMs: number;
}

const DAY_MS = 86_400_000;
export const DEFAULT_LIFETIMES: TufLifetimes = Object.freeze({ targetsMs: 90 * DAY_MS, delegationMs: 90 * DAY_MS, snapshotMs: 7 * DAY_MS, timestampMs: DAY_MS });

/** Name of the per-model manifest target: lists the model's published versions, signed by hash. */
export const MANIFEST_NAME = 'index.json';

/** What a device finds in `<model>/index.json`. */
export interface ModelManifest {
  readonly model: string;
  readonly latest: { readonly version: string; readonly target: string } | null;
  readonly releases: readonly { readonly version: string; readonly target: string }[];
}

type Trx = Transaction<Database>;

/**
 * The online side of the TUF repository: per-model delegated targets, targets, snapshot and
 * timestamp, signed with online keys whenever releases are published or withdrawn, and re-signed
 * before they expire. Root keys are never loaded here (see TufRootCeremony).
 */
export class TufRepository {
  readonly #docs: TufDocumentStore;
  readonly #keys: TufKeyring;
  readonly #artifacts: ArtifactStore;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #onSigned: () => void;
  readonly #life: TufLifetimes;

  constructor(opts: { docs: TufDocumentStore; keyStore: KeyStore; artifacts: ArtifactStore; audit: AuditLog; clock?: Clock; lifetimes?: Partial<TufLifetimes>; algorithm?: 'ed25519' | 'ec-p256'; onSigned?: () => void }) {
    this.#onSigned = opts.onSigned ?? (() => undefined);
    this.#docs = opts.docs;
    this.#clock = opts.clock ?? systemClock;
    this.#keys = new TufKeyring({ keyStore: opts.keyStore, clock: this.#clock, algorithm: opts.algorithm });
    this.#artifacts = opts.artifacts;
    this.#audit = opts.audit;
    this.#life = { ...DEFAULT_LIFETIMES, ...opts.lifetimes };
  }

  /** Re-signs the delegated roles of `models` from their published releases, then snapshot and timestamp. */
  async publishModels(models: readonly string[], actor: string, before?: (trx: Trx) => Promise<void>): Promise<{ timestampVersion: number }> {
    // `before` runs in the same transaction, so a release state change and its signing commit together.
    const r = await this.#docs.change(async (trx) => {
      if (before) await before(trx);
      return this.#update(trx, { models: new Set(models) });
    });
    this.#onSigned();
    await this.#audit.append({ actor, action: 'tuf.metadata.signed', target: 'tuf:timestamp', details: { models: [...models].sort(), roles: r.roles, timestampVersion: r.timestampVersion } });
    return { timestampVersion: r.timestampVersion };
  }

  /** Re-signs every online role whose metadata passed half its lifetime; returns the roles signed. */
  async refreshExpiring(): Promise<string[]> {
    const r = await this.#docs.change(async (trx) => {
      const now = this.#clock.nowMs();
      const due = (d: StoredDocument | undefined, lifeMs: number): boolean => d !== undefined && d.expiresAtMs - now < lifeMs / 2;
      const targets = await this.#requireLatest<TargetsSigned>(trx, 'targets');
      const models = new Set<string>();
      for (const role of targets.doc.signed.delegations?.roles ?? []) {
        if (due(await this.#docs.latest(trx, role.name), this.#life.delegationMs)) models.add(role.name);
      }
      return this.#update(trx, {
        models,
        forceTargets: due(targets, this.#life.targetsMs),
        forceSnapshot: due(await this.#docs.latest(trx, 'snapshot'), this.#life.snapshotMs),
        forceTimestamp: due(await this.#docs.latest(trx, 'timestamp'), this.#life.timestampMs),
      });
    });
    if (r.roles.length > 0) this.#onSigned();
    if (r.roles.length > 0) await this.#audit.append({ actor: 'system', action: 'tuf.metadata.refreshed', target: 'tuf:timestamp', details: { roles: r.roles, timestampVersion: r.timestampVersion } });
    return r.roles;
  }

  async #requireLatest<S extends SnapshotSigned | TargetsSigned | TimestampSigned>(db: Kysely<Database> | Trx, role: string): Promise<StoredDocument<S>> {
    const d = await this.#docs.latest<S>(db, role);
    if (!d) throw new UpdateError('TUF_NOT_INITIALISED', 'the TUF repository has no root yet; run `medtrust init`');
    return d;
  }

  async #update(trx: Trx, want: { models: Set<string>; forceTargets?: boolean; forceSnapshot?: boolean; forceTimestamp?: boolean }): Promise<{ roles: string[]; timestampVersion: number }> {
    const now = this.#clock.nowMs();
    const signedRoles: string[] = [];
    const targets = await this.#requireLatest<TargetsSigned>(trx, 'targets');
    const delegated = targets.doc.signed.delegations?.roles ?? [];
    const newModels = [...want.models].filter((m) => !delegated.some((d) => d.name === m)).sort();
    let changed = false;
    if (newModels.length > 0 || want.forceTargets) {
      const roles: DelegatedRoleSpec[] = [...delegated];
      for (const model of newModels) {
        const [k] = await this.#keys.ensure(trx, `delegation:${model}`);
        // TUF 1.0 §4.5: a terminating delegation per model; tuf-js matches patterns segment by
        // segment, so `<model>/*` covers the manifest and `<model>/*/*` the firmware files.
        roles.push({ name: model, keyids: [k!.keyId], threshold: 1, terminating: true, paths: [`${model}/*`, `${model}/*/*`] });
      }
      const keys: Record<string, unknown> = {};
      for (const role of roles) for (const k of await this.#keys.current(trx, `delegation:${role.name}`)) keys[k.keyId] = k.key;
      const exp = secs(now + this.#life.targetsMs);
      const signed: TargetsSigned = { _type: 'targets', spec_version: TUF_SPEC_VERSION, version: targets.version + 1, expires: tufExpiry(exp), targets: {}, delegations: { keys: keys as never, roles } };
      await this.#docs.write(trx, 'targets', signed, await this.#keys.current(trx, 'targets'), exp);
      signedRoles.push('targets');
      changed = true;
    }
    for (const model of [...want.models].sort()) {
      await this.#signDelegation(trx, model, now);
      signedRoles.push(model);
      changed = true;
    }
    if (changed || want.forceSnapshot) {
      await this.#signSnapshot(trx, now);
      signedRoles.push('snapshot');
      changed = true;
    }
    let timestampVersion = (await this.#requireLatest<TimestampSigned>(trx, 'timestamp')).version;
    if (changed || want.forceTimestamp) {
      timestampVersion = await this.#signTimestamp(trx, now);
      signedRoles.push('timestamp');
    }
    return { roles: signedRoles, timestampVersion };
  }

  async #signDelegation(trx: Trx, model: string, now: number): Promise<void> {
    const rows = await trx.selectFrom('release').innerJoin('release_model', 'release_model.release_id', 'release.id')
      .select(['release.id', 'release.version', 'release.version_scheme', 'release.file_name', 'release.artifact_sha256', 'release.artifact_sha512', 'release.artifact_length', 'release.hardware_revisions', 'release.downgrade_device_ids'])
      .where('release_model.model', '=', model).where('release.state', '=', 'published').execute();
    const targets: Record<string, TargetFileInfo> = {};
    const listed: { version: string; target: string; scheme: VersionScheme }[] = [];
    for (const r of rows) {
      const path = `${model}/${r.version}/${r.file_name}`;
      targets[path] = {
        length: Number(r.artifact_length),
        hashes: { sha256: r.artifact_sha256, sha512: r.artifact_sha512 },
        custom: {
          releaseId: r.id, model, version: r.version, versionScheme: r.version_scheme,
          hardwareRevisions: JSON.parse(r.hardware_revisions) as string[],
          // Anti-rollback exception, signed by this model's role: only these devices may install it as a downgrade.
          downgradeAuthorisedDeviceIds: JSON.parse(r.downgrade_device_ids) as string[],
        },
      };
      listed.push({ version: r.version, target: path, scheme: r.version_scheme });
      await this.#recordTarget(trx, path, r.artifact_sha256, Number(r.artifact_length), now);
    }
    listed.sort((a, b) => compareVersions(b.version, a.version, a.scheme));
    const releases = listed.map(({ version, target }) => ({ version, target }));
    const manifest: ModelManifest = { model, latest: releases[0] ?? null, releases };
    const bytes = Buffer.from(canonicalJson(manifest), 'utf8');
    const stored = await this.#artifacts.put(bytes, bytes.length);
    const manifestPath = `${model}/${MANIFEST_NAME}`;
    targets[manifestPath] = { length: stored.length, hashes: { sha256: stored.sha256, sha512: stored.sha512 } };
    await this.#recordTarget(trx, manifestPath, stored.sha256, stored.length, now);
    const prev = await this.#docs.latest(trx, model);
    const exp = secs(now + this.#life.delegationMs);
    const signed: TargetsSigned = { _type: 'targets', spec_version: TUF_SPEC_VERSION, version: (prev?.version ?? 0) + 1, expires: tufExpiry(exp), targets };
    await this.#docs.write(trx, model, signed, await this.#keys.current(trx, `delegation:${model}`), exp);
  }

  async #recordTarget(trx: Trx, path: string, sha256: string, length: number, now: number): Promise<void> {
    await trx.insertInto('tuf_target_file').values({ path, sha256, length, created_at: now }).onConflict((oc) => oc.columns(['path', 'sha256']).doNothing()).execute();
  }

  async #signSnapshot(trx: Trx, now: number): Promise<void> {
    const targets = await this.#requireLatest<TargetsSigned>(trx, 'targets');
    const meta: Record<string, ReturnType<typeof metaFileInfo>> = { 'targets.json': metaFileInfo(targets.version, targets.body) };
    for (const role of targets.doc.signed.delegations?.roles ?? []) {
      const d = await this.#docs.latest(trx, role.name);
      if (d) meta[`${role.name}.json`] = metaFileInfo(d.version, d.body);
    }
    const prev = await this.#requireLatest<SnapshotSigned>(trx, 'snapshot');
    const exp = secs(now + this.#life.snapshotMs);
    await this.#docs.write(trx, 'snapshot', { _type: 'snapshot', spec_version: TUF_SPEC_VERSION, version: prev.version + 1, expires: tufExpiry(exp), meta }, await this.#keys.current(trx, 'snapshot'), exp);
  }

  async #signTimestamp(trx: Trx, now: number): Promise<number> {
    const snapshot = await this.#requireLatest<SnapshotSigned>(trx, 'snapshot');
    const prev = await this.#requireLatest<TimestampSigned>(trx, 'timestamp');
    const exp = secs(now + this.#life.timestampMs);
    // TUF 1.0 §4.6: the timestamp pins the snapshot's version, length and hash (mix-and-match defence).
    const signed: TimestampSigned = { _type: 'timestamp', spec_version: TUF_SPEC_VERSION, version: prev.version + 1, expires: tufExpiry(exp), meta: { 'snapshot.json': metaFileInfo(snapshot.version, snapshot.body) } };
    await this.#docs.write(trx, 'timestamp', signed, await this.#keys.current(trx, 'timestamp'), exp);
    return signed.version;
  }

  /** A target file's bytes if `path` (`<dir>/<sha256>.<name>`) names a file ever listed as a target. */
  async openTarget(hashedPath: string): Promise<{ stream: Readable; length: number } | undefined> {
    const m = /^(?:(.+)\/)?([0-9a-f]{64})\.([^/]+)$/.exec(hashedPath);
    if (!m) return undefined;
    const [, dir, sha256, name] = m as unknown as [string, string | undefined, string, string];
    const path = dir ? `${dir}/${name}` : name;
    const row = await this.#docs.db.selectFrom('tuf_target_file').select(['length']).where('path', '=', path).where('sha256', '=', sha256).executeTakeFirst();
    if (!row) return undefined;
    // A firmware target (`<model>/<version>/<file>`) of a withdrawn release is not served: a client
    // holding metadata from before the withdrawal must not install it (model manifests are served).
    const parts = path.split('/');
    if (parts.length === 3) {
      const withdrawn = await this.#docs.db.selectFrom('release').innerJoin('release_model', 'release_model.release_id', 'release.id').select('release.id')
        .where('release_model.model', '=', parts[0]!).where('release.version', '=', parts[1]!).where('release.artifact_sha256', '=', sha256).where('release.state', '=', 'withdrawn').executeTakeFirst();
      if (withdrawn) throw new UpdateError('TUF_TARGET_WITHDRAWN', 'this target belongs to a withdrawn release', { details: { releaseId: withdrawn.id } });
    }
    const stream = await this.#artifacts.open(sha256);
    if (!stream) throw new UpdateError('ARTIFACT_MISSING', 'a listed target is missing from the artifact store', { details: { sha256 } });
    return { stream, length: Number(row.length) };
  }
}

function secs(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
