// apt (and package, its alias on Debian): Debian packages present, absent or at the newest version,
// and a local .deb installed (`deb:`, a path on the host). One read (dpkg's status of every package,
// apt's candidate where it matters, the .deb's name and version, the cache's age); then one apt-get
// per kind of change. Nothing changes in check mode; --diff lists the versions before and after.
import { shFile } from '../util/sh-file.js';
import { shellJoin, shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import { readOutput, type Module, type Plan, type Step } from './types.js';
import { boolArg, type BoolArg, aliasRefused } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { fieldsDiff } from './lib/state-diff.js';

interface AptArgs {
  name?: string | string[];
  pkg?: string | string[];
  package?: string | string[];
  state?: 'present' | 'absent' | 'latest';
  update_cache?: BoolArg;
  cache_valid_time?: number;
  deb?: string;
  purge?: BoolArg;
  install_recommends?: BoolArg;
  autoremove?: BoolArg;
  force_apt_get?: BoolArg;
  dpkg_options?: string;
}

const names = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'string', minLength: 1 } },
  ],
};

// $1 state, $2 .deb path or "", then package names (name or name=version). For each package: its
// dpkg status and version, and apt's candidate version when it may be needed (not installed, or
// state latest). `cache <mtime of the package cache> <now>` for cache_valid_time.
const READ = () => shFile('engine/modules/apt.sh');

interface PkgFacts {
  installed?: string;
  candidate?: string;
}

type Deb = { name: string; version: string; installed?: string };

function parse(stdout: string): { cacheAge: number; deb?: Deb | 'missing'; pkgs: Map<string, PkgFacts> } {
  let cacheAge = Infinity;
  let deb: Deb | 'missing' | undefined;
  const pkgs = new Map<string, PkgFacts>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith('cache ')) {
      const [, mtime, now] = line.split(' ').map(Number);
      if (mtime > 0) cacheAge = now - mtime;
    } else if (line === 'deb-missing') deb = 'missing';
    else if (line.startsWith('deb|')) {
      const [, name, version, status, installed] = line.split('|');
      deb = { name, version, installed: /^[ih]i/.test(status ?? '') ? installed : undefined };
    } else if (line.startsWith('pkg|')) {
      const [, name, status, version, candidate] = line.split('|');
      const installed = /^[ih]i/.test(status) ? version : undefined;
      pkgs.set(name, { installed, candidate: candidate && candidate !== '(none)' ? candidate : undefined });
    }
  }
  return { cacheAge, deb, pkgs };
}

// As Ansible's module runs apt-get and dpkg: in the C locale, never asking.
const ENV = [
  'env',
  'DEBIAN_FRONTEND=noninteractive',
  'DEBIAN_PRIORITY=critical',
  'LANG=C',
  'LC_ALL=C',
  'LC_MESSAGES=C',
  'LC_CTYPE=C',
];

/** dpkg's options (`dpkg_options`: comma-separated, without their `--`), Ansible's default. */
const dpkgOptions = (a: AptArgs) =>
  String(a.dpkg_options ?? 'force-confdef,force-confold')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);

const aptGet = (verb: string, flags: string[], targets: string[], describe: string, dpkg: string[]): Step => ({
  describe,
  command: shellJoin([
    ...ENV,
    'apt-get',
    verb,
    '-y',
    '-q',
    ...dpkg.flatMap((o) => ['-o', `Dpkg::Options::=--${o}`]),
    ...flags,
    '--',
    ...targets,
  ]),
});

/** The packages asked for, and the state wanted of them. */
function request(args: AptArgs): { wanted: string[]; state: string } {
  const list = args.name ?? args.pkg ?? args.package;
  const wanted = (list === undefined ? [] : Array.isArray(list) ? list : String(list).split(','))
    .map((n) => n.trim())
    .filter(Boolean);
  return { wanted, state: args.state ?? 'present' };
}

export const apt: Module<AptArgs, 'packages'> = {
  refused: {
    ...Object.fromEntries(
      [
        'allow_change_held_packages',
        'allow_downgrade',
        'allow-downgrade',
        'allow_downgrades',
        'allow-downgrades',
        'allow_unauthenticated',
        'allow-unauthenticated',
        'autoclean',
        'clean',
        'default_release',
        'default-release',
        'fail_on_autoremove',
        'force',
        'lock_timeout',
        'only_upgrade',
        'policy_rc_d',
        'update_cache_retries',
        'update_cache_retry_max_delay',
        'upgrade',
      ].map((k) => [k, 'not yet supported']),
    ),
    'install-recommends': aliasRefused('install_recommends'),
    'update-cache': aliasRefused('update_cache'),
    use: 'the package manager is always apt',
    'state=build-dep': 'not yet supported',
    'state=fixed': 'not yet supported',
  },
  schema: {
    type: 'object',
    properties: {
      name: names,
      pkg: names,
      package: names,
      state: { enum: ['present', 'absent', 'latest'] },
      update_cache: boolArg,
      cache_valid_time: { type: 'integer', minimum: 0 },
      deb: { type: 'string', minLength: 1 },
      purge: boolArg,
      install_recommends: boolArg,
      autoremove: boolArg,
      force_apt_get: boolArg,
      dpkg_options: { type: 'string' },
    },
    not: {
      anyOf: [{ required: ['name', 'pkg'] }, { required: ['name', 'package'] }, { required: ['pkg', 'package'] }],
    },
    anyOf: [
      { required: ['name'] },
      { required: ['pkg'] },
      { required: ['package'] },
      { required: ['deb'] },
      { required: ['update_cache'] },
    ],
    additionalProperties: false,
  },

  reads(args) {
    const { wanted, state } = request(args);
    return { packages: { command: shScript(READ(), [state, args.deb ?? '', ...wanted]) } };
  },

  plan(args, _ctx, read): Plan {
    const { wanted, state } = request(args);
    if (args.deb !== undefined && !args.deb.startsWith('/'))
      return { changed: false, steps: [], failed: `deb must be an absolute path on the host, got "${args.deb}"` };
    const facts = parse(readOutput(read.packages, 'the package state'));
    const steps: Step[] = [];
    const before: Record<string, string> = {};
    const after: Record<string, string> = {};

    const refresh =
      toBool(args.update_cache, false) &&
      !(args.cache_valid_time !== undefined && facts.cacheAge < args.cache_valid_time);
    const update: Step = {
      describe: 'apt-get update',
      command: shellJoin(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q']),
    };
    if (refresh) steps.push(update);

    const recommends =
      args.install_recommends === undefined
        ? []
        : [toBool(args.install_recommends) ? '--install-recommends' : '--no-install-recommends'];
    if (args.deb !== undefined) {
      if (facts.deb === 'missing' || !facts.deb)
        return { changed: false, steps: [], failed: `deb file not found on the host: ${args.deb}` };
      const current = facts.deb.installed;
      if (current !== facts.deb.version) {
        steps.push(aptGet('install', recommends, [args.deb], `apt-get install ${args.deb}`, dpkgOptions(args)));
        before[facts.deb.name] = current ?? '(absent)';
        after[facts.deb.name] = facts.deb.version;
      }
    }
    const missing: string[] = [];
    const install: string[] = [];
    const remove: string[] = [];
    for (const spec of wanted) {
      const [name, version] = spec.split('=');
      const f = facts.pkgs.get(name) ?? {};
      if (state === 'absent') {
        if (f.installed) {
          remove.push(name);
          before[name] = f.installed;
          after[name] = '(absent)';
        }
        continue;
      }
      const target = version ?? (state === 'latest' ? f.candidate : undefined);
      const needs = !f.installed || (target !== undefined && !f.installed.startsWith(target) && f.installed !== target);
      if (!needs) continue;
      if (!f.candidate && !refresh) {
        missing.push(name);
        continue;
      }
      install.push(spec);
      before[name] = f.installed ?? '(absent)';
      after[name] = target ?? f.candidate ?? '(newest)';
    }
    if (missing.length)
      return { changed: false, steps: [], failed: `No package matching '${missing.join("', '")}' is available` };
    const dpkg = dpkgOptions(args);
    if (install.length)
      steps.push(aptGet('install', recommends, install, `apt-get install ${install.join(' ')}`, dpkg));
    if (remove.length)
      steps.push(
        aptGet(
          toBool(args.purge, false) ? 'purge' : 'remove',
          toBool(args.autoremove, false) ? ['--auto-remove'] : [],
          remove,
          `apt-get remove ${remove.join(' ')}`,
          dpkg,
        ),
      );

    const changed = steps.some((s) => s !== update) || refresh;
    const d = fieldsDiff('packages', before, after);
    const result: Record<string, unknown> = { cache_updated: false };
    return {
      changed,
      steps,
      diff: d ? [d] : [],
      result,
      finish(outputs: RunResult[]) {
        const out = outputs[outputs.length - 1];
        return {
          cache_updated: refresh,
          ...(refresh ? { cache_update_time: Math.floor(Date.now() / 1000) } : {}),
          stdout: out?.stdout ?? '',
          stderr: out?.stderr ?? '',
        };
      },
    };
  },
};
