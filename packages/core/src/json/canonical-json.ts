/**
 * Canonical JSON as the TUF specification uses it (OLPC canonical JSON: sorted keys, no
 * whitespace, only `\\` and `"` escaped in strings). Written by hand because the hashes and
 * signatures of metadata depend on exact bytes and it is a hot path for TUF signing.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isInteger(value)) throw new TypeError('canonical JSON allows integers only');
      return String(value);
    case 'string':
      return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${canonicalJson(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
  }
}
