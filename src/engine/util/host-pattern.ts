// Ansible host patterns over groups and hosts: all, *, group, host, a:b / a,b (union), a:&b
// (intersection), a:!b (exclusion), globs. The inventory's selection and the inventory_hostnames
// lookup (which sees only the `groups` variable, as Ansible's) both match with this.

export class PatternError extends Error {}

const TERM_RE = /^[A-Za-z0-9._*?-]+$/;

/**
 * Host names matching `pattern`, in the order of `hosts` (and in the pattern's order: each term's hosts
 * in turn, as Ansible's inventory gives them), and the names in it that match no host or group. A
 * pattern that does not parse → PatternError.
 */
export function matchPattern(
  pattern: string,
  groups: ReadonlyMap<string, readonly string[]>,
  hosts: readonly string[],
): { hosts: string[]; unmatched: string[]; inPatternOrder: string[] } {
  const terms = pattern
    .split(/[,:]/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (terms.length === 0) throw new PatternError(`empty host pattern "${pattern}"`);
  const regular: string[] = [];
  const intersect: string[] = [];
  const exclude: string[] = [];
  for (const term of terms) {
    const op = term[0];
    const name = op === '&' || op === '!' ? term.slice(1).trim() : term;
    if (!TERM_RE.test(name)) throw new PatternError(`invalid host pattern "${term}" in "${pattern}"`);
    (op === '&' ? intersect : op === '!' ? exclude : regular).push(name);
  }
  // As Ansible: unions first, then intersections, then exclusions; only &/! terms start from all.
  if (regular.length === 0) regular.push('all');

  const known = new Set(hosts);
  const unmatched: string[] = [];
  const resolve = (term: string): readonly string[] => {
    const found = resolveTerm(groups, hosts, known, term);
    if (!found) unmatched.push(term);
    return found ?? [];
  };
  const selected = new Set<string>();
  for (const t of regular) for (const h of resolve(t)) selected.add(h);
  for (const t of intersect) {
    const keep = new Set(resolve(t));
    for (const h of [...selected]) if (!keep.has(h)) selected.delete(h);
  }
  for (const t of exclude) for (const h of resolve(t)) selected.delete(h);

  return { hosts: hosts.filter((h) => selected.has(h)), unmatched, inPatternOrder: [...selected] };
}

/** The hosts a term names; undefined for a name that is no host or group (a glob may match none). */
function resolveTerm(
  groups: ReadonlyMap<string, readonly string[]>,
  hosts: readonly string[],
  known: ReadonlySet<string>,
  term: string,
): readonly string[] | undefined {
  if (/[*?]/.test(term)) {
    const re = globToRegExp(term);
    const out: string[] = [];
    for (const [group, members] of groups) if (re.test(group)) out.push(...members);
    for (const host of hosts) if (re.test(host)) out.push(host);
    return out;
  }
  const group = groups.get(term);
  if (group) return group;
  if (known.has(term)) return [term];
  return undefined;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.*?+^${}()|[\]\\-]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`);
}
