// Where and as whom to log in to a host, worked out as ansible-playbook + OpenSSH would: the inventory's
// connection vars first, then `-o`/`-J`/`-i`/`-p`/`-l` in ansible_ssh_common_args and
// ansible_ssh_extra_args, then ~/.ssh/config and /etc/ssh/ssh_config for the name ssh would be given
// (ansible_host, else the inventory name); docs/inventory.md "How hosts are reached" has the table.
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { openVia } from './jump.js';
import { identityFiles } from './identities.js';
import { LocalConnection } from './local.js';
import {
  expandPath,
  expandTokens,
  HONOURED,
  sshConfigFor,
  sshYes,
  type HostConfig,
  type Honoured,
} from './ssh-config.js';
import type { SshTarget } from './ssh.js';
import type { Connection } from './types.js';
import { UnreachableError } from '../util/errors.js';

type Vars = Record<string, unknown>;

export interface ConnectOptions {
  acceptNewHostKeys: boolean;
  connectTimeoutMs?: number;
  /** Told what is worth saying with -v about how a host is reached (ssh config keywords not honoured). */
  note?: (host: string, text: string) => void;
}

/** Where the address a host is reached at comes from. */
export type AddressFrom = 'ansible_host' | 'ssh config' | 'inventory name';

export type ResolvedTarget = SshTarget & { addressFrom: AddressFrom };

const falsy = (v: unknown) => v === false || ['false', 'no', '0', 'off', 'n', 'f'].includes(String(v).toLowerCase());

/** ssh options given in ansible_ssh_common_args / ansible_ssh_extra_args. */
export interface SshArgs {
  /** `-o Keyword=value` (keyword in lower case), first value wins; `-J` is ProxyJump. */
  options: Map<string, string>;
  /** `-i` and `-o IdentityFile=`, in order. */
  identityFiles: string[];
  port?: string;
  user?: string;
  /** Words relay-play does not act on. */
  ignored: string[];
}

/** Split a command-line string into words as a POSIX shell would (quotes, backslashes; no expansion). */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (/\s/.test(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      word = (word ?? '') + s.slice(i + 1, end < 0 ? s.length : end);
      i = end < 0 ? s.length : end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < s.length && s[i] !== '"'; i++)
        word += s[i] === '\\' && /["\\$`]/.test(s[i + 1] ?? '') ? s[++i] : s[i];
    } else if (c === '\\') {
      word = (word ?? '') + (s[++i] ?? '');
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) out.push(word);
  return out;
}

export function parseSshArgs(...texts: unknown[]): SshArgs {
  const args: SshArgs = { options: new Map(), identityFiles: [], ignored: [] };
  const option = (kv: string) => {
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(kv);
    if (!m) return void args.ignored.push(`-o ${kv}`);
    const key = m[1].toLowerCase();
    if (key === 'identityfile') args.identityFiles.push(m[2]);
    else if (!args.options.has(key)) args.options.set(key, m[2].trim());
  };
  for (const text of texts) {
    if (text === undefined || text === null) continue;
    const words = shellWords(String(text));
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      const flag = /^-([oJipl])(.*)$/.exec(w);
      if (!flag) {
        args.ignored.push(w);
        continue;
      }
      const value = flag[2] || words[++i] || '';
      if (flag[1] === 'o') option(value);
      else if (flag[1] === 'J' && !args.options.has('proxyjump')) args.options.set('proxyjump', value);
      else if (flag[1] === 'i') args.identityFiles.push(value);
      else if (flag[1] === 'p') args.port ??= value;
      else if (flag[1] === 'l') args.user ??= value;
    }
  }
  return args;
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** The agent to use: IdentityAgent (none, a socket path, or SSH_AUTH_SOCK), else $SSH_AUTH_SOCK; only if it exists. */
function agentSocket(identityAgent: string | undefined, home: string): string | undefined {
  const v =
    identityAgent === undefined || identityAgent === 'SSH_AUTH_SOCK'
      ? process.env.SSH_AUTH_SOCK
      : identityAgent === 'none'
        ? undefined
        : expandPath(identityAgent, home);
  return v && existsSync(v) ? v : undefined;
}

const portOf = (v: unknown, what: string, host: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UnreachableError(host, `${what} of ${host} is not a port number: ${JSON.stringify(v)}`);
  return n;
};

/** ProxyJump words: `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; `none` for none. */
export function parseJumps(spec: string): { user?: string; host: string; port?: number }[] {
  if (!spec || spec.toLowerCase() === 'none') return [];
  return spec.split(',').map((hop) => {
    const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:@[\]]+)(?::(\d+))?$/.exec(hop.trim());
    if (!m)
      throw new Error(
        `ProxyJump ${JSON.stringify(spec)}: cannot read ${JSON.stringify(hop)} (want [user@]host[:port])`,
      );
    return { user: m[1], host: m[2].replace(/^\[(.*)\]$/, '$1'), port: m[3] ? Number(m[3]) : undefined };
  });
}

interface Resolve {
  home: string;
  opts: ConnectOptions;
  depth: number;
}

/** The common part for a host and a jump host: what ssh config (and given overrides) say. */
function fromConfig(
  host: string,
  name: string,
  cfg: HostConfig,
  words: (k: Honoured) => string[] | undefined,
  over: { user?: string; port?: number; identityFiles: string[]; acceptNew: boolean },
  r: Resolve,
): ResolvedTarget {
  const get = (k: Honoured) => words(k)?.join(' ');
  const hostName = get('HostName');
  const port = over.port ?? (get('Port') ? portOf(get('Port'), 'Port (ssh config)', host) : 22);
  const user = over.user ?? get('User') ?? localUser();
  const address = hostName ? expandTokens(hostName, { original: name, host: name, user, port, home: r.home }) : name;
  const tokens = { original: name, host: address, user, port, home: r.home };
  const list = (k: Honoured, dflt: string[]) => words(k) ?? dflt;
  const strict = get('StrictHostKeyChecking')?.toLowerCase();
  const timeout = get('ConnectTimeout');
  return {
    host,
    address,
    port,
    user,
    addressFrom: hostName ? 'ssh config' : 'inventory name',
    identityFiles: identityFiles(
      [...over.identityFiles, ...cfg.identityFiles].map((f) => expandTokens(f, tokens)),
      r.home,
    ),
    identitiesOnly: sshYes(get('IdentitiesOnly')) ?? false,
    agent: agentSocket(get('IdentityAgent'), r.home),
    knownHostsFiles: list('UserKnownHostsFile', ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map((f) =>
      expandTokens(f, tokens),
    ),
    globalKnownHostsFiles: list('GlobalKnownHostsFile', ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']).map(
      (f) => expandTokens(f, tokens),
    ),
    hostKeyAlias: get('HostKeyAlias'),
    acceptNewHostKeys: over.acceptNew || strict === 'accept-new' || strict === 'no' || strict === 'off',
    connectTimeoutMs: r.opts.connectTimeoutMs ?? (timeout && Number(timeout) > 0 ? Number(timeout) * 1000 : undefined),
  };
}

/**
 * A ProxyCommand of the classic form `ssh [-q] [-p port] [-l user] -W %h:%p [user@]gateway` (the one
 * Ansible's docs show) is a jump host by another name: it is read as `ProxyJump [user@]gateway[:port]`.
 * Anything else (other options, other commands) is not run: undefined.
 */
export function proxyCommandAsJump(command: string): string | undefined {
  const w = shellWords(command);
  if (!/(^|\/)ssh$/.test(w[0] ?? '')) return undefined;
  let user: string | undefined;
  let port: string | undefined;
  let host: string | undefined;
  let forwards = false;
  for (let i = 1; i < w.length; i++) {
    const m = /^-([Wpl])(.*)$/.exec(w[i]);
    if (m) {
      const value = m[2] || w[++i];
      if (m[1] === 'W') forwards = value === '%h:%p';
      else if (m[1] === 'p') port = value;
      else user = value;
    } else if (/^-[qTnNaxC46]+$/.test(w[i])) continue;
    else if (w[i].startsWith('-') || host) return undefined;
    else host = w[i];
  }
  if (!forwards || !host || !/^\d*$/.test(port ?? '')) return undefined;
  const at = host.includes('@') ? host : user ? `${user}@${host}` : host;
  return port ? `${at}:${port}` : at;
}

/** The jump hosts for a ProxyJump value, first to last; the first hop's own ProxyJump comes before it (as in ssh). */
function resolveJumps(owner: string, spec: string | undefined, r: Resolve): SshTarget[] {
  if (!spec) return [];
  if (r.depth > 8) throw new UnreachableError(owner, `ProxyJump goes round in circles (${spec})`);
  let hops: ReturnType<typeof parseJumps>;
  try {
    hops = parseJumps(spec);
  } catch (e) {
    throw new UnreachableError(owner, `${owner}: ${(e as Error).message}`);
  }
  return hops.flatMap((hop, i) => {
    const cfg = sshConfigFor(hop.host, undefined, r.home);
    const t = fromConfig(
      hop.host,
      hop.host,
      cfg,
      (k) => cfg.values[k],
      { user: hop.user, port: hop.port, identityFiles: [], acceptNew: r.opts.acceptNewHostKeys },
      r,
    );
    const before = i === 0 ? resolveJumps(hop.host, cfg.values.ProxyJump?.join(' '), { ...r, depth: r.depth + 1 }) : [];
    return [...before, { ...t, addressFrom: undefined } as SshTarget];
  });
}

/** Where and as whom to log in to `host`, from its Ansible connection vars and ssh config. */
export function sshTarget(host: string, vars: Vars, opts: ConnectOptions): ResolvedTarget {
  const home = homedir();
  const name = String(vars.ansible_host ?? host);
  const args = parseSshArgs(vars.ansible_ssh_common_args, vars.ansible_ssh_extra_args);
  const cfg = sshConfigFor(name, undefined, home);
  const words = (k: Honoured) => {
    const given = args.options.get(k.toLowerCase());
    return given !== undefined ? shellWords(given) : cfg.values[k];
  };
  const keyFile = vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file;
  const user = vars.ansible_user ?? vars.ansible_ssh_user ?? args.user;
  const port = vars.ansible_port ?? vars.ansible_ssh_port ?? args.port;
  const hostKeyChecking = vars.host_key_checking ?? vars.ansible_host_key_checking;
  const r: Resolve = { home, opts, depth: 0 };
  const t = fromConfig(
    host,
    name,
    cfg,
    words,
    {
      user: user === undefined ? undefined : String(user),
      port: port === undefined ? undefined : portOf(port, 'ansible_port', host),
      identityFiles: [...(keyFile ? [String(keyFile)] : []), ...args.identityFiles],
      acceptNew: opts.acceptNewHostKeys || (hostKeyChecking !== undefined && falsy(hostKeyChecking)),
    },
    r,
  );
  if (t.addressFrom === 'inventory name' && vars.ansible_host !== undefined) t.addressFrom = 'ansible_host';
  // ssh takes whichever of ProxyJump and ProxyCommand comes first; the command line comes before the files.
  const given = (k: string) => args.options.get(k.toLowerCase());
  const proxyCommand =
    given('ProxyCommand') ?? (given('ProxyJump') === undefined ? cfg.values.ProxyCommand?.join(' ') : undefined);
  const jumpSpec =
    given('ProxyJump') ?? (given('ProxyCommand') === undefined ? cfg.values.ProxyJump?.join(' ') : undefined);
  const jump =
    jumpSpec ?? (proxyCommand && proxyCommand.toLowerCase() !== 'none' ? proxyCommandAsJump(proxyCommand) : undefined);
  t.jumps = resolveJumps(host, jump, r);
  if (proxyCommand && !jumpSpec && !t.jumps.length && proxyCommand.toLowerCase() !== 'none') {
    t.hint = `a ProxyCommand is set for ${name} (${proxyCommand}); relay-play runs no command: use ProxyJump, or the form "ssh -W %h:%p gateway"`;
  }
  noteIgnored(host, cfg, args, opts);
  return t;
}

const noted = new Set<string>();

/** -v: once per host and run, the ssh config keywords (and ssh arguments) that apply to it but are not acted on. */
function noteIgnored(host: string, cfg: HostConfig, args: SshArgs, opts: ConnectOptions): void {
  if (!opts.note || noted.has(host)) return;
  noted.add(host);
  const byFile = new Map<string, string[]>();
  for (const [k, file] of cfg.ignored) byFile.set(file, [...(byFile.get(file) ?? []), k]);
  for (const [file, keys] of byFile)
    opts.note(
      host,
      `ssh config: ignored ${keys.join(', ')} (${file.replace(homedir(), '~')}; relay-play honours only the keywords in its docs/inventory.md)`,
    );
  const honoured = new Set(HONOURED.map((k) => k.toLowerCase()));
  const ignored = [...args.ignored, ...[...args.options.keys()].filter((k) => !honoured.has(k)).map((k) => `-o ${k}`)];
  if (ignored.length)
    opts.note(
      host,
      `ansible_ssh_common_args/extra_args: ignored ${ignored.join(' ')} (relay-play acts on -J, -i, -p, -l and -o with the keywords of its docs/inventory.md)`,
    );
}

/** The address `host` is reached at and where it comes from (ssh config HostName, ansible_host, its name). */
export function sshAddress(host: string, vars: Vars): { address: string; from: AddressFrom } {
  const name = String(vars.ansible_host ?? host);
  const hostName =
    parseSshArgs(vars.ansible_ssh_common_args, vars.ansible_ssh_extra_args).options.get('hostname') ??
    sshConfigFor(name).values.HostName?.join(' ');
  if (hostName)
    return {
      address: expandTokens(hostName, { original: name, host: name, user: '', port: 22, home: homedir() }),
      from: 'ssh config',
    };
  return { address: name, from: vars.ansible_host !== undefined ? 'ansible_host' : 'inventory name' };
}

/** Whether the host has an address of its own (ansible_host, a HostName) or jump hosts, not only its inventory name. */
export function hasDirectPath(t: ResolvedTarget): boolean {
  return t.addressFrom !== 'inventory name' || Boolean(t.jumps?.length);
}

export async function openConnection(host: string, vars: Vars, opts: ConnectOptions): Promise<Connection> {
  if (vars.ansible_connection === 'local') return new LocalConnection(host);
  return openVia(sshTarget(host, vars, opts));
}
