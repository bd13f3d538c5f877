// setup: the common ansible_* facts of a host, in one read (what `gather_facts: true` runs first).
// A subset of Ansible's: names, OS, kernel, CPU count, memory, addresses, the user, package and
// service managers. Never changes anything.
import { shFile } from '../util/sh-file.js';
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
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const [k, v] = [line.slice(0, i), line.slice(i + 1)];
    if (k === 'addr') {
      const [iface, address] = v.split('|');
      addrs.push({ iface, address });
    } else kv[k] = v;
  }
  const id = kv.os_id ?? '';
  const version = kv.os_version ?? '';
  const v4 = addrs.filter((a) => !a.address.startsWith('127.'));
  const dflt = v4.find((a) => a.iface === kv.default_if);
  return {
    hostname: kv.hostname,
    fqdn: kv.fqdn,
    nodename: kv.nodename,
    distribution: DISTRIBUTION[id] ?? (id ? id.charAt(0).toUpperCase() + id.slice(1) : 'Unknown'),
    distribution_version: version,
    distribution_major_version: version.split('.')[0] || 'NA',
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
    all_ipv4_addresses: v4.map((a) => a.address),
    default_ipv4: dflt ? { address: dflt.address, interface: dflt.iface } : {},
    date_time: { epoch: kv.epoch },
    pkg_mgr: kv.pkg_mgr ?? 'unknown',
    service_mgr: kv.service_mgr ?? 'unknown',
  };
}

export const FACT_NAMES = Object.keys(parseFacts('')).map((k) => `ansible_${k}`);

export const setup: Module<{ gather_subset?: unknown; filter?: unknown; gather_timeout?: number }, 'facts'> = {
  refused: {
    fact_path: 'not yet supported',
  },
  schema: {
    type: 'object',
    properties: { gather_subset: {}, filter: {}, gather_timeout: { type: 'integer' } },
    additionalProperties: false,
  },
  providesFacts: ['ansible_facts', ...FACT_NAMES],

  reads: () => ({ facts: { command: SCRIPT() } }),

  plan(_args, ctx, read): Plan {
    const r = read.facts;
    if (r.code !== 0)
      return { changed: false, steps: [], failed: `cannot gather facts: ${r.stderr.trim() || `exit ${r.code}`}` };
    const facts = parseFacts(r.stdout);
    // As Ansible (inject_facts_as_vars): under ansible_facts, and as ansible_<name> variables.
    const vars = {
      ansible_facts: facts,
      ...Object.fromEntries(Object.entries(facts).map(([k, v]) => [`ansible_${k}`, v])),
    };
    return {
      changed: false,
      steps: [],
      facts: { [ctx.host]: vars },
      factsFound: true,
      result: { ansible_facts: facts },
    };
  },
};
