// relay_tunnel (relay-play's own module, runs on a device): the tunnel's unit and the relay's pinned
// host key — and, for rotate, a switch to a new relay key — changed like a router's "commit confirmed":
//
//   1. the configuration that runs now is kept in /etc/relay-play/rollback/ (`armed` holds a token);
//   2. the new files are written, a timer is armed on the device (confirm_timeout seconds) that puts
//      the old ones back (roles/reverse-tunnel-service/templates/tunnel-rollback.sh.hbs), and the tunnel
//      restarts — at once when the runner is connected directly, half a second later when it is connected
//      through that very tunnel (so this command returns first);
//   3. the runner reaches the device through the new tunnel (pinned host key) and confirms: the timer is
//      stopped and the kept copy removed. If it can't, the device puts the old configuration back by
//      itself, and the task fails with the new tunnel's last log line.
//
// A tunnel that only needs starting (or a change an interrupted run left unconfirmed) is confirmed the
// same way, without a rollback. At home or away alike: an `apply` never reports a tunnel it has not seen up.
//
// The rollback's own files (its script and unit, enabled so it also runs at boot) are this module's
// too, put in place first in the same round trip: a change relies on them, and every device reads them
// on every run — one read for all of it costs a small host far fewer processes than a task each.
import { randomBytes } from 'node:crypto';
import {
  attrChanges,
  type Attrs,
  attrSteps,
  boolArg,
  type BoolArg,
  type ConfirmContext,
  type Confirmed,
  type Connection,
  contentDiff,
  type FileDiff,
  type FileFacts,
  type Facts,
  type Module,
  type Plan,
  type PlanContext,
  renderTemplateFile,
  type RunResult,
  shFile,
  shScript,
  type Step,
  toBool,
  trace,
  unitBlocks,
  unitsShow,
  writeFileStep,
} from '../../engine/index.js';
import { lastLogLine } from '../status.js';

interface TunnelArgs {
  /** The unit's template (role templates/). */
  src: string;
  /** The rollback script's template, installed as /usr/local/lib/relay-play/tunnel-rollback. */
  rollback_src: string;
  /** The rollback unit's template, installed as relay-play-rollback.service and enabled. */
  rollback_unit_src: string;
  /** The relay's host key, pinned for the tunnel ("ssh-ed25519 AAAA..."). */
  relay_host_key: string;
  /**
   * With several relays, the tunnel to one of them: its unit (default relay-tunnel.service), and the
   * relay, through which the change is confirmed. The unit's files (pinned key, rollback) carry its
   * suffix: relay-tunnel-RELAY.service pins in known_hosts-RELAY and keeps rollback-RELAY/.
   */
  unit?: string;
  relay?: string;
  /** Every tunnel unit the device should have: the others installed are reported as stale_units. */
  keep_units?: string[];
  /** rotate: a new private key to switch to as part of the change (moved over id_relay). */
  switch_key?: string;
  /**
   * rotate, with several relays: restart the tunnel (a change like any other: rollback armed, confirmed
   * through its relay) though nothing of it changed, so it logs in with the key an earlier task switched to.
   */
  restart?: BoolArg;
  /** Comment of the public key written beside a switched key. */
  key_comment?: string;
  /** Seconds the device waits for the runner to confirm before it undoes the change. */
  confirm_timeout?: number | string;
  /**
   * Whether the relay got through its plays in this run (default yes). When not, the tunnel is left as it
   * is: a changed tunnel could not come up, and each device would wait its whole confirm timeout. An
   * argument rather than a `when`, so the task's read is known before the relay's plays run
   * (src/engine/runner/early-reads.ts honours a condition that is false at the start).
   */
  relay_ready?: BoolArg;
}

export const TUNNEL_UNIT = 'relay-tunnel.service';
const DIR = '/etc/relay-play';
const ATTRS: Attrs = { owner: 'root', group: 'root', mode: '0644' };
const ROLLBACK_UNIT = 'relay-play-rollback.service';
const ROLLBACK_UNIT_PATH = `/etc/systemd/system/${ROLLBACK_UNIT}`;
const PROGRAM_DIR = '/usr/local/lib/relay-play';
const ROLLBACK_SCRIPT_PATH = `${PROGRAM_DIR}/tunnel-rollback`;
const SCRIPT_ATTRS: Attrs = { ...ATTRS, mode: '0755' };
/** The runner stops trying this long before the device's own deadline, so a late confirm never races the rollback. */
const MARGIN_MS = 5_000;
/** After the device's rollback, how long its old tunnel gets to come back. */
const COME_BACK_MS = 40_000;
/**
 * Between two looks through the relay. Connected directly, the old tunnel is gone when the switch
 * returns, and a look at a tunnel that is not up yet costs the relay one refused channel: look often.
 * Through the tunnel itself, a look started just before the delayed restart can hang with it: look slower.
 */
const pauseMs = (via: string) => (via === 'direct' ? 50 : 500);
/** Longest one look through the tunnel may take. */
const PROBE_MS = 8_000;

/**
 * This module's scripts, relay_tunnel/NAME.sh beside this file (read by shFile, src/engine/util/sh-file.ts).
 * Those that name the unit or the directory themselves (run without parameters, or polled) get them as
 * @TUNNEL_UNIT@ and @DIR@; the others take everything as positional parameters.
 */
const script = (name: string, values?: Record<string, string>) =>
  shFile(`relay/modules/relay_tunnel/${name}.sh`, values);

/** The read of a device's tunnel (read.sh): units are names under /etc/systemd/system, the others paths. */
export const tunnelRead = (
  dir: string,
  unit: string,
  newKey: string,
  rollbackUnit: string,
  rollbackScript: string,
  sfx = '',
) => shScript(script('read'), [dir, unit, newKey, rollbackUnit, rollbackScript, sfx]);

/** Both units' state — is-active, is-enabled and the run's id, a block each — read with read.sh, at once (the systemctl is shared: src/connection/unit-reads.ts). */
const unitsRead = (unit: string) => unitsShow([unit, ROLLBACK_UNIT], ['ActiveState', 'UnitFileState', 'InvocationID']);

/** A tunnel's rollback directory (under DIR) and the timer that runs it. */
const rollbackNames = (sfx: string) => ({ RB: `rollback${sfx}`, TIMER: `relay-play-rollback-arm${sfx}` });

/** One tunnel's names: its unit, the suffix of its files, and where they are. */
function tunnelNames(args: TunnelArgs) {
  const unit = args.unit ?? TUNNEL_UNIT;
  const m = /^relay-tunnel(-[A-Za-z0-9][A-Za-z0-9._-]*)?\.service$/.exec(unit);
  if (!m) throw new Error(`unit ${JSON.stringify(unit)} is not relay-tunnel.service or relay-tunnel-RELAY.service`);
  const sfx = m[1] ?? '';
  return { unit, sfx, unitPath: `/etc/systemd/system/${unit}`, pinPath: `${DIR}/known_hosts${sfx}` };
}

interface TunnelFacts {
  unit: FileFacts;
  pin: FileFacts;
  rollbackUnit: FileFacts;
  rollbackScript: FileFacts;
  active: string;
  enabled: string;
  invocation: string;
  /** The rollback unit's UnitFileState. */
  rollbackEnabled: string;
  armed: string;
  newKey: boolean;
  /** Every relay-tunnel*.service installed on the device. */
  installedUnits: string[];
}

/** The four files of the read, in its order (file1…file4): their stat lines cut the one content apart. */
function readFiles(lines: string[]): FileFacts[] {
  const present = [1, 2, 3, 4].map((n) => lines.includes(`file${n}=yes`));
  const stats = lines.filter((l) => l.startsWith('stat=')).map((l) => l.slice(5).split(' '));
  const content = Buffer.from(lines.find((l) => l.startsWith('content='))?.slice(8) ?? '', 'base64');
  const sizes = stats.map(([, size]) => Number(size));
  // A file changed (or went) between the stat and the read: the pieces would not be the files.
  if (stats.length !== present.filter(Boolean).length || sizes.reduce((a, b) => a + b, 0) !== content.length) {
    throw new Error("the tunnel's files changed while they were read; run again");
  }
  let at = 0;
  let k = 0;
  return present.map((exists) => {
    if (!exists) return { exists: false };
    const [[attrs], size] = [stats[k], sizes[k++]];
    const [owner, group, mode] = attrs.split(':');
    const text = content.subarray(at, (at += size)).toString('utf8');
    return { exists: true, type: 'file', owner, group, mode: mode.padStart(4, '0'), content: text };
  });
}

const keyValues = (lines: string[]) =>
  new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));

/** read.sh's output and UNITS_READ's. */
export function parseTunnelFacts(stdout: string, unitsShown: string): TunnelFacts {
  const lines = stdout.split('\n');
  const [tunnel = new Map<string, string>(), rollback = new Map<string, string>()] = unitBlocks(unitsShown);
  const kv = keyValues(lines);
  const [unit, pin, rollbackUnit, rollbackScript] = readFiles(lines);
  return {
    unit,
    pin,
    rollbackUnit,
    rollbackScript,
    active: tunnel.get('ActiveState') ?? '',
    enabled: tunnel.get('UnitFileState') ?? '',
    invocation: tunnel.get('InvocationID') ?? '',
    rollbackEnabled: rollback.get('UnitFileState') ?? '',
    armed: kv.get('armed') ?? '',
    newKey: kv.get('newkey') === 'yes',
    installedUnits: (kv.get('units') ?? '').split(' ').filter(Boolean),
  };
}

/** A unit installed but not enabled, whose enabling systemd will not see without a daemon-reload. */
const wasDisabled = (f: TunnelFacts) =>
  (f.unit.exists && f.enabled !== 'enabled') || (f.rollbackUnit.exists && f.rollbackEnabled !== 'enabled');

/**
 * The rollback's script and unit as wanted, and the unit enabled (unless `enabledBySwitch`: the switch
 * enables it with the tunnel): steps that go before any change to the tunnel (a change relies on them).
 */
function rollbackSteps(
  f: TunnelFacts,
  scriptText: string,
  unitText: string,
  diff: FileDiff[],
  enabledBySwitch: boolean,
): Step[] {
  const steps: Step[] = [];
  if (!f.rollbackScript.exists)
    steps.push({ describe: `mkdir ${PROGRAM_DIR}`, command: shScript('mkdir -p -m 0755 -- "$1"', [PROGRAM_DIR]) });
  let unitWritten = false;
  for (const [path, facts, want, attrs] of [
    [ROLLBACK_SCRIPT_PATH, f.rollbackScript, scriptText, SCRIPT_ATTRS],
    [ROLLBACK_UNIT_PATH, f.rollbackUnit, unitText, ATTRS],
  ] as const) {
    if (facts.content !== want) {
      diff.push(contentDiff(path, facts.content ?? '', want));
      steps.push(writeFileStep(path, want, attrs));
      unitWritten ||= path === ROLLBACK_UNIT_PATH;
    } else steps.push(...attrSteps(path, attrChanges(facts, attrs)));
  }
  if (!enabledBySwitch && (unitWritten || f.rollbackEnabled !== 'enabled'))
    steps.push({ describe: `enable ${ROLLBACK_UNIT}`, command: shScript(script('enable'), [ROLLBACK_UNIT]) });
  return steps;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or a rejection once `deadline` passes. */
function until<T>(p: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error('out of time')), Math.max(0, deadline - Date.now()))),
  );
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The new tunnel's last words, from journal lines or the device's rollback.log. */
const lastWords = (log: string) => lastLogLine(log.replace(/^token=.*$/m, '')) ?? '(nothing logged)';

/**
 * Wait for the restarted tunnel to come up through the relay, then confirm on the device. Returns
 * undefined once confirmed, or why not.
 */
/** The tunnel a change is confirmed for: its unit, its files' suffix, and the relay to look through. */
interface Which {
  unit: string;
  sfx: string;
  relay?: string;
}

async function confirmUp(
  ctx: ConfirmContext,
  which: Which,
  before: string,
  token: string,
  deadline: number,
): Promise<string | undefined> {
  let why = 'the tunnel did not come up';
  const confirm = shScript(script('confirm', { TUNNEL_UNIT: which.unit, DIR, ...rollbackNames(which.sfx) }), [
    before,
    token,
  ]);
  const asRoot = (conn: Connection) => conn.run(confirm, { become: true });
  while (Date.now() < deadline) {
    trace(`${ctx.host}: probe`);
    const attempt = ctx.probe(which.relay);
    let adopted = false;
    try {
      // One attempt stuck on a tunnel that went away under it must not use up the whole window.
      const probe = await until(attempt, Math.min(deadline, Date.now() + PROBE_MS));
      // Bounded too: a look that got in through the old tunnel just before its restart can lose its
      // connection without noticing; the next look asks again (confirm.sh answers a repeat the same).
      const r = await until(
        ctx.via === 'relay' ? asRoot(probe) : ctx.run(confirm),
        Math.min(deadline, Date.now() + PROBE_MS),
      );
      const out = r.stdout.trim();
      trace(`${ctx.host}: probe result ${out}`);
      if (out === 'confirmed') {
        // Reached only through the tunnel: the probe is the host's connection from now on.
        if (ctx.via === 'relay') await ctx.adopt(probe);
        adopted = ctx.via === 'relay';
        return undefined;
      }
      if (out === 'rolled-back') return 'the device already rolled the change back';
      why = `the tunnel service is ${out.replace(/^waiting /, '') || 'not restarted yet'}`;
    } catch (e) {
      why = (e as Error).message;
      trace(`${ctx.host}: probe failed ${why}`);
    } finally {
      // Closed even when it arrives after the deadline.
      if (!adopted)
        attempt
          .then(
            (c) => c.close(),
            () => undefined,
          )
          .catch(() => undefined);
    }
    await sleep(pauseMs(ctx.via));
  }
  return why;
}

async function confirmTunnel(
  ctx: ConfirmContext,
  which: Which,
  f: TunnelFacts,
  token: string,
  timeoutS: number,
): Promise<Confirmed> {
  const armedAt = Date.now();
  const why = await confirmUp(ctx, which, f.invocation, token, armedAt + timeoutS * 1000 - (token ? MARGIN_MS : 0));
  const { unit } = which;
  const through = ` through the relay${which.relay ? ` ${which.relay}` : ''}`;
  if (why === undefined) return { result: { tunnel: 'confirmed' } };

  const head = `the tunnel did not come up${through} within ${timeoutS} s (${why})`;
  if (ctx.via !== 'relay') {
    // Still connected directly: undo at once rather than waiting for the device's timer.
    const r = await ctx
      .run(shScript(script('rollback-now', { TUNNEL_UNIT: unit, DIR, ...rollbackNames(which.sfx) }), [token]))
      .catch(() => undefined);
    const log = r?.stdout.split('---log\n')[1] ?? '';
    const undone = token ? '; the configuration that ran before was restored' : '';
    return {
      failed: `${head}${undone}. ${unit}'s last message: ${lastWords(log)}`,
      result: { tunnel: token ? 'rolled back' : 'down' },
    };
  }
  // Reached only through the tunnel, now cut: the device restores the old configuration at its own
  // deadline; reach it again through the old tunnel and ask what the new one said.
  // A tunnel that came up late may carry us in just before the device's timer fires and cuts it
  // again: keep reaching the device until it says its rollback of this change has run.
  const restoredBy = armedAt + timeoutS * 1000;
  const giveUp = restoredBy + COME_BACK_MS;
  await sleep(Math.max(0, restoredBy - Date.now()));
  let why2 = 'not reached';
  while (Date.now() < giveUp) {
    try {
      await ctx.reconnect(giveUp);
      const out = (await ctx.run(script('read-rollback', { DIR, RB: rollbackNames(which.sfx).RB }))).stdout;
      const [armedLine, confirmedLine, ...rest] = out.split('\n');
      const log = rest.join('\n');
      // Confirmed on the device after all (its answer was lost with the connection that asked).
      if (token && confirmedLine === `confirmed=${token}`) return { result: { tunnel: 'confirmed' } };
      if (log.startsWith(`token=${token}\n`)) {
        return {
          failed: `${head}; the device restored the configuration that ran before and is reachable again. ${unit}'s last message: ${lastWords(log)}`,
          result: { tunnel: 'rolled back' },
        };
      }
      why2 =
        armedLine === `armed=${token}`
          ? 'its rollback has not run yet'
          : 'it has no record of rolling this change back';
    } catch (e) {
      why2 = (e as Error).message;
    }
    await sleep(1_000);
  }
  return {
    failed: `${head}, and the device did not confirm its own rollback within ${COME_BACK_MS / 1000} s (${why2}); it keeps retrying with the configuration that ran before`,
    result: { tunnel: 'unknown' },
  };
}

export const relay_tunnel: Module<TunnelArgs, 'tunnel' | 'units'> = {
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      rollback_src: { type: 'string', minLength: 1 },
      rollback_unit_src: { type: 'string', minLength: 1 },
      relay_host_key: { type: 'string', pattern: '^ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+$' },
      switch_key: { type: 'string', minLength: 1 },
      restart: boolArg,
      key_comment: { type: 'string' },
      confirm_timeout: { type: ['integer', 'string'], pattern: '^[0-9]+$' },
      relay_ready: boolArg,
      unit: { type: 'string', pattern: '^relay-tunnel(-[A-Za-z0-9][A-Za-z0-9._-]*)?\\.service$' },
      relay: { type: 'string', minLength: 1 },
      keep_units: { type: 'array', items: { type: 'string' } },
    },
    required: ['src', 'rollback_src', 'rollback_unit_src', 'relay_host_key'],
    additionalProperties: false,
  },

  // Its reads need none of the fleet's facts, so a run fetches them before the relay has decided those
  // (src/engine/runner/early-reads.ts); the units' state shares one systemctl with other unit reads.
  reads: (args) => ({
    tunnel: {
      command: tunnelRead(
        DIR,
        tunnelNames(args).unit,
        args.switch_key ?? '',
        ROLLBACK_UNIT,
        ROLLBACK_SCRIPT_PATH,
        tunnelNames(args).sfx,
      ),
    },
    units: { command: unitsRead(tunnelNames(args).unit) },
  }),

  async plan(args, ctx, read): Promise<Plan> {
    const p = await planTunnel(args, ctx, read);
    if (!args.keep_units || p.failed || p.skipped) return p;
    const stale = parseTunnelFacts(read.tunnel.stdout, read.units.stdout).installedUnits.filter(
      (u) => !args.keep_units!.includes(u),
    );
    return { ...p, result: { ...p.result, stale_units: stale } };
  },
};

async function planTunnel(args: TunnelArgs, ctx: PlanContext, read: Facts<'tunnel' | 'units'>): Promise<Plan> {
  const { tunnel: r, units } = read;
  if (!toBool(args.relay_ready, true))
    return {
      changed: false,
      steps: [],
      skipped: true,
      msg: 'the relay failed in this run (see its errors): the tunnel is left as it is',
    };
  const unitText = renderTemplateFile(ctx, args.src);
  const pinText = `relay-play-relay ${args.relay_host_key}\n`;
  const timeoutS = Number(args.confirm_timeout ?? 60);
  if (!(timeoutS >= 10))
    return {
      changed: false,
      steps: [],
      failed: `confirm_timeout must be at least 10 seconds, got ${args.confirm_timeout}`,
    };
  for (const x of [r, units])
    if (x.code !== 0)
      return {
        changed: false,
        steps: [],
        failed: `cannot read the tunnel's state: ${x.stderr.trim() || `exit ${x.code}`}`,
      };
  const f = parseTunnelFacts(r.stdout, units.stdout);
  const { unit, sfx, unitPath, pinPath } = tunnelNames(args);
  const which: Which = { unit, sfx, ...(args.relay ? { relay: args.relay } : {}) };

  const tunnelDiff: FileDiff[] = [];
  const writes: Step[] = [];
  for (const [path, facts, want] of [
    [unitPath, f.unit, unitText],
    [pinPath, f.pin, pinText],
  ] as const) {
    if (facts.content !== want) {
      tunnelDiff.push(contentDiff(path, facts.content ?? '', want));
      writes.push(writeFileStep(path, want, ATTRS));
    }
  }
  const restart = toBool(args.restart, false);
  const contentChanged = writes.length > 0 || f.newKey || restart;
  const diff: FileDiff[] = [];
  const rollback = rollbackSteps(
    f,
    renderTemplateFile(ctx, args.rollback_src),
    renderTemplateFile(ctx, args.rollback_unit_src),
    diff,
    contentChanged,
  );
  diff.push(...tunnelDiff);
  const running = f.active === 'active' && f.enabled === 'enabled';
  const fixAttrs = [
    ...rollback,
    ...(contentChanged
      ? []
      : [...attrSteps(unitPath, attrChanges(f.unit, ATTRS)), ...attrSteps(pinPath, attrChanges(f.pin, ATTRS))]),
  ];

  if (contentChanged) {
    const token = randomBytes(8).toString('hex');
    const steps: Step[] = [
      ...rollback,
      {
        describe: 'keep the running tunnel configuration for a rollback',
        command: shScript(script('snapshot'), [DIR, unit, token, sfx]),
      },
      ...writes,
      {
        describe: `restart ${unit} with a rollback armed (${timeoutS} s)`,
        command: shScript(script('switch'), [
          DIR,
          unit,
          timeoutS,
          args.switch_key ?? '',
          args.key_comment ?? '',
          ctx.via === 'direct' ? '' : '500ms',
          ROLLBACK_UNIT,
          wasDisabled(f) ? 'stale' : '',
          sfx,
        ]),
      },
    ];
    return {
      changed: true,
      steps,
      diff,
      msg: f.newKey
        ? 'switching to the new relay key'
        : restart && !writes.length
          ? 'restarting with the new relay key'
          : 'tunnel configuration changed',
      // The snapshot step says whether there was anything to roll back to.
      confirm: (c, outputs) =>
        confirmTunnel(c, which, f, outputs[rollback.length]?.stdout.trim() === 'armed' ? token : '', timeoutS),
    };
  }
  if (!running) {
    return {
      changed: true,
      steps: [...fixAttrs, { describe: `start ${unit}`, command: shScript(script('enable'), [unit, 'start']) }],
      diff,
      msg: `${unit} was ${f.active}${f.enabled === 'enabled' ? '' : ` and ${f.enabled || 'not installed'}`}`,
      // One that was running (only disabled) keeps running, under the invocation it has: any counts.
      confirm: (c) => confirmTunnel(c, which, f.active === 'active' ? { ...f, invocation: '' } : f, '', timeoutS),
    };
  }
  if (f.armed) {
    // An earlier run changed the tunnel and never confirmed it: the change is running; confirm it now.
    return {
      changed: true,
      steps: fixAttrs,
      diff,
      msg: 'confirming an earlier unconfirmed change',
      confirm: (c) => confirmTunnel(c, which, { ...f, invocation: '' }, f.armed, timeoutS),
    };
  }
  return {
    changed: fixAttrs.length > 0,
    steps: fixAttrs,
    diff,
    ...(rollback.length ? { msg: "the tunnel's rollback files put back in place" } : {}),
  };
}

export type { RunResult };
