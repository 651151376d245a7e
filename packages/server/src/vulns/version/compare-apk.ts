import { compareGeneric } from './compare-versions.ts';

// apk-tools version.c: suffixes before the release are negative, after it positive.
const SUFFIX_RANK: Readonly<Record<string, number>> = { alpha: -4, beta: -3, pre: -2, rc: -1, cvs: 1, svn: 2, git: 3, hg: 4, p: 5 };
const APK = /^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:-r(\d+))?$/;

interface ApkVersion { readonly nums: number[]; readonly letter: string; readonly suffixes: Array<[number, number]>; readonly rel: number }

function parse(v: string): ApkVersion | undefined {
  const m = APK.exec(v);
  if (!m) return undefined;
  const suffixes: Array<[number, number]> = [];
  for (const s of (m[3] ?? '').split('_').filter(Boolean)) {
    const sm = /^([a-z]+)(\d*)$/.exec(s);
    if (sm) suffixes.push([SUFFIX_RANK[sm[1] as string] ?? 0, Number(sm[2] || 0)]);
  }
  return { nums: (m[1] as string).split('.').map(Number), letter: m[2] ?? '', suffixes, rel: Number(m[4] ?? 0) };
}

/**
 * Alpine (apk) version ordering: `1.2.3[letter][_suffix[N]]...[-rN]`, as apk-tools compares
 * them. Written by hand: no maintained npm package implements it. Versions that do not parse
 * fall back to the generic order (and leading-zero "fraction" digits are compared as integers).
 */
export function compareApk(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return compareGeneric(a, b);
  const n = Math.max(pa.nums.length, pb.nums.length);
  for (let i = 0; i < n; i++) {
    const x = pa.nums[i];
    const y = pb.nums[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== y) return x - y;
  }
  if (pa.letter !== pb.letter) return pa.letter < pb.letter ? -1 : 1;
  const m = Math.max(pa.suffixes.length, pb.suffixes.length);
  for (let i = 0; i < m; i++) {
    const [rx, nx] = pa.suffixes[i] ?? [0, 0];
    const [ry, ny] = pb.suffixes[i] ?? [0, 0];
    if (rx !== ry) return rx - ry;
    if (nx !== ny) return nx - ny;
  }
  return pa.rel - pb.rel;
}
