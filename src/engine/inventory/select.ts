// Ansible host patterns: all, *, group, host, a:b / a,b (union), a:&b (intersection), a:!b (exclusion), globs.
import { InputError, type SourcePos } from '../util/errors.js';
import type { Inventory } from './load.js';

const TERM_RE = /^[A-Za-z0-9._*?-]+$/;
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
  const terms = pattern
    .split(/[,:]/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (terms.length === 0) {
    throw new InputError(`empty host pattern "${pattern}"`, where, PATTERN_HINT);
  }
  const regular: string[] = [];
  const intersect: string[] = [];
  const exclude: string[] = [];
  for (const term of terms) {
    const op = term[0];
    const name = op === '&' || op === '!' ? term.slice(1).trim() : term;
    if (!TERM_RE.test(name)) {
      throw new InputError(`invalid host pattern "${term}" in "${pattern}"`, where, PATTERN_HINT);
    }
    (op === '&' ? intersect : op === '!' ? exclude : regular).push(name);
  }
  // As Ansible: unions first, then intersections, then exclusions; only &/! terms start from all.
  if (regular.length === 0) regular.push('all');

  const unmatched: string[] = [];
  const resolve = (term: string): string[] => {
    const hosts = resolveTerm(inv, term);
    if (!hosts) unmatched.push(term);
    return hosts ?? [];
  };
  const selected = new Set<string>();
  for (const t of regular) for (const h of resolve(t)) selected.add(h);
  for (const t of intersect) {
    const keep = new Set(resolve(t));
    for (const h of [...selected]) if (!keep.has(h)) selected.delete(h);
  }
  for (const t of exclude) for (const h of resolve(t)) selected.delete(h);

  return { hosts: [...inv.hosts.keys()].filter((h) => selected.has(h)), unmatched };
}

/** The hosts a term names; undefined for a name that is no host or group (a glob may match none). */
function resolveTerm(inv: Inventory, term: string): string[] | undefined {
  if (/[*?]/.test(term)) {
    const re = globToRegExp(term);
    const out: string[] = [];
    for (const [group, hosts] of inv.groups) if (re.test(group)) out.push(...hosts);
    for (const host of inv.hosts.keys()) if (re.test(host)) out.push(host);
    return out;
  }
  const group = inv.groups.get(term);
  if (group) return group;
  if (inv.hosts.has(term)) return [term];
  return undefined;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.*?+^${}()|[\]\\-]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`);
}

/** The inventory's groups and (the first 20) hosts, as a hint after an unknown name. */
export function knownNames(inv: Inventory): string {
  const groups = [...inv.groups.keys()].join(', ');
  const hosts = [...inv.hosts.keys()];
  const shown = hosts.slice(0, 20).join(', ') + (hosts.length > 20 ? `, … (${hosts.length} hosts)` : '');
  return `groups: ${groups}; hosts: ${shown || '(none)'}`;
}
