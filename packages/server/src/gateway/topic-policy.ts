/** Where a device may publish and subscribe (docs/device-protocol.md, Topics). */
export const TELEMETRY_SUFFIX = 'telemetry';
/** Where a device acknowledges commands (accepted, executed, refused with a code); docs/clinical-commands.md. */
export const COMMAND_RESULTS_SUFFIX = 'command-results';
/** Where a device reports update status and asks for its desired state; docs/updates.md. */
export const UPDATE_STATUS_SUFFIX = 'update-status';

export function deviceTopic(deviceId: string, suffix: string): string {
  return `devices/${deviceId}/${suffix}`;
}

const PLATFORM_TO_DEVICE = new Set(['commands', 'updates', 'errors']);

/** Least privilege: only under its own tree, never into the platform-to-device subtrees. */
export function mayPublish(deviceId: string, topic: string): boolean {
  const prefix = `devices/${deviceId}/`;
  if (!topic.startsWith(prefix)) return false;
  const rest = topic.slice(prefix.length);
  if (rest === '' || rest.includes('+') || rest.includes('#')) return false;
  return !PLATFORM_TO_DEVICE.has(rest.split('/')[0] ?? '');
}

/** Only its own commands, updates and errors; no wildcard reaching above those subtrees. */
export function maySubscribe(deviceId: string, filter: string): boolean {
  const prefix = `devices/${deviceId}/`;
  if (!filter.startsWith(prefix)) return false;
  const rest = filter.slice(prefix.length);
  if (rest === 'errors') return true;
  const [head, ...tail] = rest.split('/');
  if (head !== 'commands' && head !== 'updates') return false;
  // `commands`, `commands/#`, `commands/x/+`: wildcards only below the subtree.
  return tail.every((level, i) => level === '+' || (level === '#' && i === tail.length - 1) || (level !== '' && !level.includes('+') && !level.includes('#')));
}
