// OpenSSH host patterns (ssh_config(5) PATTERNS), shared by ~/.ssh/config `Host` lines and known_hosts:
// `*` any run of characters, `?` exactly one, a list separated by commas or spaces, and `!pattern`
// which vetoes the whole list when it matches. Host names compare case-insensitively, as in ssh.

function toRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

/** Whether `name` matches one pattern (no negation). */
export function matchesPattern(pattern: string, name: string): boolean {
  return toRegExp(pattern).test(name);
}

/**
 * Whether `name` matches a pattern list: some positive pattern matches and no negated one does.
 * A list of only negated patterns matches nothing (as in ssh).
 */
export function matchesPatternList(patterns: string | readonly string[], name: string): boolean {
  const list = typeof patterns === 'string' ? patterns.split(/[\s,]+/).filter(Boolean) : patterns;
  let matched = false;
  for (const p of list) {
    if (p.startsWith('!')) {
      if (matchesPattern(p.slice(1), name)) return false;
    } else if (matchesPattern(p, name)) matched = true;
  }
  return matched;
}
