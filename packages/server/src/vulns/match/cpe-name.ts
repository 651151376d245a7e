/** The attributes of a CPE 2.3 formatted string (NISTIR 7695 §6.2), unescaped and lower-cased. */
export interface CpeName {
  readonly part: string;
  readonly vendor: string;
  readonly product: string;
  readonly version: string;
  readonly update: string;
  readonly edition: string;
  readonly language: string;
  readonly swEdition: string;
  readonly targetSw: string;
  readonly targetHw: string;
  readonly other: string;
}

const FIELDS = ['part', 'vendor', 'product', 'version', 'update', 'edition', 'language', 'swEdition', 'targetSw', 'targetHw', 'other'] as const;

/** Parses `cpe:2.3:a:openssl:openssl:1.0.1f:*:...`; undefined when it is not a CPE 2.3 name. */
export function parseCpe23(s: string): CpeName | undefined {
  if (!s.toLowerCase().startsWith('cpe:2.3:')) return undefined;
  const parts: string[] = [];
  let cur = '';
  for (let i = 8; i < s.length; i++) {
    const c = s[i] as string;
    // NISTIR 7695 §6.2.2: a backslash quotes the next character (":" inside a value is "\:").
    if (c === '\\' && i + 1 < s.length) {
      cur += s[i + 1];
      i++;
    } else if (c === ':') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  if (parts.length !== FIELDS.length || parts.some((p) => p === '')) return undefined;
  const out: Record<string, string> = {};
  FIELDS.forEach((f, i) => (out[f] = (parts[i] as string).toLowerCase()));
  return out as unknown as CpeName;
}

/** `cpe:vendor:product`: the key NVD advisories and CPE-identified components meet under. */
export function cpeKey(c: CpeName): string {
  return `cpe:${c.vendor}:${c.product}`;
}

/** Whether a concrete version is given (`*` is ANY, `-` is NA). */
export function isConcrete(v: string): boolean {
  return v !== '*' && v !== '-' && v !== '';
}
