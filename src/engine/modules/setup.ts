// setup: the common ansible_* facts of a host, in one read (what `gather_facts: true` runs first).
// A subset of Ansible's: names, OS, kernel, CPU count, memory, addresses, the user, package and
// service managers. Never changes anything.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { fnmatch } from './find.js';
import type { Module, Plan } from './types.js';

const SCRIPT = () => shFile('engine/modules/setup.sh');

const FAMILY: Record<string, string> = {
  debian: 'Debian',
  ubuntu: 'Debian',
  raspbian: 'Debian',
  fedora: 'RedHat',
  rhel: 'RedHat',
  centos: 'RedHat',
  arch: 'Archlinux',
  alpine: 'Alpine',
  nixos: 'NixOS',
};
const DISTRIBUTION: Record<string, string> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  raspbian: 'Debian',
  fedora: 'Fedora',
  rhel: 'RedHat',
  centos: 'CentOS',
  arch: 'Archlinux',
  alpine: 'Alpine',
  nixos: 'NixOS',
};

/** The facts, without the `ansible_` prefix (as under `ansible_facts`). */
export function parseFacts(stdout: string): Record<string, unknown> {
  const kv: Record<string, string> = {};
  const addrs: { iface: string; address: string }[] = [];
  const local: Record<string, unknown> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const [k, v] = [line.slice(0, i), line.slice(i + 1)];
    if (k === 'local') {
      const [kind, file, out] = v.split('|');
      const name = Buffer.from(file, 'base64').toString('utf8');
      local[name.replace('.fact', '')] = localFact(kind, name, Buffer.from(out, 'base64').toString('utf8'));
    } else if (k === 'addr') {
      const [iface, address] = v.split('|');
      addrs.push({ iface, address });
    } else kv[k] = v;
  }
  const id = kv.os_id ?? '';
  const version = kv.os_version ?? '';
  // Debian's point release is in /etc/debian_version (os-release has the major only), as Ansible reads it.
  const minor = /^\d+\.(\d+)$/.exec(kv.debian_version ?? '')?.[1] ?? 'NA';
  const v4 = addrs.filter((a) => !a.address.startsWith('127.'));
  const dflt = v4.find((a) => a.iface === kv.default_if);
  return {
    hostname: kv.hostname,
    fqdn: kv.fqdn,
    nodename: kv.nodename,
    distribution: DISTRIBUTION[id] ?? (id ? id.charAt(0).toUpperCase() + id.slice(1) : 'Unknown'),
    distribution_version: version,
    distribution_major_version: version.split('.')[0] || 'NA',
    ...(id === 'debian'
      ? {
          distribution_minor_version: minor,
          distribution_file_parsed: true,
          distribution_file_path: '/etc/os-release',
          distribution_file_variety: 'Debian',
        }
      : {}),
    distribution_release: kv.os_codename ?? '',
    os_family: FAMILY[id] ?? FAMILY[(kv.os_like ?? '').split(' ')[0]] ?? kv.system ?? 'Unknown',
    kernel: kv.kernel,
    architecture: kv.arch,
    system: kv.system,
    processor_vcpus: Number(kv.vcpus) || 1,
    memtotal_mb: Math.floor(Number(kv.memtotal_kb || 0) / 1024),
    user_id: kv.user_id,
    user_uid: Number(kv.user_uid),
    user_gid: Number(kv.user_gid),
    user_dir: kv.user_dir,
    user_shell: kv.user_shell,
    user_gecos: kv.user_gecos,
    all_ipv4_addresses: v4.map((a) => a.address),
    default_ipv4: dflt ? { address: dflt.address, interface: dflt.iface } : {},
    date_time: { epoch: kv.epoch },
    pkg_mgr: kv.pkg_mgr ?? 'unknown',
    service_mgr: kv.service_mgr ?? 'unknown',
    local,
  };
}

/** One local fact file's value, as Ansible's local facts collector makes it: JSON, else INI, else a message. */
function localFact(kind: string, file: string, out: string): unknown {
  const m = /\nrc=(\d+)$/.exec(out);
  const text = m ? out.slice(0, m.index) : out;
  const path = `${DEFAULT_FACT_PATH}/${file}`;
  if (kind === 'exec' && m && m[1] !== '0') return `Failure executing fact script (${path}), rc: ${m[1]}, err: `;
  try {
    return JSON.parse(text);
  } catch {
    return ini(text) ?? `error loading facts as JSON or ini - please check content: ${path}`;
  }
}

/** Python's ConfigParser's reading of simple INI text (sections of `key = value`, keys lower-cased). */
function ini(text: string): Record<string, Record<string, string>> | undefined {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = out[s[1]] ??= {};
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv || !section) return undefined;
    section[kv[1].toLowerCase()] = kv[2];
  }
  return out;
}

const DEFAULT_FACT_PATH = '/etc/ansible/facts.d';

/** A list argument as Ansible takes it: a list, or a comma-separated string. */
const listArg = (v: unknown, dflt: string[]): string[] =>
  v === undefined || v === null
    ? dflt
    : (Array.isArray(v) ? v.map(String) : String(v).split(',')).map((x) => x.trim()).filter(Boolean);

// relay-play's facts of Ansible's `hardware` and `network` subsets (the rest are in `min`).
const NOT_MIN = new Set(['processor_vcpus', 'memtotal_mb', 'all_ipv4_addresses', 'default_ipv4']);

export const FACT_NAMES = Object.keys(parseFacts('')).map((k) => `ansible_${k}`);

interface SetupArgs {
  gather_subset?: unknown;
  filter?: unknown;
  gather_timeout?: number;
  fact_path?: string;
}

export const setup: Module<SetupArgs, 'facts'> = {
  schema: {
    type: 'object',
    properties: {
      gather_subset: {},
      filter: {},
      gather_timeout: { type: 'integer' },
      fact_path: { type: 'string', minLength: 1 },
    },
    additionalProperties: false,
  },
  providesFacts: ['ansible_facts', ...FACT_NAMES],

  reads: (args) => ({ facts: { command: shScript(SCRIPT(), [args.fact_path ?? DEFAULT_FACT_PATH]) } }),

  plan(args, ctx, read): Plan {
    const r = read.facts;
    if (r.code !== 0)
      return { changed: false, steps: [], failed: `cannot gather facts: ${r.stderr.trim() || `exit ${r.code}`}` };
    const subset = listArg(args.gather_subset, ['all']);
    const filter = listArg(args.filter, []);
    const all = !subset.includes('!all') || subset.includes('all');
    const min = all || !subset.includes('!min');
    const gathered = Object.entries(parseFacts(r.stdout)).filter(([k]) => (NOT_MIN.has(k) ? all : min));
    // Ansible's module reports facts ansible_-prefixed, with the subset asked for; filter applies to all of it.
    const reported: [string, unknown][] = [
      ...gathered.map(([k, v]): [string, unknown] => [`ansible_${k}`, v]),
      ['gather_subset', subset],
      ['module_setup', true],
    ];
    const kept = filter.length ? reported.filter(([k]) => filter.some((p) => fnmatch(k, p))) : reported;
    // Under ansible_facts without the prefix, but ansible_local (Ansible's namespace_facts).
    const facts = Object.fromEntries(kept.map(([k, v]) => [k === 'ansible_local' ? k : k.replace(/^ansible_/, ''), v]));
    // As Ansible (inject_facts_as_vars): under ansible_facts, and as ansible_<name> variables.
    const vars = {
      ansible_facts: facts,
      ...Object.fromEntries(kept.filter(([k]) => k.startsWith('ansible_'))),
    };
    return {
      changed: false,
      steps: [],
      facts: { [ctx.host]: vars },
      factsFound: true,
      result: { ansible_facts: Object.fromEntries(kept) },
    };
  },
};
