/** A device's report on a command (docs/clinical-commands.md, Acknowledgements). */
export interface CommandAck {
  /** Null when the device could not read an id (a malformed command). */
  readonly commandId: string | null;
  readonly result: 'accepted' | 'executed' | 'refused' | 'failed';
  /** Why, for refused and failed: COMMAND_EXPIRED, COMMAND_REPLAYED, COMMAND_SIGNATURE_INVALID, ... */
  readonly code?: string;
}

const RESULTS = new Set(['accepted', 'executed', 'refused', 'failed']);
const ID = /^[\w.-]{1,64}$/;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Parses the JSON a device published on `command-results`; undefined when it is not a valid report. */
export function parseCommandAck(payload: Buffer): CommandAck | undefined {
  if (payload.length > 4096) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as { v?: unknown; commandId?: unknown; result?: unknown; code?: unknown };
  if (d.v !== 1 || typeof d.result !== 'string' || !RESULTS.has(d.result)) return undefined;
  if (d.commandId !== null && (typeof d.commandId !== 'string' || !ID.test(d.commandId))) return undefined;
  if (d.code !== undefined && (typeof d.code !== 'string' || !CODE.test(d.code))) return undefined;
  if ((d.result === 'refused' || d.result === 'failed') && d.code === undefined) return undefined;
  return { commandId: d.commandId, result: d.result as CommandAck['result'], ...(d.code !== undefined ? { code: d.code } : {}) };
}

type Status = 'issued' | 'acknowledged' | 'executed' | 'failed' | 'rejected';

/**
 * Codes whose command id the device could not authenticate (forged, malformed) or that name a
 * command already handled (a replay): they never change the stored command, they are audited.
 */
const UNTRUSTED_CODES = new Set(['COMMAND_SIGNATURE_INVALID', 'COMMAND_MALFORMED', 'COMMAND_REPLAYED']);

/** The command's next status after a device report, or undefined when the report changes nothing. */
export function nextCommandStatus(current: string, ack: CommandAck): Status | undefined {
  switch (ack.result) {
    case 'accepted':
      return current === 'issued' ? 'acknowledged' : undefined;
    case 'executed':
      return current === 'issued' || current === 'acknowledged' ? 'executed' : undefined;
    case 'failed':
      return current === 'issued' || current === 'acknowledged' ? 'failed' : undefined;
    case 'refused':
      return current === 'issued' && !UNTRUSTED_CODES.has(ack.code ?? '') ? 'rejected' : undefined;
    default:
      return ack.result satisfies never;
  }
}
