// hostname: the host's name, as Ansible's sets it on Linux: with systemd running, hostnamectl's static
// (and pretty) name, then the transient one; without, /etc/hostname. One read (the names and the FQDN),
// one step. Returns `name`, the facts ansible_hostname, ansible_nodename, ansible_fqdn, ansible_domain
// (set on the host too), and, when it changes, Ansible's `diff` ("hostname = NAME").
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import { readOutput, type Module, type Plan } from './types.js';

interface HostnameArgs {
  name: string;
  use?: string;
}

const SCRIPT = () => shFile('engine/modules/hostname.sh');

const fields = (out: string) =>
  Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

const facts = (name: string, fqdn: string) => ({
  ansible_hostname: name.split('.')[0],
  ansible_nodename: name,
  ansible_fqdn: fqdn,
  ansible_domain: fqdn.split('.').slice(1).join('.'),
});

export const hostname: Module<HostnameArgs, 'names'> = {
  refused: {
    ...Object.fromEntries(
      [
        'alpine',
        'freebsd',
        'generic',
        'macos',
        'macosx',
        'darwin',
        'openbsd',
        'openrc',
        'redhat',
        'sles',
        'solaris',
      ].map((s) => [`use=${s}`, 'the strategies of Linux with systemd only (systemd, debian)']),
    ),
  },
  providesFacts: ['ansible_hostname', 'ansible_nodename', 'ansible_fqdn', 'ansible_domain'],
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      // Ansible's strategies for Linux hosts with systemd (debian is systemd there too).
      use: { enum: ['systemd', 'debian'] },
    },
    required: ['name'],
    additionalProperties: false,
  },

  reads: () => ({ names: { command: shScript(SCRIPT(), ['', '', '']) } }),

  plan(args, ctx, read): Plan {
    const name = args.name;
    const had = fields(readOutput(read.names, 'the host name'));
    if (args.use !== undefined && had.how !== 'systemd')
      return { changed: false, steps: [], failed: `use: ${args.use} needs systemd running on the host`, result: {} };
    if (had.how === 'systemd' && name.length > 64)
      return {
        changed: false,
        steps: [],
        failed: 'name cannot be longer than 64 characters on systemd servers, try a shorter name',
        result: {},
      };
    // Without systemd, Debian's strategy reads the current name from /etc/hostname too.
    const current = had.current !== name;
    const permanent = had.permanent !== name;
    const changed = current || permanent;
    const before = name !== had.current ? had.current : had.permanent;
    const result: Record<string, unknown> = { name, ansible_facts: facts(name, had.fqdn) };
    if (changed) result.diff = { after: `hostname = ${name}\n`, before: `hostname = ${before}\n` };
    const diff = changed
      ? [{ before_header: 'hostname', after_header: 'hostname', before: `${before}\n`, after: `${name}\n` }]
      : [];
    if (!changed || ctx.check)
      return { changed, steps: [], diff, result, facts: { [ctx.host]: facts(name, had.fqdn) }, factsFound: true };
    return {
      changed: true,
      steps: [
        {
          describe: `set the host name to ${name}`,
          command: shScript(SCRIPT(), [name, current ? 'current' : '', permanent ? 'permanent' : '']),
        },
      ],
      diff,
      result,
      finish(outputs: RunResult[]) {
        const fqdn = fields(outputs[0]?.stdout ?? '').fqdn ?? had.fqdn;
        return { ansible_facts: facts(name, fqdn) };
      },
      facts: { [ctx.host]: facts(name, had.fqdn) },
      factsFound: true,
    };
  },
};
