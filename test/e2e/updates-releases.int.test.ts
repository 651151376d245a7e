import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { TEST_DIALECTS } from '../../packages/server/src/db/testing.ts';
import { type Json, startUpdatesHarness, type UpdatesHarness } from './updates-harness.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`release API (${dialect})`, () => {
    let h: UpdatesHarness;
    before(async () => {
      h = await startUpdatesHarness({ dialect, maxArtifactBytes: 4096 });
    });
    after(() => h.close());

    const snapshot = async (): Promise<{ releases: number; models: number; tuf: number; files: string[] }> => ({
      releases: (await h.t.db.selectFrom('release').select('id').execute()).length,
      models: (await h.t.db.selectFrom('release_model').select('model').execute()).length,
      tuf: (await h.t.db.selectFrom('tuf_metadata').select('version').execute()).length,
      files: h.artifactFiles(),
    });

    it('creates a draft with hashes computed while streaming, and walks the lifecycle', async () => {
      const body = Buffer.from('firmware image 2.1.0');
      const c = await h.upload({ model: 'pump-a', version: '2.1.0', fileName: 'fw.bin', hwRev: ['A', 'B'], notes: 'fixes' }, body);
      assert.equal(c.status, 201, JSON.stringify(c.body));
      assert.equal(c.body.state, 'draft');
      assert.equal(c.body.sha256, (await import('node:crypto')).createHash('sha256').update(body).digest('hex'));
      assert.equal(c.body.length, body.length);
      assert.deepEqual(c.body.hardwareRevisions, ['A', 'B']);
      const postSbom = (body: string): Promise<Response> => fetch(`${h.url}/api/v1/releases/${c.body.id}/sbom?fileName=sbom.cdx.json`, { method: 'POST', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/octet-stream' }, body });
      // The vulnerability domain parses it: a non-SBOM is refused with its code and not attached.
      const bad = await postSbom('{"bomFormat":"CycloneDX"}');
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error.code, /^SBOM_/);
      assert.equal((await h.call('GET', `/api/v1/releases/${c.body.id}`)).body.sbom, null);
      const sbom = await postSbom(readFileSync(new URL('../../packages/server/src/vulns/fixtures/sbom/medical-device-case-study_extended.cdx.json', import.meta.url), 'utf8'));
      assert.equal(sbom.status, 200);
      assert.equal((await sbom.json()).sbom.fileName, 'sbom.cdx.json');
      const stored = await h.t.db.selectFrom('vuln_sbom').select(['model', 'firmware_version']).execute();
      assert.deepEqual(stored, [{ model: 'pump-a', firmware_version: '2.1.0' }]);
      assert.equal((await h.call('POST', `/api/v1/releases/${c.body.id}/approve`)).body.state, 'approved');
      assert.equal((await h.call('POST', `/api/v1/releases/${c.body.id}/publish`)).body.state, 'published');
      const list = await h.call('GET', '/api/v1/releases?state=published');
      assert.deepEqual(list.body.releases.map((r: Json) => r.id), [c.body.id]);
      // Published: the target is served by its hashed name; withdrawn: refused even to a client
      // holding metadata from before (410), while the model's manifest is still served.
      const target = `${h.url}/tuf/targets/pump-a/2.1.0/${c.body.sha256}.fw.bin`;
      const served = await fetch(target);
      assert.equal(served.status, 200);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), body);
      assert.equal((await h.call('POST', `/api/v1/releases/${c.body.id}/withdraw`)).body.state, 'withdrawn');
      const refused = await fetch(target);
      assert.equal(refused.status, 410);
      assert.deepEqual((await refused.json()).error.details, { releaseId: c.body.id });
      const manifests = await h.t.db.selectFrom('tuf_target_file').select('sha256').where('path', '=', 'pump-a/index.json').execute();
      assert.ok(manifests.length > 0);
      for (const m of manifests) assert.equal((await fetch(`${h.url}/tuf/targets/pump-a/${m.sha256}.index.json`)).status, 200);
      const audit = await h.t.db.selectFrom('audit_entry').select('action').where('target', '=', `release:${c.body.id}`).execute();
      assert.deepEqual(audit.map((a) => a.action), ['release.created', 'release.sbom-attached', 'release.approve', 'release.publish', 'release.withdraw']);
    });

    describe('when the input is bad', () => {
      const cases: Array<[string, Record<string, string | string[]>, Buffer, number, string]> = [
        ['too large', { model: 'pump-a', version: '3.0.0', fileName: 'fw.bin' }, Buffer.alloc(5000, 1), 413, 'ARTIFACT_TOO_LARGE'],
        ['empty', { model: 'pump-a', version: '3.0.0', fileName: 'fw.bin' }, Buffer.alloc(0), 400, 'ARTIFACT_EMPTY'],
        ['a "v" version', { model: 'pump-a', version: 'v3.0.0', fileName: 'fw.bin' }, Buffer.from('x'), 400, 'RELEASE_VERSION_INVALID'],
        ['a counter with a leading zero', { model: 'pump-a', version: '007', fileName: 'fw.bin' }, Buffer.from('x'), 400, 'RELEASE_VERSION_INVALID'],
        ['a counter on a semver model', { model: 'pump-a', version: '12', fileName: 'fw.bin' }, Buffer.from('x'), 400, 'RELEASE_VERSION_INVALID'],
        ['an existing version', { model: 'pump-a', version: '2.1.0', fileName: 'fw.bin' }, Buffer.from('x'), 409, 'RELEASE_VERSION_EXISTS'],
        ['an unknown model', { model: 'ventilator-z', version: '1.0.0', fileName: 'fw.bin' }, Buffer.from('x'), 400, 'RELEASE_MODEL_UNKNOWN'],
        ['a reserved model name', { model: 'root', version: '1.0.0', fileName: 'fw.bin' }, Buffer.from('x'), 400, 'RELEASE_MODEL_UNKNOWN'],
        ['a path in the file name', { model: 'pump-a', version: '3.0.0', fileName: '../fw.bin' }, Buffer.from('x'), 400, 'RELEASE_FIELD_INVALID'],
        ['a bad hardware revision', { model: 'pump-a', version: '3.0.0', fileName: 'fw.bin', hwRev: 'a b' }, Buffer.from('x'), 400, 'RELEASE_FIELD_INVALID'],
      ];
      for (const [what, query, body, status, code] of cases) {
        it(`refuses ${what} with ${code} and stores nothing`, async () => {
          const before = await snapshot();
          const r = await h.upload(query, body);
          assert.equal(r.status, status, JSON.stringify(r.body));
          assert.equal(r.body.error.code, code);
          assert.deepEqual(await snapshot(), before);
        });
      }

      it('refuses illegal transitions with RELEASE_STATE_INVALID and changes nothing', async () => {
        const c = await h.upload({ model: 'pump-b', version: '1.0.0', fileName: 'fw.bin' }, Buffer.from('b1'));
        assert.equal(c.status, 201);
        const before = await snapshot();
        for (const [action, state] of [['publish', 'draft'], ['approve', 'approved'], ['withdraw', 'withdrawn'], ['approve', 'withdrawn'], ['publish', 'withdrawn']] as const) {
          if (state === 'approved') assert.equal((await h.call('POST', `/api/v1/releases/${c.body.id}/approve`)).status, 200);
          if (state === 'withdrawn' && action === 'withdraw') assert.equal((await h.call('POST', `/api/v1/releases/${c.body.id}/withdraw`)).status, 200);
          const r = await h.call('POST', `/api/v1/releases/${c.body.id}/${action}`);
          assert.equal(r.status, 409, `${action} on ${state}`);
          assert.equal(r.body.error.code, 'RELEASE_STATE_INVALID');
        }
        assert.equal((await snapshot()).tuf, before.tuf);
        assert.equal((await h.call('POST', '/api/v1/releases/rel_nope/approve')).body.error.code, 'RELEASE_NOT_FOUND');
      });

      it('refuses callers without the permission', async () => {
        assert.equal((await h.upload({ model: 'pump-a', version: '9.0.0', fileName: 'fw.bin' }, Buffer.from('x'), 'mt_bad')).body.error.code, 'TOKEN_INVALID');
        const { TokenService } = await import('../../packages/server/src/access/index.ts');
        const { DbAuditLog } = await import('../../packages/server/src/audit/index.ts');
        const tokens = new TokenService({ db: h.t.db, audit: new DbAuditLog({ db: h.t.db, dialect }) });
        const clin = await tokens.create({ tenantId: h.tenantId, role: 'clinician', name: 'c', createdBy: 'test' });
        const r = await h.upload({ model: 'pump-a', version: '9.0.0', fileName: 'fw.bin' }, Buffer.from('x'), clin.token);
        assert.equal(r.body.error.code, 'FORBIDDEN');
        assert.equal((await h.call('GET', '/api/v1/releases', undefined, clin.token)).body.error.code, 'FORBIDDEN');
      });
    });
  });
}
