// Helpers for benches that run the server under test in a child process, so that the load
// generator (this process) and the server do not share one event loop, and the server's own CPU
// use can be read from /proc.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Generous: on a loaded machine, tsx compiling the server package for a fresh child takes a minute. */
export const STARTUP_TIMEOUT_MS = 180_000;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // fields[11], fields[12]: utime, stime in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The first match of `re` in the child's stdout or stderr (e.g. the URL it listens on). */
export async function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${timeoutMs} ms: ${buf}`)), timeoutMs);
    const on = (c: Buffer): void => {
      buf += c.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
}
