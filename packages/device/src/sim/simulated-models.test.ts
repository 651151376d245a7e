import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
// The platform's own validator: every simulated reading must pass what the gateway enforces.
import { MessageValidator } from '../../../server/src/telemetry/index.ts';
import { SeededRandom, SimulatedDevice, simProfile, type SimDeviceKind, type SimEvent, type SimProfileName } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'medtrust-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-23T00:00:00Z');
let n = 0;

/** A device with no network: readings stay in its queue, where the test reads them. */
function device(kind: SimDeviceKind, profile: SimProfileName, seed: string, opts: { live?: boolean } = {}) {
  const events: SimEvent[] = [];
  const d = new SimulatedDevice({
    identity: { deviceId: `dev_${kind}`, serial: `S-${++n}`, model: 'm', auth: { kind: 'secret', username: 'u', password: 'p' } },
    kind, firmwareVersion: '1.2.3', profile: simProfile(profile), rng: new SeededRandom(seed).fork('device-0'),
    startMs: T0, liveFromMs: opts.live ? T0 : Number.POSITIVE_INFINITY, runTag: 'run', dir: mkdtempSync(join(dir, 'd-')),
    mqttUrl: 'mqtts://127.0.0.1:1', caPem: '', onEvent: (e) => events.push(e),
  });
  const messages = (): Array<{ id: string; ts: number; kind: string; vitals?: Record<string, { value: number }>; infusion?: { state: string; alarms: string[]; volumeInfusedMl: number; vtbiMl: number }; health?: { firmwareVersion: string; errorCodes: string[] } }> =>
    d.queue.pending().map((m) => JSON.parse(m.payload));
  return { d, events, messages };
}

describe('simulated devices', () => {
  describe('when run twice with the same seed', () => {
    it('produce the same readings; another seed gives others', async () => {
      const a = device('patient-monitor', 'icu', 'seed-1');
      const b = device('patient-monitor', 'icu', 'seed-1');
      const c = device('patient-monitor', 'icu', 'seed-2');
      for (const x of [a, b, c]) x.d.advanceTo(T0 + 30 * 60_000);
      assert.ok(a.messages().length > 300);
      assert.deepEqual(a.messages(), b.messages());
      assert.notDeepEqual(a.messages().map((m) => m.vitals), c.messages().map((m) => m.vitals));
      for (const x of [a, b, c]) await x.d.stop();
    });
  });

  describe('when every class runs a day in every profile', () => {
    it('sends only messages the platform accepts, oldest first, with unique ids', async () => {
      const validator = new MessageValidator({ clock: { nowMs: () => T0 + 86_400_000 } });
      for (const profile of ['icu', 'ward', 'home'] as const) {
        for (const kind of ['patient-monitor', 'infusion-pump', 'glucose-monitor'] as const) {
          const x = device(kind, profile, `valid-${profile}`, { live: true });
          x.d.advanceTo(T0 + 86_400_000);
          const ms = x.messages();
          assert.ok(ms.length > 100, `${profile} ${kind}: ${ms.length} messages`);
          for (const m of ms) {
            const v = validator.validate(JSON.stringify(m));
            assert.ok(v.ok, `${profile} ${kind} ${JSON.stringify(m)}: ${v.ok ? '' : v.error.code}`);
          }
          assert.equal(new Set(ms.map((m) => m.id)).size, ms.length);
          assert.deepEqual(ms.map((m) => m.ts), [...ms.map((m) => m.ts)].sort((p, q) => p - q));
          assert.ok(ms.some((m) => m.kind === 'health' && m.health?.firmwareVersion === '1.2.3'), `${profile} ${kind} ${JSON.stringify(ms.find((m) => m.kind === 'health'))}`);
          await x.d.stop();
        }
      }
    });
  });

  describe('when an episode is scripted', () => {
    it('a desaturation keeps SpO2 under 90 % long enough for the 30 s alert delay, then recovers', async () => {
      const x = device('patient-monitor', 'ward', 'desat');
      x.d.advanceTo(T0 + 60_000);
      assert.ok(x.d.trigger('desaturation', T0 + 60_000));
      x.d.advanceTo(T0 + 10 * 60_000);
      const spo2 = x.messages().filter((m) => m.vitals?.spo2).map((m) => ({ ts: m.ts, v: m.vitals!.spo2!.value }));
      const low = spo2.filter((s) => s.v < 90);
      assert.ok(low.length > 0 && low.at(-1)!.ts - low[0]!.ts >= 30_000, JSON.stringify(low));
      assert.ok(spo2.at(-1)!.v >= 90);
      assert.ok(spo2.filter((s) => s.ts < T0 + 60_000).every((s) => s.v >= 90));
      await x.d.stop();
    });

    it('a bradycardia takes the heart rate under 40/min; a pump cannot have one', async () => {
      const x = device('patient-monitor', 'icu', 'brady');
      assert.ok(x.d.trigger('bradycardia', T0));
      x.d.advanceTo(T0 + 3 * 60_000);
      const low = x.messages().filter((m) => (m.vitals?.heartRate?.value ?? 99) < 40);
      assert.ok(low.length >= 3);
      const pump = device('infusion-pump', 'icu', 'brady');
      assert.equal(pump.d.trigger('bradycardia', T0), false);
      await x.d.stop();
      await pump.d.stop();
    });

    it('a home hypoglycaemia takes glucose under 70 mg/dL', async () => {
      const x = device('glucose-monitor', 'home', 'hypo');
      assert.ok(x.d.trigger('hypoglycaemia', T0 + 60_000));
      x.d.advanceTo(T0 + 60 * 60_000);
      assert.ok(x.messages().some((m) => (m.vitals?.glucose?.value ?? 999) < 70));
      await x.d.stop();
    });
  });

  describe('when pumps run for a day', () => {
    it('deliver volume up to the VTBI, alarm on occlusions and complete bags', async () => {
      const kinds = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const x = device('infusion-pump', 'icu', `pump-${i}`, { live: true });
        x.d.advanceTo(T0 + 86_400_000);
        const inf = x.messages().filter((m) => m.kind === 'infusion').map((m) => m.infusion!);
        assert.ok(inf.every((s) => s.volumeInfusedMl <= s.vtbiMl));
        for (const s of inf) {
          if (s.alarms.includes('downstream-occlusion')) assert.equal(s.state, 'alarm');
          s.alarms.forEach((a) => kinds.add(a));
        }
        for (const e of x.events) kinds.add(e.kind);
        await x.d.stop();
      }
      assert.ok(kinds.has('downstream-occlusion'), [...kinds].join());
      assert.ok(kinds.has('infusion-complete'), [...kinds].join());
      assert.ok(kinds.has('outage'), [...kinds].join());
    });
  });
});
