import type { AuditEntryRow } from './entry-pages.ts';
import { AuditError } from './errors.ts';

export const EXPORT_FORMATS = ['jsonl', 'syslog'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function parseExportFormat(s: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(s)) return s as ExportFormat;
  throw new AuditError('AUDIT_FORMAT_UNKNOWN', `unknown export format "${s}"`, { details: { formats: EXPORT_FORMATS } });
}

/** One entry as a JSON object (hashes in hex, details parsed). */
export function entryJson(e: AuditEntryRow): Record<string, unknown> {
  return {
    seq: e.seq, at: new Date(e.at).toISOString(), tenantId: e.tenant_id, actor: e.actor, action: e.action, target: e.target, outcome: e.outcome,
    details: JSON.parse(e.details) as unknown, prevHash: Buffer.from(e.prev_hash).toString('hex'), hash: Buffer.from(e.hash).toString('hex'),
  };
}

// RFC 5424 §6.2.1: facility 13 is "log audit"; severity informational (6) or warning (4).
const FACILITY_LOG_AUDIT = 13;
// RFC 5424 §7.2.2 / RFC 5612: private SD-IDs are name@<private enterprise number>; 32473 is the
// documentation PEN, used until the project registers its own.
const SD_ID = 'medtrust@32473';

/** RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\' and ']' must be escaped with '\'. */
export function escapeSdParam(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** RFC 5424 §6: header fields are PRINTUSASCII without spaces, or NILVALUE '-'. */
function headerField(v: string, maxLength: number): string {
  const clean = v.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return clean === '' ? '-' : clean;
}

/** One entry as an RFC 5424 syslog line (without trailing newline). */
export function syslogLine(e: AuditEntryRow, host: { hostname: string; procId: string }): string {
  const severity = e.outcome === 'success' ? 6 : 4;
  const pri = FACILITY_LOG_AUDIT * 8 + severity;
  const params: Array<[string, string | null]> = [
    ['seq', String(e.seq)], ['actor', e.actor], ['outcome', e.outcome], ['target', e.target], ['tenant', e.tenant_id], ['hash', Buffer.from(e.hash).toString('hex')],
  ];
  const sd = `[${SD_ID}${params.filter(([, v]) => v !== null).map(([k, v]) => ` ${k}="${escapeSdParam(v as string)}"`).join('')}]`;
  // RFC 5424 §6.2: HOSTNAME ≤ 255, APP-NAME ≤ 48, PROCID ≤ 128, MSGID ≤ 32 characters.
  const header = `<${pri}>1 ${new Date(e.at).toISOString()} ${headerField(host.hostname, 255)} medtrust ${headerField(host.procId, 128)} ${headerField(e.action, 32)}`;
  // MSG: the details JSON, as MSG-ANY (no BOM) so plain-ASCII collectors need no UTF-8 handling.
  return `${header} ${sd} ${e.details}`;
}

/** Formats one entry in the chosen export format. */
export function formatEntry(format: ExportFormat, e: AuditEntryRow, host: { hostname: string; procId: string }): string {
  switch (format) {
    case 'jsonl':
      return JSON.stringify(entryJson(e));
    case 'syslog':
      return syslogLine(e, host);
    default:
      return format satisfies never;
  }
}
