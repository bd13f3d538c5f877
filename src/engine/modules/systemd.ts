// systemd: a unit's state, enablement and masking. One read (`systemctl show`), then only the steps
// for what differs, in systemd's order: daemon-reload, (un)mask, enable/disable, start/stop/...
import { shellJoin, shScript } from '../util/quote.js';
import type { Module, Plan, Step } from './types.js';
import { boolArg, type BoolArg, aliasRefused } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { fieldsDiff } from './lib/state-diff.js';

interface SystemdArgs {
  name?: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: BoolArg;
  daemon_reload?: BoolArg;
  masked?: BoolArg;
}

const PROPS = 'ActiveState,UnitFileState,LoadState,NeedDaemonReload';

/** `systemctl show` for one unit (the name is quoted and after `--`). */
export const showCommand = (name: string) => shellJoin(['systemctl', 'show', '-p', PROPS, '--', name]);

export function parseShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const RUNNING = new Set(['active', 'activating', 'reloading']);
// `systemctl is-enabled` succeeds for these.
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'transient']);
// What `systemctl disable` can turn off.
const DISABLEABLE = new Set(['enabled', 'enabled-runtime', 'alias', 'linked', 'linked-runtime']);

const systemctl = (verb: string, name: string, ...flags: string[]): Step => ({
  describe: ['systemctl', verb, ...flags, name].join(' '),
  command: shellJoin(['systemctl', verb, ...flags, '--', name]),
});

// A daemon-reload costs systemd about 0.1 s of CPU on a small host, and systemctl enable/disable do
// one each unless told not to. They only add or remove [Install] symlinks: a unit systemd has not
// loaded is read from disk when it is next asked about, so for it --no-reload. One it has loaded (a
// running service, say) keeps the UnitFileState it was loaded with until a reload — after
// `enable --no-reload` it still says "disabled" (seen on Debian 12), and every run would enable it
// again: enable/disable with their own reload. That reload, like mask's and unmask's (the loaded
// unit's masked state changes), makes a separate daemon-reload redundant.
const enableStep = (verb: 'enable' | 'disable', name: string) => systemctl(verb, name, '--no-reload');
// systemd 257 (Debian 13) flags the unit NeedDaemonReload after that (252 does not), so a task with
// daemon_reload would spend the next run's round trip on a reload. With daemon_reload, reload in the
// same step, only when systemd asks for it.
const enableStepReloading = (verb: 'enable' | 'disable', name: string): Step => ({
  describe: `systemctl ${verb} --no-reload ${name} (and daemon-reload if systemd then asks for one)`,
  command: shScript(
    `systemctl ${verb} --no-reload -- "$1" && if [ "$(systemctl show -p NeedDaemonReload --value -- "$1")" = yes ]; then systemctl daemon-reload; fi`,
    [name],
  ),
});
const reloadsItself = (s: Step) => /^systemctl (mask|unmask|enable|disable) [^-]/.test(s.describe);
const oneReload = (steps: Step[], daemonReload: Step) =>
  steps.some(reloadsItself) ? steps.filter((s) => s !== daemonReload) : steps;

export const systemd: Module<SystemdArgs, 'unit'> = {
  refused: {
    daemon_reexec: 'not yet supported',
    'daemon-reexec': 'not yet supported',
    'daemon-reload': aliasRefused('daemon_reload'),
    service: aliasRefused('name'),
    unit: aliasRefused('name'),
    force: 'not yet supported',
    no_block: 'not yet supported',
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
      name: { type: 'string', minLength: 1, pattern: '^[^\\s/]+$' },
      state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: boolArg,
      daemon_reload: boolArg,
      masked: boolArg,
    },
    anyOf: [{ required: ['name'] }, { required: ['daemon_reload'] }],
    additionalProperties: false,
  },

  // daemon_reload alone reads nothing.
  reads: (args) => (args.name ? { unit: { command: showCommand(args.name) } } : {}),

  plan(args, ctx, read): Plan {
    const reload = toBool(args.daemon_reload, false);
    const enabled = toBool(args.enabled);
    const masked = toBool(args.masked);
    const steps: Step[] = [];
    const daemonReload: Step = {
      describe: 'systemctl daemon-reload',
      command: shellJoin(['systemctl', 'daemon-reload']),
    };
    const { name, state } = args;
    const enabling = reload ? enableStepReloading : enableStep;
    // daemon_reload alone: a step, but not a change (as Ansible).
    if (!name) return { changed: false, steps: reload ? [daemonReload] : [], result: {} };

    const r = read.unit;
    if (r.code !== 0) throw new Error(`systemctl show ${name} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    const status = parseShow(r.stdout);
    const active = status.ActiveState ?? '';
    const fileState = status.UnitFileState ?? '';
    const result: Record<string, unknown> = {
      name,
      status,
      ...(state ? { state } : {}),
      ...(enabled !== undefined ? { enabled } : {}),
    };

    if (status.LoadState === 'not-found' && (state !== undefined || enabled === true)) {
      if (reload) {
        // The unit file is probably new. systemd loads a unit it could not find before when it is
        // next started (it notices the new file), so no daemon-reload. A unit still missing fails at
        // its step.
        if (masked === false) steps.push(systemctl('unmask', name));
        if (enabled === true) steps.push(enabling('enable', name));
        if (state === 'started') steps.push(systemctl('start', name));
        if (state === 'restarted') steps.push(systemctl('restart', name));
        if (state === 'reloaded') steps.push(systemctl('reload-or-restart', name));
        return {
          changed: steps.length > 0,
          steps,
          result,
          msg: ctx.check ? `unit ${name} is not loaded yet; it is expected to appear when it is started` : undefined,
        };
      }
      return { changed: false, steps: [], failed: `Could not find the requested service ${name}: host`, result };
    }

    // Reloading every unit on every run is slow and pointless: only when systemd says this unit's
    // files changed on disk, or it could not load it.
    if (reload && (status.NeedDaemonReload !== 'no' || status.LoadState !== 'loaded')) steps.push(daemonReload);
    const before: Record<string, string> = {};
    const after: Record<string, string> = {};
    const isMasked = fileState === 'masked' || fileState === 'masked-runtime' || status.LoadState === 'masked';
    if (masked !== undefined && masked !== isMasked) {
      steps.push(systemctl(masked ? 'mask' : 'unmask', name));
      before.masked = String(isMasked);
      after.masked = String(masked);
    }
    if (enabled !== undefined) {
      const isEnabled = ENABLED.has(fileState);
      if (enabled && !isEnabled) steps.push(systemctl('enable', name));
      if (!enabled && DISABLEABLE.has(fileState)) steps.push(systemctl('disable', name));
      if (enabled !== isEnabled && (enabled || DISABLEABLE.has(fileState))) {
        before.enabled = String(isEnabled);
        after.enabled = String(enabled);
      }
    }
    const running = RUNNING.has(active);
    let verb: string | undefined;
    if (state === 'started' && !running) verb = 'start';
    if (state === 'stopped' && (running || active === 'deactivating')) verb = 'stop';
    if (state === 'restarted') verb = 'restart';
    if (state === 'reloaded') verb = running ? 'reload' : 'start';
    if (verb) {
      steps.push(systemctl(verb, name));
      before.state = active;
      after.state = verb === 'stop' ? 'inactive' : verb === 'start' ? 'active' : `${verb}ed (${active})`;
    }
    // A daemon-reload alone is not a change (as Ansible); it is only planned when systemd needs it.
    const changed = steps.some((s) => s !== daemonReload);
    const d = fieldsDiff(`unit ${name}`, before, after);
    return { changed, steps: oneReload(steps, daemonReload), diff: d ? [d] : [], result };
  },
};
