import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { conditionProblems } from './condition.ts';
import { PolicyError } from './errors.ts';
import { isHookTrigger, type PolicyDocument } from './policy-document.ts';
import { POLICY_SCHEMA } from './policy-schema.ts';

const MAX_POLICY_BYTES = 256 * 1024;

/** Compiles the policy schema once; one parser per engine (no module-level state). */
export class PolicyParser {
  readonly #validate: ValidateFunction;

  constructor() {
    this.#validate = new Ajv({ allErrors: true, strict: false }).compile(POLICY_SCHEMA);
  }

  /** Parses JSON or YAML text (YAML is a superset; JSON is tried first for exact errors). */
  parseText(text: string): PolicyDocument {
    if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw invalid([`the document is larger than ${MAX_POLICY_BYTES} bytes`]);
    let doc: unknown;
    try {
      doc = /^\s*[{[]/.test(text) ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 50 });
    } catch (e) {
      const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : '';
      throw invalid([`syntax error${where}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`], e);
    }
    return this.validate(doc);
  }

  /** Validates a parsed document; POLICY_INVALID with every problem listed. */
  validate(doc: unknown): PolicyDocument {
    if (!this.#validate(doc)) throw invalid(schemaProblems(this.#validate.errors ?? []));
    const p = doc as PolicyDocument;
    const problems = p.rules.flatMap((r, i) => conditionProblems(r.when, `rules[${i}].when`));
    const names = new Set<string>();
    p.rules.forEach((r, i) => {
      if (names.has(r.name)) problems.push(`rules[${i}].name: ${r.name} appears twice`);
      names.add(r.name);
      const hook = isHookTrigger(p.trigger);
      r.actions.forEach((a, j) => {
        // A deny answers a check the platform is about to make; after the fact there is nothing to refuse.
        if (a.kind === 'deny' && !hook) problems.push(`rules[${i}].actions[${j}]: deny needs a hook trigger (device.connect, certificate.issuance, command.request)`);
      });
    });
    if (problems.length > 0) throw invalid(problems);
    return p;
  }
}

function schemaProblems(errors: readonly ErrorObject[]): string[] {
  // oneOf branches each report; keep the most specific messages and drop duplicates.
  const out = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'if') continue;
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : e.keyword === 'enum' ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})` : '';
    out.add(`${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`);
  }
  return [...out];
}

function invalid(problems: string[], cause?: unknown): PolicyError {
  return new PolicyError('POLICY_INVALID', `the policy is invalid: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`, { details: { problems }, ...(cause === undefined ? {} : { cause }) });
}
