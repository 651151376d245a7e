import type { Readable } from 'node:stream';
import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { UpdateError } from './errors.ts';
import type { ModelCatalogue } from './model-catalogue.ts';
import { DEVICE_ID_RE, FILE_NAME_RE, HW_REV_RE, isModelName, nextState, type Release, type ReleaseAction, type ReleaseState, toRelease } from './release.ts';
import type { TufRepository } from './tuf/tuf-repository.ts';
import { versionScheme } from './version.ts';

export interface CreateReleaseInput {
  readonly tenantId: string;
  readonly models: readonly string[];
  readonly version: string;
  readonly fileName: string;
  readonly hardwareRevisions?: readonly string[];
  readonly notes?: string;
  readonly artifact: Readable | Buffer;
  readonly actor: string;
}

/** Hands an SBOM to the vulnerability domain (VulnService.importSbom); throws a coded error when invalid. */
export type SbomImporter = (opts: { model: string; firmwareVersion: string; text: string; actor: string; tenantId?: string }) => Promise<unknown>;

export const DEFAULT_MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_SBOM_BYTES = 16 * 1024 * 1024;

function invalid(field: string, why: string): UpdateError {
  return new UpdateError('RELEASE_FIELD_INVALID', `${field}: ${why}`, { details: { field } });
}

/**
 * Firmware releases: upload (streamed, hashed, size-limited) and the lifecycle
 * draft -> approved -> published -> withdrawn. Publishing and withdrawing re-sign the TUF
 * delegations of the release's models in the same transaction as the state change.
 */
export class ReleaseService {
  readonly #db: Kysely<Database>;
  readonly #artifacts: ArtifactStore;
  readonly #models: ModelCatalogue;
  readonly #tuf: TufRepository;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly maxArtifactBytes: number;
  readonly maxSbomBytes: number;
  readonly #sbomImporter: SbomImporter | undefined;
  readonly #onWithdrawn: ((releaseId: string, actor: string) => Promise<void>) | undefined;

  /** `onWithdrawn` runs after a withdrawal is stored and audited (the campaigns stop rolling it out). */
  constructor(opts: { db: Kysely<Database>; artifacts: ArtifactStore; models: ModelCatalogue; tuf: TufRepository; audit: AuditLog; clock?: Clock; maxArtifactBytes?: number; maxSbomBytes?: number; sbomImporter?: SbomImporter; onWithdrawn?: (releaseId: string, actor: string) => Promise<void> }) {
    this.#sbomImporter = opts.sbomImporter;
    this.#onWithdrawn = opts.onWithdrawn;
    this.#db = opts.db;
    this.#artifacts = opts.artifacts;
    this.#models = opts.models;
    this.#tuf = opts.tuf;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
    this.maxArtifactBytes = opts.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    this.maxSbomBytes = opts.maxSbomBytes ?? DEFAULT_MAX_SBOM_BYTES;
  }

  /** Validates every field before reading the artifact, then streams it into the store. */
  async create(input: CreateReleaseInput): Promise<Release> {
    const models = [...new Set(input.models)].sort();
    if (models.length === 0 || models.length > 32) throw invalid('model', 'name 1 to 32 models');
    const scheme = versionScheme(input.version);
    if (!scheme) throw new UpdateError('RELEASE_VERSION_INVALID', `"${input.version.slice(0, 64)}" is neither strict semver nor an integer counter`, { details: { field: 'version' } });
    if (!FILE_NAME_RE.test(input.fileName) || input.fileName.endsWith('.json')) throw invalid('fileName', 'one path segment of A-Z a-z 0-9 . _ + -, not ending in .json');
    const hw = [...new Set(input.hardwareRevisions ?? [])].sort();
    if (hw.some((h) => !HW_REV_RE.test(h)) || hw.length > 64) throw invalid('hardwareRevision', 'up to 64 of A-Z a-z 0-9 . _ -');
    const notes = input.notes ?? '';
    if (notes.length > 20_000) throw invalid('notes', 'at most 20000 characters');
    for (const m of models) {
      if (!isModelName(m) || !(await this.#models.isKnown(m))) throw new UpdateError('RELEASE_MODEL_UNKNOWN', `unknown model "${m.slice(0, 64)}"`, { details: { model: m.slice(0, 64) } });
      const other = await this.#db.selectFrom('release').innerJoin('release_model', 'release_model.release_id', 'release.id')
        .select(['release.version', 'release.version_scheme']).where('release_model.model', '=', m).execute();
      if (other.some((o) => o.version === input.version)) throw new UpdateError('RELEASE_VERSION_EXISTS', `model ${m} already has version ${input.version}`, { details: { model: m } });
      // Versions of one model must share a scheme, or "lower" would be undefined for anti-rollback.
      if (other.some((o) => o.version_scheme !== scheme)) throw new UpdateError('RELEASE_VERSION_INVALID', `model ${m} uses ${other[0]!.version_scheme} versions`, { details: { field: 'version', model: m } });
    }
    const stored = await this.#artifacts.put(input.artifact, this.maxArtifactBytes);
    const id = newId('rel');
    const now = this.#clock.nowMs();
    await this.#db.transaction().execute(async (trx) => {
      await trx.insertInto('release').values({
        id, tenant_id: input.tenantId, version: input.version, version_scheme: scheme, file_name: input.fileName,
        artifact_sha256: stored.sha256, artifact_sha512: stored.sha512, artifact_length: stored.length,
        hardware_revisions: JSON.stringify(hw), notes, sbom_sha256: null, sbom_file_name: null, state: 'draft',
        downgrade_device_ids: '[]', created_at: now, created_by: input.actor,
        approved_at: null, approved_by: null, published_at: null, published_by: null, withdrawn_at: null, withdrawn_by: null,
      }).execute();
      for (const model of models) await trx.insertInto('release_model').values({ release_id: id, model, version: input.version }).execute();
    }).catch((e: unknown) => {
      if (/UNIQUE|duplicate key/i.test(e instanceof Error ? e.message : '')) throw new UpdateError('RELEASE_VERSION_EXISTS', 'a release with this version was created at the same time', { cause: e });
      throw e;
    });
    await this.#audit.append({ actor: input.actor, action: 'release.created', target: `release:${id}`, tenantId: input.tenantId, details: { models, version: input.version, sha256: stored.sha256, length: stored.length } });
    return this.get(id);
  }

  /**
   * Stores the SBOM file as-is and, when an importer is wired, hands it to the vulnerability
   * domain for every model of the release; an SBOM the importer refuses is not attached.
   */
  async attachSbom(id: string, sbom: Readable | Buffer, fileName: string, actor: string): Promise<Release> {
    if (!FILE_NAME_RE.test(fileName)) throw invalid('sbomFileName', 'one path segment of A-Z a-z 0-9 . _ + -');
    const current = await this.get(id);
    if (current.state !== 'draft') throw new UpdateError('RELEASE_STATE_INVALID', `an SBOM can be attached only to a draft, not ${current.state}`, { details: { state: current.state } });
    const stored = await this.#artifacts.put(sbom, this.maxSbomBytes);
    if (this.#sbomImporter) {
      const text = await readAll(await this.#artifacts.open(stored.sha256));
      for (const model of current.models) await this.#sbomImporter({ model, firmwareVersion: current.version, text, actor });
    }
    await this.#db.updateTable('release').set({ sbom_sha256: stored.sha256, sbom_file_name: fileName }).where('id', '=', id).where('state', '=', 'draft').execute();
    await this.#audit.append({ actor, action: 'release.sbom-attached', target: `release:${id}`, details: { sha256: stored.sha256, length: stored.length } });
    return this.get(id);
  }

  async get(id: string): Promise<Release> {
    const r = await this.#db.selectFrom('release').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new UpdateError('RELEASE_NOT_FOUND', 'no such release');
    const models = await this.#db.selectFrom('release_model').select('model').where('release_id', '=', id).execute();
    return toRelease(r, models.map((m) => m.model));
  }

  async list(filter: { state?: ReleaseState; model?: string } = {}): Promise<Release[]> {
    let q = this.#db.selectFrom('release').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(1000);
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.model) q = q.where('id', 'in', this.#db.selectFrom('release_model').select('release_id').where('model', '=', filter.model));
    const rows = await q.execute();
    if (rows.length === 0) return [];
    const models = await this.#db.selectFrom('release_model').select(['release_id', 'model']).where('release_id', 'in', rows.map((r) => r.id)).execute();
    return rows.map((r) => toRelease(r, models.filter((m) => m.release_id === r.id).map((m) => m.model)));
  }

  /** Applies a lifecycle action; RELEASE_STATE_INVALID when the current state does not allow it. */
  async transition(id: string, action: ReleaseAction, actor: string): Promise<Release> {
    const before = await this.get(id);
    const to = nextState(action, before.state);
    if (!to) {
      await this.#audit.append({ actor, action: `release.${action}`, target: `release:${id}`, outcome: 'denied', details: { from: before.state } });
      throw new UpdateError('RELEASE_STATE_INVALID', `cannot ${action} a ${before.state} release`, { details: { state: before.state, action } });
    }
    const now = this.#clock.nowMs();
    const set = action === 'approve' ? { state: to, approved_at: now, approved_by: actor }
      : action === 'publish' ? { state: to, published_at: now, published_by: actor }
      : { state: to, withdrawn_at: now, withdrawn_by: actor };
    const update = async (db: Pick<Kysely<Database>, 'updateTable'>): Promise<void> => {
      // The state in the WHERE makes a concurrent transition lose instead of both applying.
      const r = await db.updateTable('release').set(set).where('id', '=', id).where('state', '=', before.state).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new UpdateError('RELEASE_STATE_INVALID', 'the release changed state meanwhile', { details: { action } });
    };
    // Publishing, or withdrawing a published release, changes what the TUF repository lists.
    if (action === 'publish' || (action === 'withdraw' && before.state === 'published')) await this.#tuf.publishModels(before.models, actor, update);
    else await update(this.#db);
    await this.#audit.append({ actor, action: `release.${action}`, target: `release:${id}`, details: { from: before.state, to, models: before.models, version: before.version } });
    if (action === 'withdraw') await this.#onWithdrawn?.(id, actor);
    return this.get(id);
  }

  /**
   * Lets the named devices install this release even when it is lower than their installed
   * version: the ids go into the target's signed `custom.downgradeAuthorisedDeviceIds`.
   */
  async authoriseDowngrade(id: string, deviceIds: readonly string[], actor: string): Promise<Release> {
    const ids = [...new Set(deviceIds)];
    if (ids.length === 0 || ids.length > 1000 || ids.some((d) => !DEVICE_ID_RE.test(d))) throw invalid('deviceId', '1 to 1000 device ids');
    const before = await this.get(id);
    if (before.state === 'withdrawn') throw new UpdateError('RELEASE_STATE_INVALID', 'the release is withdrawn', { details: { state: before.state } });
    const all = JSON.stringify([...new Set([...before.downgradeAuthorisedDeviceIds, ...ids])].sort());
    const update = async (db: Pick<Kysely<Database>, 'updateTable'>): Promise<void> => {
      await db.updateTable('release').set({ downgrade_device_ids: all }).where('id', '=', id).execute();
    };
    if (before.state === 'published') await this.#tuf.publishModels(before.models, actor, update);
    else await update(this.#db);
    await this.#audit.append({ actor, action: 'release.downgrade-authorised', target: `release:${id}`, details: { deviceIds: ids, version: before.version } });
    return this.get(id);
  }
}

async function readAll(stream: Readable | undefined): Promise<string> {
  if (!stream) throw new UpdateError('ARTIFACT_MISSING', 'the SBOM just stored is missing');
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
