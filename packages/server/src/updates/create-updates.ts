import { join } from 'node:path';
import type { Clock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { AuditLog } from '../audit/index.ts';
import type { Database, SqlDialectName } from '../db/index.ts';
import type { HttpFastPath, RouteModule } from '../http/index.ts';
import type { Job } from '../jobs/index.ts';
import type { KeyStore } from '../pki/index.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { FileArtifactStore } from './file/file-artifact-store.ts';
import { type ModelCatalogue, RegistryModelCatalogue } from './model-catalogue.ts';
import { CampaignService } from './campaigns/campaign-service.ts';
import { campaignRoutes } from './campaigns/campaign-routes.ts';
import { releaseRoutes } from './release-routes.ts';
import { ReleaseService, type SbomImporter } from './release-service.ts';
import { TufDocumentStore } from './tuf/tuf-document-store.ts';
import { TufMetadataReader } from './tuf/tuf-metadata-reader.ts';
import { tufRefreshJob } from './tuf/tuf-refresh-job.ts';
import { type TufLifetimes, TufRepository } from './tuf/tuf-repository.ts';
import { TufRootCeremony } from './tuf/tuf-root-ceremony.ts';
import { openTufRootFileStore, TufRootKeyStore } from './tuf/tuf-root-key-store.ts';
import { tufFastPath, tufRoutes } from './tuf/tuf-routes.ts';
import { type FirmwareRecorder, UpdateStatusChannel } from './device-channel/update-status-channel.ts';
import { deviceTagRoutes } from './tags/device-tag-routes.ts';
import { DeviceTagService } from './tags/device-tag-service.ts';

/** The updates domain as the platform wires it. */
export interface Updates {
  readonly releases: ReleaseService;
  readonly campaigns: CampaignService;
  readonly tuf: TufRepository;
  readonly ceremony: TufRootCeremony;
  /** A ceremony whose new root keys go to `rootStore` (the separate root key store); see docs/updates.md. */
  rootCeremony(rootStore: KeyStore): TufRootCeremony;
  /** The same with the separate encrypted file store for root keys (`openTufRootFileStore`). */
  rootFileCeremony(store: { readonly dir: string; readonly passphrase: string | undefined }): TufRootCeremony;
  readonly reader: TufMetadataReader;
  readonly artifacts: ArtifactStore;
  /** Desired state and status over MQTT (`devices/{id}/updates/desired`, `devices/{id}/update-status`). */
  readonly channel: UpdateStatusChannel;
  readonly tags: DeviceTagService;
  /** `/api/v1/devices/{id}/tags` ('device:manage' to set, 'device:read' to read). */
  deviceTagRoutes(guards: { readonly manage: preHandlerAsyncHookHandler; readonly read: preHandlerAsyncHookHandler }): RouteModule;
  /** Public TUF endpoints under /tuf. */
  readonly tufRoutes: RouteModule;
  /** GET /tuf/metadata/timestamp.json from memory before Fastify (pass to `buildHttpApp({ fastPaths })`). */
  readonly tufFastPath: HttpFastPath;
  /** `/api/v1/releases` and `/api/v1/campaigns`, behind the given permission checks ('release:manage', 'release:read'). */
  releaseRoutes(guards: { readonly manage: preHandlerAsyncHookHandler; readonly read: preHandlerAsyncHookHandler }): RouteModule;
  readonly jobs: readonly Job[];
}

export interface UpdatesOptions {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialectName;
  readonly dataDir: string;
  /** Online keys (targets, snapshot, timestamp, delegations). */
  readonly keyStore: KeyStore;
  /** Root keys; defaults to `keyStore`. Pass a separate (offline/HSM) store to keep them apart. */
  readonly rootKeyStore?: KeyStore;
  readonly audit: AuditLog;
  readonly clock?: Clock;
  readonly artifacts?: ArtifactStore;
  readonly models?: ModelCatalogue;
  readonly lifetimes?: Partial<TufLifetimes>;
  readonly maxArtifactBytes?: number;
  readonly timestampCacheMs?: number;
  readonly refreshIntervalMs?: number;
  /** Where attached SBOMs go for parsing and matching (the vulnerability domain); none: stored only. */
  readonly sbomImporter?: SbomImporter;
  /** Campaign evaluations run at most this often (0: synchronously on every report). */
  readonly campaignEvaluationIntervalMs?: number;
  /** TUF key type: ed25519 by default; ec-p256 for HSMs without EdDSA. */
  readonly algorithm?: 'ed25519' | 'ec-p256';
  /** Failures of background desired-state pushes (logged by the platform). */
  readonly onChannelError?: (e: unknown) => void;
  /** Told when a device reports a campaign's release installed (the platform: DeviceRegistry.recordFirmware). */
  readonly recordFirmware?: FirmwareRecorder;
}

/** Builds releases, the TUF repository, its routes and its refresh job. */
export function createUpdates(o: UpdatesOptions): Updates {
  const artifacts = o.artifacts ?? new FileArtifactStore({ dir: join(o.dataDir, 'artifacts') });
  const docs = new TufDocumentStore({ db: o.db, dialect: o.dialect, clock: o.clock });
  const reader = new TufMetadataReader({ docs, clock: o.clock, cacheMs: o.timestampCacheMs });
  // This node's own changes show at once; other nodes' within the reader's cache time.
  const tuf = new TufRepository({ docs, keyStore: o.keyStore, artifacts, audit: o.audit, clock: o.clock, lifetimes: o.lifetimes, algorithm: o.algorithm, onSigned: () => reader.invalidate() });
  const ceremonyWith = (offline: KeyStore | undefined): TufRootCeremony => new TufRootCeremony({ docs, keyStore: new TufRootKeyStore({ online: o.rootKeyStore ?? o.keyStore, offline }), audit: o.audit, clock: o.clock, algorithm: o.algorithm, onSigned: () => reader.invalidate() });
  const ceremony = ceremonyWith(undefined);
  const campaigns = new CampaignService({ db: o.db, audit: o.audit, clock: o.clock, minEvaluationIntervalMs: o.campaignEvaluationIntervalMs });
  const releases = new ReleaseService({
    db: o.db, artifacts, models: o.models ?? new RegistryModelCatalogue({ db: o.db }), tuf, audit: o.audit, clock: o.clock, maxArtifactBytes: o.maxArtifactBytes, sbomImporter: o.sbomImporter,
    onWithdrawn: async (releaseId, actor) => void (await campaigns.cancelForRelease(releaseId, actor)),
  });
  const channel = new UpdateStatusChannel({ campaigns, audit: o.audit, onError: o.onChannelError, recordFirmware: o.recordFirmware });
  const tags = new DeviceTagService({ db: o.db, audit: o.audit, clock: o.clock });
  return {
    releases, campaigns, tuf, ceremony, reader, artifacts, channel, tags,
    rootCeremony: (rootStore) => ceremonyWith(rootStore),
    rootFileCeremony: (store) => ceremonyWith(openTufRootFileStore(store)),
    deviceTagRoutes: (guards) => deviceTagRoutes({ tags, guards }),
    tufRoutes: tufRoutes({ reader, repository: tuf }),
    tufFastPath: tufFastPath(reader),
    releaseRoutes: (guards) => async (app) => {
      await releaseRoutes({ releases, guards })(app);
      await campaignRoutes({ campaigns, guards })(app);
    },
    jobs: [tufRefreshJob({ repository: tuf, intervalMs: o.refreshIntervalMs }), campaigns.job()],
  };
}
