// What ~/.ssh/config (then /etc/ssh/ssh_config) says about a host, read as `ssh` reads it: `Host`
// lines matched against the name given (patterns with *, ? and !), `Include` (globs, relative to
// ~/.ssh or /etc/ssh, conditional inside a Host block), and the first value of a keyword wins
// (IdentityFile adds up). The `ssh-config` package parses the files; matching is done here, because
// its own matcher runs `Match exec` commands, lets `?` match nothing and knows no Include.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import SSHConfig, { LineType, type Line } from 'ssh-config';
import { matchesPattern, matchesPatternList } from './patterns.js';

/** The keywords relay-play acts on; every other one is reported as ignored (-v). */
export const HONOURED = [
  'HostName',
  'User',
  'Port',
  'IdentityFile',
  'IdentitiesOnly',
  'IdentityAgent',
  'ProxyJump',
  // Only as `ssh ... -W %h:%p gateway`, which is read as a jump host (src/engine/connection/target.ts).
  'ProxyCommand',
  'UserKnownHostsFile',
  'GlobalKnownHostsFile',
  'StrictHostKeyChecking',
  'HostKeyAlias',
  'ConnectTimeout',
] as const;
export type Honoured = (typeof HONOURED)[number];
const BY_LOWER = new Map<string, Honoured>(HONOURED.map((k) => [k.toLowerCase(), k]));

export interface HostConfig {
  /** The first value (its words) of each honoured keyword that applies, IdentityFile excepted. */
  values: Partial<Record<Honoured, string[]>>;
  /** Every IdentityFile that applies, in order. */
  identityFiles: string[];
  /** Keywords that apply to the host but relay-play does not act on, with the file they are in. */
  ignored: Map<string, string>;
}

export interface ConfigFiles {
  /** ~/.ssh/config; Include paths in it are relative to ~/.ssh. */
  user: string;
  /** /etc/ssh/ssh_config; Include paths in it are relative to /etc/ssh. */
  system: string;
}

export function defaultConfigFiles(home = homedir()): ConfigFiles {
  return { user: join(home, '.ssh', 'config'), system: '/etc/ssh/ssh_config' };
}

const parsed = new Map<string, SSHConfig | undefined>();

function readConfig(file: string): SSHConfig | undefined {
  if (!parsed.has(file)) {
    let text: string | undefined;
    try {
      text = statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
    } catch {
      text = undefined; // absent or unreadable: as if empty, as ssh does for a missing Include
    }
    parsed.set(file, text === undefined ? undefined : SSHConfig.parse(text));
  }
  return parsed.get(file);
}

/** Forget parsed files (tests that rewrite a config in one process). */
export function clearConfigCache(): void {
  parsed.clear();
}

/** A directive's value as words (the parser gives one string, or a list for multi-word values). */
const words = (value: unknown, quoted?: boolean): string[] =>
  Array.isArray(value)
    ? (value as { val: string }[]).map((v) => v.val)
    : quoted
      ? [String(value)]
      : String(value).split(/\s+/).filter(Boolean);

/** `~` and `${VAR}` in a path, as ssh expands them in Include, IdentityFile and known-hosts files. */
export function expandPath(p: string, home = homedir()): string {
  return p.replace(/^~(?=\/|$)/, home).replace(/\$\{(\w+)\}/g, (_, v: string) => process.env[v] ?? '');
}

/** Files matching a glob (`*`, `?` in any path segment), sorted as glob(3) returns them. */
export function globFiles(pattern: string): string[] {
  const parts = pattern.split('/');
  let found = [parts[0] === '' ? '/' : '.'];
  for (const part of parts.slice(parts[0] === '' ? 1 : 0)) {
    if (!part) continue;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(dir).sort();
      } catch {
        continue;
      }
      const re = new RegExp(
        `^${[...part].map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`,
      );
      next.push(
        ...names.filter((n) => re.test(n) && (!n.startsWith('.') || part.startsWith('.'))).map((n) => join(dir, n)),
      );
    }
    found = next;
  }
  return found.filter((f) => existsSync(f));
}

/** The ssh config that applies to `name` (the host name as it would be given to ssh). */
export function sshConfigFor(name: string, files: ConfigFiles = defaultConfigFiles(), home = homedir()): HostConfig {
  const out: HostConfig = { values: {}, identityFiles: [], ignored: new Map() };

  const apply = (param: string, value: unknown, quoted: boolean | undefined, file: string) => {
    const key = BY_LOWER.get(param.toLowerCase());
    if (key === 'IdentityFile') out.identityFiles.push(Array.isArray(value) ? words(value).join(' ') : String(value));
    else if (key) out.values[key] ??= words(value, quoted);
    else if (!out.ignored.has(param)) out.ignored.set(param, file);
  };

  const walk = (lines: readonly Line[], file: string, baseDir: string, active: boolean, depth: number) => {
    for (const line of lines) {
      if (line.type !== LineType.DIRECTIVE) continue;
      const param = line.param.toLowerCase();
      if (param === 'host' && 'config' in line) {
        walk(line.config, file, baseDir, matchesPatternList(words(line.value), name), depth);
      } else if (param === 'match' && 'config' in line) {
        // Match blocks are not evaluated (they may run commands): their lines never apply.
        if (!out.ignored.has('Match')) out.ignored.set('Match', file);
      } else if (param === 'include') {
        if (!active || depth > 16) continue;
        for (const pattern of words(line.value)) {
          const abs = expandPath(pattern, home);
          for (const f of globFiles(isAbsolute(abs) ? abs : join(baseDir, abs))) {
            const inc = readConfig(f);
            if (inc) walk(inc, f, baseDir, true, depth + 1);
          }
        }
      } else if (active) apply(line.param, line.value, line.quoted, file);
    }
  };

  for (const [file, baseDir] of [
    [files.user, join(home, '.ssh')],
    [files.system, '/etc/ssh'],
  ]) {
    const cfg = readConfig(file);
    if (cfg) walk(cfg, file, baseDir, true, 0);
  }
  return out;
}

export interface TokenContext {
  /** The name given (inventory host or ansible_host): %n. */
  original: string;
  /** The host name after HostName: %h. */
  host: string;
  user: string;
  port: number;
  home: string;
}

/** ssh's % tokens (%% %d %h %n %p %r %u) and ~, in IdentityFile, UserKnownHostsFile and friends. */
export function expandTokens(s: string, t: TokenContext): string {
  const tokens: Record<string, string> = {
    '%': '%',
    d: t.home,
    h: t.host,
    n: t.original,
    p: String(t.port),
    r: t.user,
    u: localUser(),
  };
  return expandPath(
    s.replace(/%([%dhnpru])/g, (_, c: string) => tokens[c]),
    t.home,
  );
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

/** `yes`/`no` of ssh config (also true/false). */
export function sshYes(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.toLowerCase();
  if (['yes', 'true'].includes(s)) return true;
  if (['no', 'false'].includes(s)) return false;
  return undefined;
}

export { matchesPattern };
