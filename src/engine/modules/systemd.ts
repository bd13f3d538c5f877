// systemd: a unit's state, enablement and masking. One read (`systemctl show`), then only the steps
// for what differs, in systemd's order: daemon-reload, (un)mask, enable/disable, start/stop/...
import { shellJoin, shScript } from '../util/quote.js';
import type { Module, Plan, Step } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { fieldsDiff } from './lib/state-diff.js';

interface SystemdArgs {
  name?: string;
  service?: string;
  unit?: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: BoolArg;
  daemon_reload?: BoolArg;
  'daemon-reload'?: BoolArg;
  masked?: BoolArg;
  no_block?: BoolArg;
  force?: BoolArg;
}

/** `systemctl show` for one unit, every property (Ansible's `status`; the name is quoted and after `--`). */
export const showCommand = (name: string) => shellJoin(['systemctl', 'show', '--', name]);

/**
 * `systemctl show`'s properties as Ansible's parse_systemctl_show reads them: `Exec*` values in braces
 * may span lines; every other value is one line, trimmed.
 */
export function parseShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  let key: string | undefined;
  let multi: string[] = [];
  for (const line of stdout.split('\n')) {
    if (key === undefined) {
      const i = line.indexOf('=');
      if (i < 0) continue;
      const [k, v] = [line.slice(0, i), line.slice(i + 1)];
      if (k.startsWith('Exec') && v.trimStart().startsWith('{') && !v.trimEnd().endsWith('}')) {
        key = k;
        multi = [v];
        continue;
      }
      out[k] = v.trim();
    } else {
      multi.push(line);
      if (line.trimEnd().endsWith('}')) {
        out[key] = multi.join('\n').trim();
        key = undefined;
      }
    }
  }
  return out;
}

// As Ansible's is_running_service.
const RUNNING = new Set(['active', 'activating']);
// `systemctl is-enabled` succeeds for these; Ansible counts `indirect` and `alias` as disabled.
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'generated', 'transient']);

const unitArg = { type: 'string', minLength: 1, pattern: '^[^\\s/]+$' };

/** The unit's name under any of Ansible's aliases. */
const unitName = (a: SystemdArgs) => a.name ?? a.service ?? a.unit;

const systemctl = (verb: string, name: string, ...flags: string[]): Step => ({
  describe: ['systemctl', ...flags, verb, name].join(' '),
  command: shellJoin(['systemctl', ...flags, verb, '--', name]),
});

// A daemon-reload costs systemd about 0.1 s of CPU on a small host, and systemctl enable/disable do
// one each unless told not to. They only add or remove [Install] symlinks: a unit systemd has not
// loaded is read from disk when it is next asked about, so for it --no-reload. One it has loaded (a
// running service, say) keeps the UnitFileState it was loaded with until a reload — after
// `enable --no-reload` it still says "disabled" (seen on Debian 12), and every run would enable it
// again: enable/disable with their own reload. That reload, like mask's and unmask's (the loaded
// unit's masked state changes), makes a separate daemon-reload redundant.
const enableStep = (verb: 'enable' | 'disable', name: string, flags: string[]) =>
  systemctl(verb, name, ...flags, '--no-reload');
// systemd 257 (Debian 13) flags the unit NeedDaemonReload after that (252 does not), so a task with
// daemon_reload would spend the next run's round trip on a reload. With daemon_reload, reload in the
// same step, only when systemd asks for it.
const enableStepReloading = (verb: 'enable' | 'disable', name: string, flags: string[]): Step => ({
  describe: `systemctl ${[...flags, verb].join(' ')} --no-reload ${name} (and daemon-reload if systemd then asks for one)`,
  command: shScript(
    `systemctl ${[...flags, verb].join(' ')} --no-reload -- "$1" && if [ "$(systemctl show -p NeedDaemonReload --value -- "$1")" = yes ]; then systemctl daemon-reload; fi`,
    [name],
  ),
});
const reloadsItself = (s: Step) => /^systemctl (--\S+ )*(mask|unmask|enable|disable) [^-]/.test(s.describe);
const oneReload = (steps: Step[], daemonReload: Step) =>
  steps.some(reloadsItself) ? steps.filter((s) => s !== daemonReload) : steps;

export const systemd: Module<SystemdArgs, 'unit'> = {
  refused: {
    daemon_reexec: 'not yet supported',
    'daemon-reexec': 'not yet supported',
    scope: 'not yet: system units only',
    // service's own arguments, which Ansible's service ignores (with a warning) on a systemd host.
    ...Object.fromEntries(
      ['arguments', 'args', 'pattern', 'runlevel', 'sleep'].map((k) => [
        k,
        'not used with systemd (Ansible ignores it)',
      ]),
    ),
    use: 'the service manager is always systemd',
  },
  schema: {
    type: 'object',
    properties: {
      name: unitArg,
      service: unitArg,
      unit: unitArg,
      state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: boolArg,
      daemon_reload: boolArg,
      'daemon-reload': boolArg,
      masked: boolArg,
      no_block: boolArg,
      force: boolArg,
    },
    anyOf: [
      { required: ['name'] },
      { required: ['service'] },
      { required: ['unit'] },
      { required: ['daemon_reload'] },
      { required: ['daemon-reload'] },
    ],
    not: {
      anyOf: [
        { required: ['name', 'service'] },
        { required: ['name', 'unit'] },
        { required: ['service', 'unit'] },
        { required: ['daemon_reload', 'daemon-reload'] },
      ],
    },
    additionalProperties: false,
  },

  // daemon_reload alone reads nothing.
  reads: (args) => {
    const name = unitName(args);
    return name ? { unit: { command: showCommand(name) } } : {};
  },

  plan(args, ctx, read): Plan {
    const reload = toBool(args['daemon-reload'] ?? args.daemon_reload, false);
    const enabled = toBool(args.enabled);
    const masked = toBool(args.masked);
    // As Ansible's, on every systemctl that changes something.
    const flags = [
      ...(toBool(args.no_block, false) ? ['--no-block'] : []),
      ...(toBool(args.force, false) ? ['--force'] : []),
    ];
    const steps: Step[] = [];
    const daemonReload: Step = {
      describe: 'systemctl daemon-reload',
      command: shellJoin(['systemctl', ...flags, 'daemon-reload']),
    };
    const name = unitName(args);
    const { state } = args;
    const enabling = (verb: 'enable' | 'disable') => (reload ? enableStepReloading : enableStep)(verb, name!, flags);
    // daemon_reload alone: a step, but not a change (as Ansible).
    if (!name) return { changed: false, steps: reload ? [daemonReload] : [], result: { name: null, status: {} } };
    if (/[*?[]/.test(name))
      return {
        changed: false,
        steps: [],
        failed: `This module does not currently support using glob patterns, found '${name.match(/[*?[]/)![0]}' in service name: ${name}`,
      };

    const r = read.unit;
    if (r.code !== 0) throw new Error(`systemctl show ${name} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    const status = parseShow(r.stdout);
    const active = status.ActiveState ?? '';
    const fileState = status.UnitFileState ?? '';
    // Ansible's result: `state` restarted or reloaded is reported as started.
    const result: Record<string, unknown> = {
      name,
      status,
      ...(enabled !== undefined ? { enabled } : {}),
      ...(state ? { state: state === 'stopped' ? state : 'started' } : {}),
    };
    const missing = `Could not find the requested service ${name}: host`;

    if (status.LoadState === 'not-found' && (state !== undefined || enabled !== undefined)) {
      if (reload) {
        // The unit file is probably new. systemd loads a unit it could not find before when it is
        // next started (it notices the new file), so no daemon-reload. A unit still missing fails at
        // its step.
        if (masked === false) steps.push(systemctl('unmask', name, ...flags));
        if (enabled === true) steps.push(enabling('enable'));
        if (state === 'started') steps.push(systemctl('start', name, ...flags));
        if (state === 'restarted') steps.push(systemctl('restart', name, ...flags));
        if (state === 'reloaded') steps.push(systemctl('reload-or-restart', name, ...flags));
        return {
          changed: steps.length > 0,
          steps,
          result,
          msg: ctx.check ? `unit ${name} is not loaded yet; it is expected to appear when it is started` : undefined,
        };
      }
      return { changed: false, steps: [], failed: missing };
    }
    if (
      status.LoadState !== 'not-found' &&
      status.LoadState !== 'masked' &&
      status.LoadError !== undefined &&
      status.LoadError !== ''
    )
      return { changed: false, steps: [], failed: `Error loading unit file '${name}': ${status.LoadError}` };

    // Reloading every unit on every run is slow and pointless: only when systemd says this unit's
    // files changed on disk, or it could not load it.
    if (reload && (status.NeedDaemonReload !== 'no' || status.LoadState !== 'loaded')) steps.push(daemonReload);
    const before: Record<string, string> = {};
    const after: Record<string, string> = {};
    // As Ansible: masked is what `systemctl is-enabled` says.
    const isMasked = fileState === 'masked';
    if (masked !== undefined && masked !== isMasked) {
      // Ansible's module ignores a refused (un)mask of a unit it found (a unit file in /etc cannot be
      // masked): changed, and not masked.
      const step = systemctl(masked ? 'mask' : 'unmask', name, ...flags);
      steps.push({ ...step, command: `${step.command} || :` });
      before.masked = String(isMasked);
      after.masked = String(masked);
    }
    if (enabled !== undefined) {
      const isEnabled = ENABLED.has(fileState);
      if (enabled !== isEnabled) {
        // With its own daemon-reload: a loaded unit reports its new UnitFileState only after one.
        steps.push(systemctl(enabled ? 'enable' : 'disable', name, ...flags));
        before.enabled = String(isEnabled);
        after.enabled = String(enabled);
      }
    }
    const running = RUNNING.has(active);
    let verb: string | undefined;
    if (state === 'started' && !running) verb = 'start';
    if (state === 'stopped' && (running || active === 'deactivating')) verb = 'stop';
    if (state === 'restarted') verb = running ? 'restart' : 'start';
    if (state === 'reloaded') verb = running ? 'reload' : 'start';
    if (verb) {
      steps.push(systemctl(verb, name, ...flags));
      before.state = active;
      after.state = verb === 'stop' ? 'inactive' : verb === 'start' ? 'active' : `${verb}ed (${active})`;
    }
    // A daemon-reload alone is not a change (as Ansible); it is only planned when systemd needs it.
    const changed = steps.some((s) => s !== daemonReload);
    const d = fieldsDiff(`unit ${name}`, before, after);
    return { changed, steps: oneReload(steps, daemonReload), diff: d ? [d] : [], result };
  },
};
