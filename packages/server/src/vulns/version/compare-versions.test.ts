import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareApk, compareDpkg, compareGeneric, compareSemver } from './index.ts';

const sign = (n: number): number => Math.sign(n);

function assertAscending(cmp: (a: string, b: string) => number, versions: readonly string[]): void {
  for (let i = 0; i + 1 < versions.length; i++) {
    const a = versions[i]!;
    const b = versions[i + 1]!;
    assert.equal(sign(cmp(a, b)), -1, `${a} < ${b}`);
    assert.equal(sign(cmp(b, a)), 1, `${b} > ${a}`);
  }
}

describe('compareGeneric', () => {
  it('orders OpenSSL letter releases (1.0.1f < 1.0.1g, heartbleed fix)', () => {
    assertAscending(compareGeneric, ['0.9.8za', '1.0.0', '1.0.1', '1.0.1a', '1.0.1f', '1.0.1g', '1.0.1z', '1.0.2', '1.0.2zk', '1.1.0', '3.0.7']);
  });
  it('puts pre-releases before their release and treats equal spellings as equal', () => {
    assertAscending(compareGeneric, ['2.0.0-alpha', '2.0.0-beta2', '2.0.0-rc1', '2.0.0', '2.0.1']);
    assert.equal(compareGeneric('R0.13C', 'r0.13c'), 0);
  });
});

describe('compareSemver', () => {
  it('follows SemVer 2.0 precedence', () => {
    assertAscending(compareSemver, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-rc.1', '1.0.0', '1.2.10', '1.10.0']);
  });
});

describe('compareDpkg', () => {
  it('follows deb-version(7): epoch, tilde, revision', () => {
    assertAscending(compareDpkg, ['1.0~rc1', '1.0', '1.0-1', '1.0-1+deb9u1', '1.0a', '1.1.0l-1~deb9u1', '1.1.0l-1', '1:0.9']);
    assertAscending(compareDpkg, ['1.1.1n-0+deb10u3', '1.1.1n-0+deb10u6', '1.1.1w-0+deb11u1', '3.0.11-1~deb12u2', '3.0.15-1~deb12u1']);
    assert.equal(compareDpkg('0:1.2-3', '1.2-3'), 0);
  });
});

describe('compareApk', () => {
  it('follows apk-tools: letters, suffixes and -r releases', () => {
    assertAscending(compareApk, ['1.0.1e-r7', '1.0.1f-r0', '1.0.1g-r0', '1.0.1g-r3', '1.0.2_alpha1-r0', '1.0.2_rc1-r0', '1.0.2-r0', '1.0.2_p1-r0', '1.0.2h-r0', '1.0.10-r0']);
  });
});
