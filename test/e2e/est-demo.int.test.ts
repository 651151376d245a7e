// `medtrust demo` as a newcomer runs it: start it, paste the printed commands into a shell, look at
// the simulated hospital through the API (alerts, the refused stuck key, the vulnerable pump).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../packages/cli/bin/medtrust.js');

describe('medtrust demo', () => {
  let dir: string;
  let child: ReturnType<typeof spawn>;
  let printed = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-demo-'));
    // A small hospital keeps the test fast; the default is 50 devices.
    child = spawn(process.execPath, [BIN, 'demo', '--devices', '8', '--backfill', '3m'], {
      cwd: dir,
      env: { ...process.env, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (c: Buffer) => void process.stderr.write(c));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        printed += c.toString();
        if (printed.includes('Ctrl-C stops')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${printed}`)));
    });
  });
  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the URLs, the admin token file and commands that enrol and re-enrol the sample device', async () => {
    assert.match(printed, /dashboard \/ REST API: http:\/\/127\.0\.0\.1:\d+/);
    const tokenFile = /admin API token:\s+(\S+)/.exec(printed)?.[1];
    assert.ok(tokenFile && readFileSync(tokenFile, 'utf8').trim().startsWith('mt_'));
    // Every command line as printed, run one after the other in a shell (stopping at the first failure).
    const commands = printed.split('\n').filter((l) => /^(curl|openssl) /.test(l)).join(' &&\n');
    assert.match(commands, /simpleenroll/);
    assert.match(commands, /simplereenroll/);
    const { stdout } = await run('bash', ['-c', `set -o pipefail\n${commands}`], { cwd: dir });
    assert.match(stdout, /ldevid\.pem: OK/);
    assert.match(stdout, /BEGIN CERTIFICATE/); // the renewed LDevID
  });

  const api = async (path: string, tokenFile: string): Promise<{ status: number; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies checked field by field
    const base = /dashboard \/ REST API: (http:\/\/\S+)/.exec(printed)![1]!;
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` } });
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  };
  const adminToken = (): string => /admin API token:\s+(\S+)/.exec(printed)![1]!;

  it('serves the dashboard at the printed URL', async () => {
    const base = /dashboard \/ REST API: (http:\/\/\S+)/.exec(printed)![1]!;
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /html/);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it('runs a simulated hospital whose desaturation raised an alert', async () => {
    assert.match(printed, /devices:\s+8 \(\d+ infusion pumps?, \d+ patient monitors?, \d+ glucose monitors?\), IDevID -> EST -> MQTT/);
    const monitor = /alerts:.*desaturation on (\S+),/.exec(printed)?.[1];
    assert.ok(monitor);
    // The backfilled desaturation arrives with its original timestamps; the alert follows.
    const end = Date.now() + 20_000;
    let alerts: Array<{ deviceId: string; priority: string; patientId: string | null; details: { rule?: string } }> = [];
    while (Date.now() < end) {
      alerts = (await api('/api/v1/alerts?limit=100', adminToken())).body.alerts;
      if (alerts.some((a) => a.details.rule === 'Desaturation')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const desat = alerts.find((a) => a.details.rule === 'Desaturation');
    assert.ok(desat, JSON.stringify(alerts));
    assert.equal(desat.priority, 'high');
    assert.ok(desat.patientId, 'the monitor is bound to a patient');
    const devices = (await api('/api/v1/devices?limit=100', adminToken())).body;
    const active = (devices.devices as Array<{ state: string; model: string }>).filter((d) => d.model !== 'DemoPump' && d.state === 'active');
    assert.ok(active.length >= 6, `${active.length} simulated devices active (enrolled over EST, reported over MQTT)`);
  });

  it('refused the stuck-key infusion (10x heparin) on the drug library hard limit, and audited it', async () => {
    const m = /stuck key:\s+heparin 1000 -> 10000 units\/h on \S+ \((dev_\w+)\): 422 LIMIT_HARD_EXCEEDED/.exec(printed);
    assert.ok(m, printed);
    const clinician = /clinician token:\s+(\S+)/.exec(printed)![1]!;
    const cmds = (await api(`/api/v1/devices/${m[1]}/commands`, clinician)).body.commands as Array<{ status: string; refusalCode: string; findings: Array<{ rule: string }> }>;
    assert.ok(cmds.some((c) => c.status === 'refused' && c.refusalCode === 'LIMIT_HARD_EXCEEDED' && c.findings.some((f) => f.rule === 'hard-limit')), JSON.stringify(cmds));
    const audit = (await api('/api/v1/audit?action=command.refused', adminToken())).body;
    assert.ok(JSON.stringify(audit).includes(m[1]!));
    // The dose that was meant went through: signed, verified by the simulated pump, executed.
    const meant = /then as meant:\s+heparin 1000 -> 1200 units\/h: 201 executed \(command (cmd_\w+)/.exec(printed);
    assert.ok(meant, printed);
    assert.equal((await api(`/api/v1/commands/${meant[1]}`, clinician)).body.status, 'executed');
  });

  it('shows the pump on the old firmware as exposed to a known exploited vulnerability', async () => {
    const m = /vulnerable:\s+InfuSim-P300 firmware 3\.1\.0 on \S+ \((dev_\w+)\): CVE-2014-0160 \(CISA KEV\)/.exec(printed);
    assert.ok(m, printed);
    const exposure = (await api(`/api/v1/devices/${m[1]}/vulnerabilities`, adminToken())).body;
    assert.ok(exposure.vulnerabilities.some((v: { vulnId: string; kev: boolean }) => v.vulnId === 'CVE-2014-0160' && v.kev), JSON.stringify(exposure));
  });

  it('stops on Ctrl-C', async () => {
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
  });
});
