import { BlockList, isIP } from 'node:net';
import semver from 'semver';
import type { Condition, FactTest, Operator, Scalar } from './policy-document.ts';
import { FACTS, type Facts, type FactType } from './facts.ts';

const OPS_BY_TYPE: Readonly<Record<FactType, readonly Operator[]>> = {
  string: ['eq', 'ne', 'in', 'notIn', 'exists'],
  number: ['eq', 'ne', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'exists'],
  boolean: ['eq', 'ne', 'exists'],
  semver: ['eq', 'ne', 'in', 'notIn', 'semverLt', 'semverLte', 'semverGt', 'semverGte', 'exists'],
  ip: ['eq', 'ne', 'in', 'notIn', 'inCidr', 'notInCidr', 'exists'],
};

/** The outcome of a condition, with one line per fact test: the "why" a decision records. */
export interface ConditionResult {
  readonly matched: boolean;
  readonly trace: readonly string[];
}

/** Problems of a condition against the fact catalogue (`path` prefixes each); empty when valid. */
export function conditionProblems(c: Condition, path: string): string[] {
  if ('all' in c || 'any' in c) {
    const list = 'all' in c ? c.all : c.any;
    return list.flatMap((x, i) => conditionProblems(x, `${path}.${'all' in c ? 'all' : 'any'}[${i}]`));
  }
  if ('not' in c) return conditionProblems(c.not, `${path}.not`);
  const spec = FACTS[c.fact];
  if (!spec) return [`${path}: unknown fact ${JSON.stringify(c.fact)}`];
  const [op, ...more] = operatorsOf(c);
  if (!op || more.length > 0) return [`${path}: a fact test needs exactly one operator`];
  if (!OPS_BY_TYPE[spec.type].includes(op)) return [`${path}: operator ${op} does not apply to ${c.fact} (${spec.type}); use one of ${OPS_BY_TYPE[spec.type].join(', ')}`];
  return operandProblems(op, c[op], spec.type).map((p) => `${path}.${op}: ${p}`);
}

function operatorsOf(t: FactTest): Operator[] {
  return (Object.keys(t) as Array<keyof FactTest>).filter((k): k is Operator => k !== 'fact');
}

function operandProblems(op: Operator, v: unknown, type: FactType): string[] {
  switch (op) {
    case 'exists':
      return typeof v === 'boolean' ? [] : ['must be true or false'];
    case 'in':
    case 'notIn':
      return Array.isArray(v) ? v.flatMap((x) => scalarProblems(x, type)) : ['must be a list'];
    case 'inCidr':
    case 'notInCidr': {
      const list: unknown[] = Array.isArray(v) ? v : [v];
      return list.flatMap((x) => (typeof x === 'string' && parseCidr(x) ? [] : [`${JSON.stringify(x)} is not a CIDR block such as 10.0.0.0/8`]));
    }
    case 'semverLt':
    case 'semverLte':
    case 'semverGt':
    case 'semverGte':
      return typeof v === 'string' && semver.valid(v) ? [] : [`${JSON.stringify(v)} is not a semantic version`];
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return typeof v === 'number' && Number.isFinite(v) ? [] : ['must be a number'];
    case 'eq':
    case 'ne':
      return scalarProblems(v, type);
    default:
      return op satisfies never;
  }
}

function scalarProblems(v: unknown, type: FactType): string[] {
  const want = type === 'number' ? 'number' : type === 'boolean' ? 'boolean' : 'string';
  return typeof v === want ? [] : [`${JSON.stringify(v)} must be a ${want}`];
}

function parseCidr(s: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const version = isIP(m[1] as string);
  const prefix = Number(m[2]);
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address: m[1] as string, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** `::ffff:10.1.2.3` (an IPv4 client on a dual-stack socket) compares as 10.1.2.3. */
export function normaliseAddress(a: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m ? (m[1] as string) : a;
}

function inCidrs(address: string, cidrs: readonly Scalar[]): boolean {
  const a = normaliseAddress(address);
  const family = isIP(a);
  if (family === 0) return false;
  const list = new BlockList();
  for (const c of cidrs) {
    const p = parseCidr(String(c));
    if (p) list.addSubnet(p.address, p.prefix, p.family);
  }
  return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/** Evaluates a validated condition; an absent fact fails every test except `exists: false`. */
export function evaluateCondition(c: Condition, facts: Facts): ConditionResult {
  const trace: string[] = [];
  const matched = evaluate(c, facts, trace);
  return { matched, trace };
}

function evaluate(c: Condition, facts: Facts, trace: string[]): boolean {
  // Every branch is evaluated (no short cut) so the trace shows all the facts a decision saw.
  if ('all' in c) return c.all.map((x) => evaluate(x, facts, trace)).every(Boolean);
  if ('any' in c) return c.any.map((x) => evaluate(x, facts, trace)).some(Boolean);
  if ('not' in c) return !evaluate(c.not, facts, trace);
  const [op] = operatorsOf(c);
  if (!op) return false;
  const operand = c[op] as Scalar | readonly Scalar[];
  const value = facts[c.fact];
  const ok = test(op, value, operand);
  trace.push(`${c.fact} ${op} ${JSON.stringify(operand)}: ${value === undefined ? 'absent' : JSON.stringify(value)} -> ${ok}`);
  return ok;
}

function test(op: Operator, v: string | number | boolean | undefined, operand: Scalar | readonly Scalar[]): boolean {
  if (op === 'exists') return (v !== undefined) === operand;
  if (v === undefined) return false;
  const list = Array.isArray(operand) ? (operand as readonly Scalar[]) : [operand as Scalar];
  switch (op) {
    case 'eq':
      return v === operand;
    case 'ne':
      return v !== operand;
    case 'in':
      return list.includes(v);
    case 'notIn':
      return !list.includes(v);
    case 'lt':
      return typeof v === 'number' && v < Number(operand);
    case 'lte':
      return typeof v === 'number' && v <= Number(operand);
    case 'gt':
      return typeof v === 'number' && v > Number(operand);
    case 'gte':
      return typeof v === 'number' && v >= Number(operand);
    case 'semverLt':
    case 'semverLte':
    case 'semverGt':
    case 'semverGte': {
      // A version that does not parse is not compared: the test fails rather than guessing.
      const have = semver.valid(String(v)) ?? semver.valid(semver.coerce(String(v)));
      if (!have || typeof operand !== 'string') return false;
      if (op === 'semverLt') return semver.lt(have, operand);
      if (op === 'semverLte') return semver.lte(have, operand);
      if (op === 'semverGt') return semver.gt(have, operand);
      return semver.gte(have, operand);
    }
    case 'inCidr':
      return typeof v === 'string' && inCidrs(v, list);
    case 'notInCidr':
      return typeof v === 'string' && isIP(normaliseAddress(v)) !== 0 && !inCidrs(v, list);
    default:
      return op satisfies never;
  }
}
