/** The parts of an RFC 7512 PKCS#11 URI that name one key pair on the token. */
export interface Pkcs11KeyUri {
  readonly label: string;
  /** CKA_ID shared by the private and public key objects; absent means "the one key with this label". */
  readonly id: Buffer | undefined;
  /** Token label; absent means "the token this store is logged in to". */
  readonly token: string | undefined;
}

// RFC 7512 §2.3: attribute values are percent-encoded UTF-8; encode every byte of the id so
// that it survives any reader, as p11-kit and OpenSSL's pkcs11 provider print it.
function pctBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += `%${b.toString(16).padStart(2, '0')}`;
  return out;
}

/** Formats the ref a Pkcs11KeyStore returns: `pkcs11:object=<label>;id=%xx...;type=private`. */
export function formatKeyUri(label: string, id: Buffer): string {
  return `pkcs11:object=${encodeURIComponent(label)};id=${pctBytes(id)};type=private`;
}

/**
 * Parses a ref back; returns undefined for anything that is not a PKCS#11 URI naming a private
 * key by object label (and id) (the caller turns that into KEY_NOT_FOUND).
 */
export function parseKeyUri(ref: string): Pkcs11KeyUri | undefined {
  if (!ref.startsWith('pkcs11:')) return undefined;
  const path = ref.slice('pkcs11:'.length);
  // A query component could carry pin-value or module-path (RFC 7512 §2.3); refs stored in the
  // database never need one, so refuse rather than honour an injected module path.
  if (path.includes('?')) return undefined;
  const attrs = new Map<string, string>();
  for (const part of path.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const name = part.slice(0, eq);
    if (attrs.has(name)) return undefined;
    attrs.set(name, part.slice(eq + 1));
  }
  const type = attrs.get('type');
  if (type !== undefined && type !== 'private') return undefined;
  try {
    const label = attrs.get('object');
    const idRaw = attrs.get('id');
    if (label === undefined) return undefined;
    const id = idRaw === undefined ? undefined : Buffer.from(pctDecodeBytes(idRaw), 'latin1');
    const token = attrs.get('token');
    const decodedLabel = decodeURIComponent(label);
    if (decodedLabel === '' || id?.length === 0) return undefined;
    return { label: decodedLabel, id, token: token === undefined ? undefined : decodeURIComponent(token) };
  } catch {
    return undefined;
  }
}

// The id is raw bytes, not UTF-8, so decodeURIComponent would reject or mangle it.
function pctDecodeBytes(value: string): string {
  if (!/^(?:%[0-9a-fA-F]{2}|[A-Za-z0-9\-._~])*$/.test(value)) throw new URIError('bad id');
  return value.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
