import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authFailureBursts, clonedCertificates, messageRateAnomalies, modelBaselines, unusualCommandTimes, type CommandTime, type RateSample } from './detectors.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const MIN = 60_000;

describe('authFailureBursts', () => {
  const o = { windowMs: MIN, threshold: 5 };
  it('finds a burst per device and per address', () => {
    const f = Array.from({ length: 6 }, (_, i) => ({ atMs: T0 + i * 5_000, deviceId: 'dev-1', remoteAddress: '::ffff:10.0.0.9' }));
    const b = authFailureBursts(f, o);
    assert.deepEqual(b.map((x) => [x.by, x.subject, x.count]), [['address', '10.0.0.9', 6], ['device', 'dev-1', 6]]);
  });
  it('counts unauthenticated attempts by address only', () => {
    const f = Array.from({ length: 5 }, (_, i) => ({ atMs: T0 + i, deviceId: null, remoteAddress: '192.0.2.7' }));
    assert.deepEqual(authFailureBursts(f, o).map((x) => x.by), ['address']);
  });
  it('ignores the same number of failures spread wider than the window', () => {
    const f = Array.from({ length: 10 }, (_, i) => ({ atMs: T0 + i * 20_000, deviceId: 'dev-1', remoteAddress: '10.0.0.1' }));
    assert.deepEqual(authFailureBursts(f, o), []);
  });
  it('ignores four failures (below threshold) and unordered input', () => {
    const f = [3, 1, 2, 0].map((i) => ({ atMs: T0 + i, deviceId: 'dev-1', remoteAddress: null }));
    assert.deepEqual(authFailureBursts(f, o), []);
  });
});

describe('clonedCertificates', () => {
  const span = (id: number, addr: string | null, from: number, to: number | null, serial = 'aa01') => ({ id, deviceId: 'dev-1', certSerial: serial, remoteAddress: addr, connectedAt: T0 + from, disconnectedAt: to === null ? null : T0 + to });
  it('flags two overlapping connections with one serial from two addresses', () => {
    const c = clonedCertificates([span(1, '10.0.0.1', 0, null), span(2, '203.0.113.5', 1000, 5000)]);
    assert.deepEqual(c.map((x) => [x.certSerial, x.addresses, x.connectionIds]), [['aa01', ['10.0.0.1', '203.0.113.5'], [1, 2]]]);
  });
  it('ignores a reconnect from another address after the first ended', () => {
    assert.deepEqual(clonedCertificates([span(1, '10.0.0.1', 0, 1000), span(2, '10.0.0.2', 1000, null)]), []);
  });
  it('ignores two sessions from one address (IPv4-mapped or not) and different serials', () => {
    assert.deepEqual(clonedCertificates([span(1, '10.0.0.1', 0, null), span(2, '::ffff:10.0.0.1', 10, null)]), []);
    assert.deepEqual(clonedCertificates([span(1, '10.0.0.1', 0, null), span(2, '10.0.0.2', 10, null, 'bb02')]), []);
  });
});

describe('message rate', () => {
  const history: RateSample[] = Array.from({ length: 20 }, (_, i) => ({ deviceId: `d${i}`, model: 'PumpX', count: 10 + (i % 3) }));
  it('builds a median baseline per model and flags a device far above it', () => {
    const b = modelBaselines([...history, { deviceId: 'noisy', model: 'PumpX', count: 5000 }]);
    assert.equal(b.get('PumpX'), 11);
    const a = messageRateAnomalies([{ deviceId: 'd1', model: 'PumpX', count: 14 }, { deviceId: 'd2', model: 'PumpX', count: 400 }], b, { factor: 5, minCount: 20 });
    assert.deepEqual(a.map((x) => x.deviceId), ['d2']);
  });
  it('raises nothing for a model without enough history, or below minCount', () => {
    const b = modelBaselines(history.slice(0, 5));
    assert.equal(b.size, 0);
    assert.deepEqual(messageRateAnomalies([{ deviceId: 'x', model: 'PumpX', count: 1000 }], b, { factor: 5, minCount: 20 }), []);
    const quiet = modelBaselines(history.map((h) => ({ ...h, count: 0 })));
    assert.deepEqual(messageRateAnomalies([{ deviceId: 'x', model: 'PumpX', count: 19 }], quiet, { factor: 5, minCount: 20 }), []);
  });
});

describe('unusualCommandTimes', () => {
  // 60 commands over daytime hours 08-17 UTC.
  const history: CommandTime[] = Array.from({ length: 60 }, (_, i) => ({ id: `h${i}`, tenantId: 'hosp', deviceId: 'd', atMs: Date.UTC(2026, 10, 1 + (i % 20), 8 + (i % 10)) }));
  const o = { minHistory: 30, minShare: 0.02 };
  it('flags a command at 03:00 and not one at 12:00 or at the edge of the usual hours', () => {
    const recent = [
      { id: 'c-night', tenantId: 'hosp', deviceId: 'd', atMs: Date.UTC(2026, 10, 23, 3) },
      { id: 'c-noon', tenantId: 'hosp', deviceId: 'd', atMs: Date.UTC(2026, 10, 23, 12) },
      { id: 'c-edge', tenantId: 'hosp', deviceId: 'd', atMs: Date.UTC(2026, 10, 23, 18) },
    ];
    assert.deepEqual(unusualCommandTimes(history, recent, o).map((u) => [u.commandId, u.hour]), [['c-night', 3]]);
  });
  it('reads hours in the tenant time zone', () => {
    // 03:00 UTC is 12:00 in Tokyo: usual if the history was recorded in Tokyo hours too.
    const recent = [{ id: 'c', tenantId: 'hosp', deviceId: 'd', atMs: Date.UTC(2026, 10, 23, 3) }];
    const tokyo = history.map((h) => ({ ...h, atMs: h.atMs - 9 * 3_600_000 }));
    assert.deepEqual(unusualCommandTimes(tokyo, recent, { ...o, timeZoneOf: () => 'Asia/Tokyo' }), []);
  });
  it('does not judge a tenant with too little history', () => {
    assert.deepEqual(unusualCommandTimes(history.slice(0, 10), [{ id: 'c', tenantId: 'hosp', deviceId: 'd', atMs: Date.UTC(2026, 10, 23, 3) }], o), []);
  });
});
