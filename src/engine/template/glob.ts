// Python's glob.glob on the controller (the `fileglob` filter and lookup): `*`, `?` and `[...]` within
// one path component, names starting with "." matched only by a pattern that starts with ".". Results
// come sorted by name (Python gives directory order, which is arbitrary).
import { readdirSync, statSync } from 'node:fs';

/** fnmatch's translation of one path component into a RegExp. */
export function fnmatchRegex(pat: string): RegExp {
  let re = '';
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = pat.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        let body = pat.slice(i + 1, j);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

const magic = (s: string) => /[*?[]/.test(s);

/** Paths matching `pattern` (absolute or relative to the process's directory), files and directories. */
export function glob(pattern: string): string[] {
  const parts = pattern.split('/');
  let found: string[] = [parts[0] === '' ? '/' : ''];
  const join = (base: string, name: string) =>
    base === '' ? name : base.endsWith('/') ? base + name : `${base}/${name}`;
  for (const [i, part] of parts.entries()) {
    if (i === 0 && part === '') continue;
    if (part === '') {
      found = found.map((f) => `${f}/`);
      continue;
    }
    const next: string[] = [];
    for (const base of found) {
      if (!magic(part)) {
        next.push(join(base, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base === '' ? '.' : base);
      } catch {
        continue;
      }
      const re = fnmatchRegex(part);
      for (const n of names.sort())
        if ((part.startsWith('.') || !n.startsWith('.')) && re.test(n)) next.push(join(base, n));
    }
    found = next;
  }
  return found.filter((f) => {
    try {
      statSync(f);
      return true;
    } catch {
      return false;
    }
  });
}

/** Regular files only (what `fileglob` returns). */
export function globFiles(pattern: string): string[] {
  return glob(pattern).filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}
