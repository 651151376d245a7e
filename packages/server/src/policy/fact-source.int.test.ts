import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import type { KyselyPlugin } from 'kysely';
import { TEST_DIALECTS } from '../db/testing.ts';
import type { Device } from '../devices/index.ts';
import { PresenceService } from '../telemetry/index.ts';
import { readFeedPaths } from '../vulns/index.ts';
import { DbFactSource } from './fact-source.ts';
import type { Facts } from './facts.ts';
import { createPolicyTestStack, type PolicyTestStack } from './testing/policy-test-stack.ts';

const DAY_MS = 86_400_000;
const ALL_GROUPS = new Set(['device', 'vulns', 'cert', 'connection']);
const VULN_FIXTURES = new URL('../vulns/fixtures/', import.meta.url).pathname;
const FEEDS = ['nvd', 'nvd-api', 'osv', 'oss-fuzz', 'kev/kev-subset.json', 'epss'].map((f) => VULN_FIXTURES + f);

/** CycloneDX 1.6 firmware SBOM: openssl at `openssl` (Heartbleed below 1.0.1g, CVE-2016-2105 below 1.0.2h) and esp-idf 4.1. */
function sbom(openssl: string): string {
  const up = openssl.replace(/-r\d+$/, '');
  return JSON.stringify({
    bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
    components: [
      { type: 'library', name: 'openssl', version: openssl, 'bom-ref': 'openssl', purl: `pkg:apk/alpine/openssl@${openssl}`, cpe: `cpe:2.3:a:openssl:openssl:${up}:*:*:*:*:*:*:*` },
      { type: 'framework', name: 'esp-idf', version: '4.1', 'bom-ref': 'esp-idf', cpe: 'cpe:2.3:a:espressif:esp-idf:4.1:*:*:*:*:*:*:*' },
    ],
  });
}

/** Counts the statements a fact source sends, to show that batching does not grow with the fleet. */
function statementCounter(): { plugin: KyselyPlugin; count: () => number } {
  let n = 0;
  return {
    plugin: {
      transformQuery: (a) => {
        n += 1;
        return a.node;
      },
      transformResult: (a) => Promise.resolve(a.result),
    },
    count: () => n,
  };
}

for (const dialect of TEST_DIALECTS) {
  describe(`DbFactSource batched facts (${dialect})`, () => {
    let s: PolicyTestStack;
    let source: DbFactSource;
    let fleet: Device[] = [];

    before(async () => {
      s = await createPolicyTestStack(dialect);
      const { db } = s.pki.t;
      const tenants = [await s.tenants.create({ kind: 'customer', name: 'A' }), await s.tenants.create({ kind: 'customer', name: 'B' })];
      const site = await s.tenants.create({ kind: 'site', name: 'A North', parentId: tenants[0] });
      // PumpX 1.0.0: Heartbleed (KEV) + CVE-2016-2105 + esp-idf; matched before the feed arrives.
      await s.vulns.importSbom({ model: 'PumpX', firmwareVersion: '1.0.0', text: sbom('1.0.1f-r0'), actor: 'test' });
      await s.vulns.importFeed(readFeedPaths(FEEDS), 'test');
      s.clock.advance(3 * DAY_MS);
      // Same version string on another model, matched later; PumpX 1.0.2 has no KEV-listed match.
      await s.vulns.importSbom({ model: 'MonitorY', firmwareVersion: '1.0.0', text: sbom('1.0.1f-r0'), actor: 'test' });
      await s.vulns.importSbom({ model: 'PumpX', firmwareVersion: '1.0.2', text: sbom('1.0.2g-r0'), actor: 'test' });
      s.clock.advance(2 * DAY_MS);

      const [a, b] = tenants as [string, string];
      const made = [
        await s.device({ model: 'PumpX', tenantId: a, firmwareVersion: '1.0.0', siteId: site }),
        await s.device({ model: 'PumpX', tenantId: b, firmwareVersion: '1.0.0', state: 'quarantined' }),
        await s.device({ model: 'PumpX', tenantId: a, firmwareVersion: '1.0.2' }),
        await s.device({ model: 'MonitorY', tenantId: b, firmwareVersion: '1.0.0', state: 'enrolled' }),
        await s.device({ model: 'GlucoZ', tenantId: a, firmwareVersion: '1.0.0' }),
        await s.device({ model: 'PumpX', tenantId: a }),
        await s.device({ model: 'PumpX', tenantId: b, firmwareVersion: '9.9.9' }),
        await s.device({ model: 'MonitorY', tenantId: a, firmwareVersion: '1.0.0', siteId: site }),
        await s.device({ model: 'PumpX', tenantId: b, firmwareVersion: '1.0.2' }),
      ];
      // No certificate at all (registered, never enrolled).
      const bare = await s.pki.devices.create({ serial: 'SN-bare', model: 'PumpX', hardwareRevision: 'r2', tenantId: a }, 'test');
      await db.updateTable('device').set({ firmware_version: '1.0.0' }).where('id', '=', bare.id).execute();
      // Current LDevID revoked: no cert facts.
      const revoked = await s.pki.certificates.currentForDevice((made[2] as Device).id, 'ldevid');
      await s.revocation.revoke(revoked?.serial ?? '', 'keyCompromise', 'test');
      // Re-enrolled later with a P-384 key: the newer certificate is the one that counts.
      s.clock.advance(DAY_MS);
      const alg = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
      const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${(made[3] as Device).id}`, keys, signingAlgorithm: alg });
      await s.pki.issuer.issueLdevid({ deviceId: (made[3] as Device).id, csrDer: Buffer.from(csr.rawData), actor: 'test' });

      // Connection history: none, one, several (the newest counts), no address, two at the same instant (the later id counts).
      const presence = new PresenceService({ db, clock: s.clock, node: 'test-node' });
      const connect = (d: Device, remoteAddress: string | null, transport: 'mqtt' | 'https' = 'mqtt') => presence.connected({ deviceId: d.id, tenantId: d.tenantId, transport, certSerial: '01', remoteAddress });
      const [d0, d1, , d3, d4] = made as [Device, Device, Device, Device, Device];
      await connect(d0, '10.20.3.4');
      await connect(d1, '192.0.2.1');
      s.clock.advance(60_000);
      await connect(d1, '::ffff:198.51.100.7', 'https');
      await connect(d3, null);
      await connect(d4, '10.0.0.1');
      await connect(d4, '10.0.0.2', 'https');
      s.clock.advance(40 * DAY_MS);

      source = new DbFactSource({ db, certificates: s.pki.certificates, clock: s.clock });
      fleet = await source.devices({ kind: 'all' }, undefined, 1000);
    });
    after(() => s.close());

    async function perDevice(groups: ReadonlySet<string>): Promise<Map<string, Facts>> {
      const out = new Map<string, Facts>();
      for (const d of fleet) out.set(d.id, await source.facts(d, groups));
      return out;
    }

    it('gives every device of a varied fleet exactly the facts the per-device path gives', async () => {
      const expected = await perDevice(ALL_GROUPS);
      // The fleet really varies, so equality means something.
      const values = (f: string) => new Set([...expected.values()].map((x) => JSON.stringify(x[f] ?? null)));
      assert.ok(fleet.length >= 10);
      for (const f of ['vulns.affectedCount', 'vulns.kevCount', 'vulns.kevMaxDaysUnpatched', 'cert.daysToExpiry', 'cert.keyType', 'connection.remoteAddress', 'connection.transport', 'device.siteId']) {
        assert.ok(values(f).size >= 2, `${f} takes several values: ${[...values(f)].join(' ')}`);
      }
      assert.ok([...expected.values()].some((x) => x['vulns.affectedCount'] !== undefined && Number(x['vulns.affectedCount']) > 0 && x['vulns.kevCount'] === 0), 'a firmware with only non-KEV matches');

      const loader = source.loader(ALL_GROUPS);
      const batched = new Map<string, Facts>();
      // Pages of 4, so per-firmware results are reused across pages as in a fleet run.
      for (let i = 0; i < fleet.length; i += 4) for (const [id, f] of await loader.factsOf(fleet.slice(i, i + 4))) batched.set(id, f);
      assert.deepStrictEqual(batched, expected);
    });

    it('loads only the fact groups asked for, the same as the per-device path', async () => {
      for (const groups of [new Set(['device']), new Set(['vulns']), new Set(['cert']), new Set(['connection', 'device'])]) {
        assert.deepStrictEqual(await source.loader(groups).factsOf(fleet), await perDevice(groups), [...groups].join(','));
      }
    });

    it('sends one statement per fact group for a page, and none for vulnerabilities of firmwares already seen', async () => {
      const counter = statementCounter();
      const counted = new DbFactSource({ db: s.pki.t.db.withPlugin(counter.plugin), certificates: s.pki.certificates, clock: s.clock });
      const loader = counted.loader(ALL_GROUPS);
      await loader.factsOf(fleet);
      assert.equal(counter.count(), 3, 'vulnerabilities, certificates, connections');
      await loader.factsOf(fleet);
      assert.equal(counter.count(), 5, 'the second page re-reads certificates and connections only');
      const perDeviceBefore = counter.count();
      for (const d of fleet) await counted.facts(d, new Set(['vulns']));
      assert.equal(counter.count() - perDeviceBefore, fleet.filter((d) => d.firmwareVersion !== null).length, 'the per-device path it replaces: one per device');
    });

    it('returns an empty map for no devices without querying', async () => {
      const counter = statementCounter();
      const counted = new DbFactSource({ db: s.pki.t.db.withPlugin(counter.plugin), certificates: s.pki.certificates, clock: s.clock });
      assert.equal((await counted.loader(ALL_GROUPS).factsOf([])).size, 0);
      assert.equal(counter.count(), 0);
    });
  });
}
