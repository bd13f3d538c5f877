// Shared text for the plain and TTY renderers.
import { unified } from '../util/diff.js';
import type { TaskDef } from '../playbook/types.js';
import type { TaskResult } from '../runner/result.js';
import type { HostStats } from '../runner/state.js';

const LABEL: Record<TaskResult['status'], string> = {
  ok: 'ok',
  changed: 'changed',
  skipped: 'skipping',
  failed: 'fatal',
  unreachable: 'fatal',
};

export function resultLine(host: string, task: TaskDef, r: TaskResult): string {
  const label = r.ignored ? 'failed (ignored)' : LABEL[r.status];
  let line = `${label}: [${host}] ${task.name}`;
  if (r.status === 'unreachable') line += ` => UNREACHABLE! ${r.msg ?? ''}`;
  else if (r.status === 'failed') line += ` => FAILED! ${r.msg ?? ''}${failureDetail(r)}`;
  return line;
}

/** What a failed command said on stderr (Ansible shows it with the result): "non-zero return code" alone says nothing. */
function failureDetail(r: TaskResult): string {
  const stderr = r.result.stderr;
  if (typeof stderr !== 'string' || !stderr.trim() || (r.msg ?? '').includes(stderr.trim())) return '';
  const lines = stderr.trim().split(/\s*\r?\n/);
  return `: ${lines.slice(0, 5).join(' / ')}${lines.length > 5 ? ' / ...' : ''}`;
}

/** A warning, on stderr as ansible-playbook's (it happens between plays, never under a live view). */
export function writeWarning(text: string): void {
  process.stderr.write(`[WARNING]: ${text}\n`);
}

/** -v: a note on how a host is reached (e.g. ssh config keywords relay-play ignores). */
export function noteLine(host: string, text: string): string {
  return `note: [${host}] ${text}`;
}

/** -v: how a routed host was reached (`how`: "directly (ansible_host)", or its route's own words). */
export function reachedLine(host: string, how: string): string {
  return `reached: [${host}] ${how}`;
}

export function diffText(r: TaskResult): string {
  return r.diff.map(unified).join('\n');
}

export function recapLines(stats: Map<string, HostStats>): string[] {
  const names = [...stats.keys()];
  const width = Math.max(0, ...names.map((n) => n.length));
  return names.map((n) => {
    const s = stats.get(n)!;
    return `${n.padEnd(width)} : ok=${s.ok} changed=${s.changed} unreachable=${s.unreachable} failed=${s.failures} skipped=${s.skipped} rescued=${s.rescued} ignored=${s.ignored}${s.via ? ` via=${s.via}` : ''}`;
  });
}
