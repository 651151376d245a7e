import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** s3rver's only account. It refuses other access key ids but does not verify SigV4 signatures (any secret passes). */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface TestS3Server {
  readonly endpoint: string;
  readonly bucket: string;
  /** Files s3rver keeps for the bucket's objects (to check what is stored). */
  readonly dir: string;
  stop(): Promise<void>;
}

// s3rver installs process-wide exception handlers and keeps a global account registry, so it
// runs in a child process of its own, as a separate S3 server would.
const CHILD = `
const S3rver = require('s3rver');
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1], configureBuckets: [{ name: process.argv[2] }], allowMismatchedSignatures: false });
server.run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'), (e) => { console.error(e); process.exit(1); });
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
`;

/** Starts s3rver (npm, a fake S3) on a free loopback port with its own temp dir and one bucket. */
export async function startTestS3Server(bucket = 'medtrust-artifacts'): Promise<TestS3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD, dir, bucket], { stdio: ['ignore', 'pipe', 'pipe'], cwd: import.meta.dirname });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${stderr}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
