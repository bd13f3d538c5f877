// Ansible host patterns (../util/host-pattern.ts) over an inventory, with errors at their place in the playbook.
import { InputError, type SourcePos } from '../util/errors.js';
import { PatternError, matchPattern } from '../util/host-pattern.js';
import type { Inventory } from './load.js';

const PATTERN_HINT = 'patterns look like: all, web, rpi1, rpi*, web:db, web:&prod, all:!db';

/** Host names matching `pattern`, in inventory order. Unknown names (outside globs) → InputError at `where`. */
export function selectHosts(inv: Inventory, pattern: string, where?: SourcePos): string[] {
  const { hosts, unmatched } = matchHosts(inv, pattern, where);
  if (unmatched.length) {
    throw new InputError(`no host or group named "${unmatched[0]}" in inventory ${inv.file}`, where, knownNames(inv));
  }
  return hosts;
}

/**
 * Host names matching `pattern`, in inventory order, and the names in it that match no host or group —
 * which ansible-playbook warns of and ignores. A pattern that does not parse → InputError at `where`.
 */
export function matchHosts(
  inv: Inventory,
  pattern: string,
  where?: SourcePos,
): { hosts: string[]; unmatched: string[] } {
  try {
    const { hosts, unmatched } = matchPattern(pattern, inv.groups, [...inv.hosts.keys()]);
    return { hosts, unmatched };
  } catch (e) {
    if (e instanceof PatternError) throw new InputError(e.message, where, PATTERN_HINT);
    throw e;
  }
}

/** The inventory's groups and (the first 20) hosts, as a hint after an unknown name. */
export function knownNames(inv: Inventory): string {
  const groups = [...inv.groups.keys()].join(', ');
  const hosts = [...inv.hosts.keys()];
  const shown = hosts.slice(0, 20).join(', ') + (hosts.length > 20 ? `, … (${hosts.length} hosts)` : '');
  return `groups: ${groups}; hosts: ${shown || '(none)'}`;
}
