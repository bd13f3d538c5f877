// Modes as Ansible's modules take them: octal, or chmod's symbolic form (`u+rwx,g-w,o=r`, `a+X`, `=r`),
// worked out here from the path's current mode, as Ansible's AnsibleModule works them out on the host.

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const PERM_BITS = 0o7777;
const EXEC_BITS = 0o111;

type Who = 'u' | 'g' | 'o';

/** What one permission letter means for one class, as Ansible's table (`use_umask` when no class was named). */
function bitsOf(who: Who, perm: string, prev: number, applyX: boolean, umask: number, useUmask: boolean): number {
  const keep = useUmask ? ~umask & 0o777 : 0o777;
  const shift = who === 'u' ? 6 : who === 'g' ? 3 : 0;
  const cls = (c: Who) => (prev >> (c === 'u' ? 6 : c === 'g' ? 3 : 0)) & 7;
  switch (perm) {
    case 'r':
      return keep & (4 << shift);
    case 'w':
      return keep & (2 << shift);
    case 'x':
      return keep & (1 << shift);
    case 'X':
      return applyX ? 1 << shift : 0;
    case 's':
      return who === 'u' ? S_ISUID : who === 'g' ? S_ISGID : 0;
    case 't':
      return who === 'o' ? S_ISVTX : 0;
    case 'u':
    case 'g':
    case 'o':
      return cls(perm) << shift;
    default:
      throw new Error(`bad symbolic permission for mode: ${perm}`);
  }
}

/**
 * The mode a symbolic mode gives a path whose mode is `prev` (a directory when `isDir`), with the
 * host's `umask` for clauses that name no class — Ansible's reading, which differs from chmod(1) in
 * places (`X` looks at the mode before the whole spec, `u=` keeps the setgid bit...).
 */
export function symbolicMode(spec: string, prev: number, isDir: boolean, umask: number): number {
  let mode = prev & PERM_BITS;
  const applyX = isDir || (prev & EXEC_BITS) > 0;
  for (const clause of spec.split(',')) {
    const perms = clause.split(/[+=-]/);
    const ops = clause.match(/[+=-]/g) ?? [];
    let users = perms.shift()!;
    const useUmask = users === '';
    if (users === 'a' || users === '') users = 'ugo';
    if (/^[^ugo]/.test(users)) throw new Error(`bad symbolic permission for mode: ${clause}`);
    perms.forEach((p, i) => {
      if (/[^rwxXstugo]/.test(p)) throw new Error(`bad symbolic permission for mode: ${clause}`);
      for (const who of users) {
        if (who !== 'u' && who !== 'g' && who !== 'o') throw new Error(`bad symbolic permission for mode: ${clause}`);
        const bits = [...p].reduce((m, c) => m | bitsOf(who, c, prev, applyX, umask, useUmask), 0);
        if (ops[i] === '+') mode |= bits;
        else if (ops[i] === '-') mode &= ~bits;
        else {
          const mask = who === 'u' ? 0o700 | S_ISUID : who === 'g' ? 0o070 | S_ISGID : 0o007 | S_ISVTX;
          mode = (mode & (mask ^ PERM_BITS)) | bits;
        }
      }
    });
  }
  return mode;
}

/** A mode argument: octal digits (a number), or a symbolic spec to work out against each path. */
export type ModeArg = { octal: number } | { symbolic: string };

/**
 * Read a mode argument as Ansible does: a string of octal digits, else a symbolic mode. An integer is
 * the mode's value: YAML 1.1 reads an unquoted `mode: 0644` as 420 (and `mode: 644` as 644, 01204).
 */
export function parseModeArg(mode: unknown): ModeArg | undefined {
  if (mode === undefined || mode === null || mode === '') return undefined;
  if (typeof mode === 'number') {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
      throw new Error(`mode must be octal like "0644", got ${mode} (quote it: mode: "0644")`);
    return { octal: mode };
  }
  const s = String(mode);
  // Python's int(s, 8) takes "0o644" and "644" alike.
  const oct = /^(?:0o)?([0-7]+)$/i.exec(s);
  if (oct) return { octal: parseInt(oct[1], 8) };
  symbolicMode(s, 0, false, 0o022); // its syntax, now
  return { symbolic: s };
}

/** The mode a path ends up with under `arg`. */
export function modeFor(arg: ModeArg, prev: number, isDir: boolean, umask: number): number {
  return 'octal' in arg ? arg.octal : symbolicMode(arg.symbolic, prev, isDir, umask);
}

/** Ansible's spelling of a mode: "0%03o" (0644, 0755, 04755). */
export const modeText = (m: number): string => `0${m.toString(8).padStart(3, '0')}`;
