/** Platform settings, loaded once at start-up by `loadConfig` and passed down frozen. */
export interface Config {
  /** Where the SQLite database, key store, artifacts and admin token live. */
  readonly dataDir: string;
  /** `postgres://...` selects PostgreSQL; undefined selects SQLite in the data dir. */
  readonly databaseUrl: string | undefined;
  /** Interface the listeners bind to. */
  readonly bindHost: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly mqttPort: number;
  /** What CRL distribution points, AIA OCSP URLs and advisory links point at. */
  readonly publicUrl: string;
  /** Extra DNS names / IPs for the platform's TLS server certificate. */
  readonly tlsHostnames: readonly string[];
  /** Master key for the file key store; undefined means a generated key file in the data dir. */
  readonly masterKey: string | undefined;
  readonly keyStore: KeyStoreConfig;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly ldevidValidityDays: number;
  /** How long before nextUpdate the CRL is re-issued, and the CRL's own validity. */
  readonly crlValidityHours: number;
  readonly ocspCacheSeconds: number;
  readonly enrollTokenTtlHours: number;
  /** External MQTT broker; undefined means the embedded broker. */
  readonly mqttUrl: string | undefined;
  /** This node's stable name (default: the host name): names its external-broker sessions, so it must differ per node. */
  readonly nodeName: string;
  /** Where firmware artifacts and SBOMs live: the data dir (default) or an S3-compatible bucket. */
  readonly artifactStore: ArtifactStoreConfig;
}

export type ArtifactStoreConfig =
  | { readonly kind: 'file' }
  | {
    readonly kind: 's3';
    /** undefined: AWS S3 for `region`. */
    readonly endpoint: string | undefined;
    readonly bucket: string;
    readonly region: string;
    /** Empty or ending in `/`. */
    readonly prefix: string;
    readonly forcePathStyle: boolean;
    /** undefined: the AWS SDK's default credential chain (env, shared files, instance role). */
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  };

export type KeyStoreConfig =
  | { readonly kind: 'file' }
  | { readonly kind: 'pkcs11'; readonly library: string; readonly slot: number | undefined; readonly tokenLabel: string | undefined; readonly pin: string };
