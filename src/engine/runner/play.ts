// Plays run in order; in a play every host runs its tasks in order, hosts in parallel (--forks).
// A failed or unreachable host stops; the others go on. Handlers run once per host at the play's end.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { EXIT, formatPos, InputError } from '../util/errors.js';
import { loadYamlFile } from '../yaml/source.js';
import { renderDeep } from '../template/jinja.js';
import { taskVars } from './vars.js';
import { runAlone, type OneCommand, type ReadRequest } from '../connection/batch.js';
import type { Connection, Held } from '../connection/types.js';
import type { Inventory } from '../inventory/index.js';
import { knownNames, matchHosts } from '../inventory/index.js';
import type { Reporter } from './reporter.js';
import type { Playbook, PlayDef, TaskDef } from '../playbook/types.js';
import { Connections } from './connections.js';
import type { Extensions } from './extensions.js';
import { Lockstep, type PlayControl, type Position } from './control.js';
import { runInclude } from './includes.js';
import { evalCondition, executeTask, firstReads, resultFromReads, type ExecEnv, type Once } from './execute.js';
import { HostReads } from './reads.js';
import { ReadCache } from './read-cache.js';
import { EarlyReads, type Fetched } from './early-reads.js';
import { BlockRun } from './blocks.js';
import { markRaw } from '../template/expr.js';
import { clearStep, listPending, notifies, pendingKey } from './pending.js';
import { preflight } from './preflight.js';
import { takeLocks, type LockSpec } from './lock.js';
import { censor, changedOf, registeredResult, type TaskResult } from './result.js';
import { type HostState, RunState, withFactsAhead } from './state.js';
import { trace } from '../util/trace.js';

export interface RunnerOptions {
  check: boolean;
  diff: boolean;
  limit?: string;
  forks: number;
  acceptNewHostKeys: boolean;
  connectTimeoutMs?: number;
  /**
   * Hold these locks (each on a host of the inventory) for the whole run, taken one after the other in
   * this order (so two runs wanting the same locks never hold one each and wait for the other).
   */
  locks?: LockSpec[];
  /** The application's modules and routes (src/engine/runner/extensions.ts). */
  extensions: Extensions;
  /** `-e`: above every other variable. */
  extraVars?: Record<string, unknown>;
}

/** Runs `items` through `fn` with at most `limit` at a time. */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The hosts --limit leaves, as ansible-playbook: a name that matches nothing is warned of and ignored,
 * but a limit that leaves no host at all is an error (naming the first unknown name, if any).
 */
export function limitHosts(
  inv: Inventory,
  limit: string | undefined,
  warn: (text: string) => void = () => undefined,
): Set<string> | undefined {
  if (!limit) return undefined;
  let matched: ReturnType<typeof matchHosts>;
  try {
    matched = matchHosts(inv, limit);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`--limit ${limit}: ${e.message}`, undefined, e.hint);
    throw e;
  }
  if (!matched.hosts.length) {
    const why = matched.unmatched.length
      ? `no host or group named "${matched.unmatched[0]}" in inventory ${inv.file}`
      : 'leaves no host to run on';
    throw new InputError(`--limit ${limit}: ${why}`, undefined, knownNames(inv));
  }
  for (const name of matched.unmatched) warn(`--limit: could not match supplied host pattern, ignoring: ${name}`);
  return new Set(matched.hosts);
}

/** ansible-playbook's warning for a name in a play's `hosts` that matches no host or group. */
export function unmatchedWarning(play: PlayDef, name: string): string {
  return `${formatPos(play.hostsPos)}: could not match supplied host pattern, ignoring: ${name}`;
}

export async function runPlaybook(
  pb: Playbook,
  inv: Inventory,
  opts: RunnerOptions,
  reporter: Reporter,
): Promise<RunState> {
  const warn = (text: string) => reporter.warn?.(text);
  const limited = limitHosts(inv, opts.limit, warn);
  // group_by and add_host make groups (and hosts) a later play may name: its hosts are known when it starts.
  const dynamic = pb.plays.some((p) =>
    everyTask(p.tasks).some((t) => t === undefined || t.module === 'group_by' || t.module === 'add_host'),
  );
  const select = (play: PlayDef) => {
    const matched = matchHosts(inv, play.hosts, play.hostsPos);
    return { ...matched, hosts: matched.hosts.filter((h) => !limited || limited.has(h)) };
  };
  const playHosts = pb.plays.map((play) => select(play).hosts);
  preflight(pb, inv, playHosts, opts.extensions.modules);
  trace('preflight done; connecting');

  const state = new RunState(inv, opts.extraVars);
  const connections: Connections = new Connections(
    (host) => state.hostVars(host),
    { ...opts, note: (host, text) => reporter.note?.(host, text) },
    opts.extensions.routes?.(inv, {
      connection: (host) => connections.get(host),
      facts: (host) => state.host(host).facts,
    }),
    (host, via, route) => reporter.reached?.(host, via === route.name ? route.describe : 'directly (ansible_host)'),
  );
  state.connections = connections;
  const cache = new ReadCache();
  const early = new EarlyReads(cache);
  const connection = (host: string): Promise<Connection> => connections.get(host);
  const held: Held[] = [];
  try {
    await connections.unlockKeys(new Set(playHosts.flat()));
    // Connect to every host of the run at once, so later plays don't wait for their handshakes — the
    // lock's host first: every host's first reads wait for the lock.
    // A failure is not lost: the host's first task awaits the same promise and reports it.
    for (const host of new Set([...(opts.locks ?? []).map((l) => l.host), ...playHosts.flat()]))
      connection(host).catch(() => undefined);
    // What each host reads first (src/engine/runner/early-reads.ts), worked out while the handshakes run: it
    // is sent once the lock is held — before, another run may still be changing the hosts.
    const base = {
      state,
      cache,
      modules: opts.extensions.modules,
      check: opts.check,
      diff: opts.diff,
      playbookDir: pb.dir,
      connection,
      connections,
    };
    const firstWanted = new Map(
      [...new Set(playHosts.flat())].map((host) => [host, readsOfRun(base, pb.plays, playHosts, host).catch(() => [])]),
    );
    held.push(...(await takeLocks(opts.locks ?? [], connection, (m) => process.stderr.write(m + '\n'))));
    if (opts.locks?.length) trace(`locks taken on ${opts.locks.map((l) => l.host).join(', ')}`);
    // Read each host for all its plays as soon as it is connected.
    for (const [host, wanted] of firstWanted)
      early.send(
        host,
        () => connection(host),
        (known) => (known ? readsOfRun(base, pb.plays, playHosts, host, 0, known) : wanted),
      );
    for (const [i, play] of pb.plays.entries()) {
      // The inventory as the plays before left it (add_host, group_by).
      const selected = select(play);
      if (dynamic) playHosts[i] = selected.hosts;
      for (const name of selected.unmatched) warn(unmatchedWarning(play, name));
      const hosts = orderHosts(
        playHosts[i].filter((h) => !state.host(h).failed && !state.host(h).unreachable),
        play.order,
      );
      trace(`play ${play.name}`);
      reporter.playStart(play, hosts);
      cache.startPlay(i);
      const control: PlayControl = { ended: false, fatal: false };
      for (const batch of serialBatches(hosts, play.serial)) {
        const env: ExecEnv = {
          state,
          cache,
          modules: opts.extensions.modules,
          play,
          playHosts: batch,
          check: opts.check,
          diff: opts.diff,
          playbookDir: pb.dir,
          connection,
          connections,
          once: new Map(),
          control,
          lockstep: play.strategy === 'linear' ? new Lockstep(batch) : undefined,
          allHosts: hosts,
        };
        await forEachLimited(batch, opts.forks, async (host) => {
          try {
            await runHostPlay(env, host, reporter);
          } finally {
            env.lockstep?.leave(host);
          }
          if (control.abort) return;
          reporter.hostDone(host);
          const h = state.host(host);
          if (!h.failed && !h.unreachable && playHosts.slice(i + 1).some((later) => later.includes(host))) {
            early.sendLater(
              host,
              () => connection(host),
              () => readsOfRun(base, pb.plays, playHosts, host, i + 1),
            );
          }
        });
        // max_fail_percentage: more of the batch failed than allowed ends the play for every host.
        const failed = batch.filter((h) => state.host(h).failed || state.host(h).unreachable).length;
        if (
          play.maxFailPercentage !== undefined &&
          batch.length &&
          (failed / batch.length) * 100 > play.maxFailPercentage
        )
          control.fatal = true;
        // With serial, a batch where every host failed ends the play, as in Ansible.
        if (play.serial.length && failed === batch.length && batch.length) control.fatal = true;
        if (control.abort) throw control.abort;
        if (control.ended || control.fatal) break;
      }
      await reporter.playEnd(play);
      // any_errors_fatal / max_fail_percentage: the run stops after this play.
      if (control.fatal) break;
    }
  } finally {
    for (const h of held.reverse()) await h.release();
    await connections.closeAll();
  }
  trace('plays done');
  // Recap in inventory order, whatever order hosts finished in.
  const ran = new Set(playHosts.flat());
  const ordered = new Map([...inv.hosts.keys()].filter((h) => ran.has(h)).map((h) => [h, state.stat(h)]));
  for (const [h, s] of ordered) if (connections.routeOf(h) && connections.via(h)) s.via = connections.via(h);
  state.stats.clear();
  for (const [h, s] of ordered) state.stats.set(h, s);
  await reporter.end(state.stats);
  return state;
}

/** Hosts in the play's `order`. */
function orderHosts(hosts: string[], order: PlayDef['order']): string[] {
  switch (order) {
    case 'reverse_inventory':
      return [...hosts].reverse();
    case 'sorted':
      return [...hosts].sort();
    case 'reverse_sorted':
      return [...hosts].sort().reverse();
    case 'shuffle':
      return [...hosts]
        .map((h) => [Math.random(), h] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([, h]) => h);
    default:
      return hosts;
  }
}

/** `serial`: the batches hosts run in (numbers or percentages, the last size repeating). */
export function serialBatches(hosts: string[], serial: (number | string)[]): string[][] {
  if (!serial.length) return [hosts];
  const sizes = serial.map((x) => {
    const pct = /^(\d+)%$/.exec(String(x));
    const n = pct ? Math.floor((hosts.length * Number(pct[1])) / 100) : Number(x);
    return Math.max(1, n || hosts.length);
  });
  const out: string[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const size = sizes[Math.min(k++, sizes.length - 1)];
    out.push(hosts.slice(i, i + size));
    i += size;
  }
  return out;
}

/** `vars_files` of the play for `host`: each name rendered, a list giving the first file that exists. */
function loadVarsFiles(env: ExecEnv, host: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!env.play.varsFiles.length) return out;
  const vars = taskVars(env, host, { vars: {}, role: undefined } as unknown as TaskDef);
  for (const entry of env.play.varsFiles) {
    const names = (Array.isArray(entry) ? entry : [entry]).map((n) => String(renderDeep(n, vars)));
    const paths = names.map((n) => (isAbsolute(n) ? n : join(env.play.dir, n)));
    const file = paths.find((f) => existsSync(f));
    if (!file)
      throw new InputError(
        `vars_files: ${names.length > 1 ? `none of ${names.join(', ')} found` : `could not find or access "${names[0]}"`}`,
        env.play.pos,
        'give a file that exists, relative to the playbook',
        EXIT.input,
      );
    const data = loadYamlFile(file).toJS();
    if (data !== null && data !== undefined) {
      if (typeof data !== 'object' || Array.isArray(data))
        throw new InputError(
          `vars_files: ${file} must be stored as a dictionary/hash`,
          env.play.pos,
          undefined,
          EXIT.input,
        );
      Object.assign(out, data);
    }
  }
  return out;
}

async function runHostPlay(env: ExecEnv, host: string, reporter: Reporter): Promise<void> {
  const notified = new Set<string | TaskDef>();
  const handlers = handlersOf(env.play);
  // The play's look-ahead; what is still good to use is the run's cache's to say (./read-cache.ts).
  const pendingRead = listPending(env.play);
  const reads = new HostReads(host, () => env.connection(host), env.cache, handlers.length ? [pendingRead] : []);
  // The host's own list: what its includes bring in goes after them (./includes.ts).
  const tasks = [...env.play.tasks];
  let positions: Position[] | undefined;
  const blocks = new BlockRun();
  const h = env.state.host(host);
  h.playVars = loadVarsFiles(env, host);
  h.publicRoles = [];
  const control = env.control ?? { ended: false, fatal: false };
  let flushed = false;
  const flush = async () => {
    if (!handlers.length) return;
    await runHandlers(env, host, reporter, reads, notified, pendingRead, flushed);
    flushed = true;
  };
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i];
    if (env.lockstep) await env.lockstep.arrive(host, positions?.[i] ?? i);
    if (control.ended || control.fatal) return;
    if (blocks.runs(task)) {
      // Asked as soon as the host may go on: in linear, hosts go on in batch order, so the first runs it.
      const once = onceOf(env, task, host);
      if (task.module === 'meta') {
        const what = await runMeta(env, host, task, reporter);
        if (what === 'flush_handlers') await flush();
        if (what === 'end_host') break;
        if (what === 'end_play' || (what === 'end_batch' && !env.play.serial.length)) {
          control.ended = true;
          return;
        }
        if (what === 'end_batch') return;
        if (h.failed || h.unreachable) return;
        continue;
      }
      if (task.include) {
        let brought: TaskDef[] = [];
        try {
          // run_once: one host includes; the others only register its result, as in Ansible.
          if (once && once.host !== host) registerInclude(h, task, (await once.result).result);
          else brought = includeOn(env, host, task, reporter, blocks);
        } catch (e) {
          if (once?.host === host) once.settle(Promise.reject(e));
          if (!(e instanceof InputError)) throw e;
          // The other hosts stop before their next task; the run ends with the error once they have.
          control.abort ??= e;
          control.fatal = true;
          return;
        }
        if (brought.length) {
          // Included tasks sit between the include and the task after it, for every host alike.
          positions ??= tasks.map((_, k) => k);
          const at = positions[i];
          const base = typeof at === 'number' ? [at] : at;
          tasks.splice(i + 1, 0, ...brought);
          positions.splice(i + 1, 0, ...brought.map((_, k) => [...base, k]));
          reads.stale();
        }
        if (h.failed && (task.anyErrorsFatal ?? env.play.anyErrorsFatal)) control.fatal = true;
        if (h.failed || h.unreachable) {
          if (env.play.forceHandlers) await flush();
          return;
        }
      } else {
        const wants = (k: number) => firstReads(env, host, tasks[k]);
        await reads.lookAhead(i, tasks.length, wants);
        // A task that changes the host reads for the next ones after its steps, in the same trip.
        const readsAfter =
          task.loop === undefined ? () => reads.readsAfterSteps(i + 1, tasks.length, wants) : undefined;
        const r = await runTaskOnce(env, host, task, reporter, reads, blocks, readsAfter);
        if (r.status === 'changed') {
          notify(env.play, task, notified);
          reads.slowDown();
        }
        if (r.status === 'ok' || r.status === 'changed') applyInventoryChanges(env, host, task, r.result, reporter);
        if (h.failed && (task.anyErrorsFatal ?? env.play.anyErrorsFatal)) control.fatal = true;
        if (h.failed || h.unreachable) {
          if (env.play.forceHandlers) await flush();
          return;
        }
      }
    }
    // A failure no rescue caught fails the host once the always sections it is in have run.
    if (blocks.due(tasks[i + 1])) {
      h.failed = true;
      if (task.anyErrorsFatal ?? env.play.anyErrorsFatal) control.fatal = true;
      if (env.play.forceHandlers) await flush();
      return;
    }
  }
  if (control.fatal) return;
  await flush();
}

/**
 * An include_tasks / include_role on `host`: reported and counted as Ansible does (include_tasks is one
 * `ok` per file it read, include_role none), registered; returns the tasks it brings in that --tags
 * selects.
 */
function includeOn(env: ExecEnv, host: string, task: TaskDef, reporter: Reporter, blocks?: BlockRun): TaskDef[] {
  reporter.taskStart(host, task);
  const run = runInclude(env, host, task);
  const r = run.result;
  const h = env.state.host(host);
  const stat = env.state.stat(host);
  registerInclude(h, task, r.result);
  env.once?.get(task)?.settle(Promise.resolve(r));
  if (r.status === 'failed') countFailure(env, host, task, r, blocks, task.ignoreErrors && !run.notFound);
  else if (r.status === 'skipped') stat.skipped++;
  else if (task.include!.kind === 'tasks') stat.ok += run.files;
  reporter.taskResult(host, task, task.noLog ? censor(r) : r);
  return env.play.select ? run.tasks.filter(env.play.select) : run.tasks;
}

/** What an include registers. */
function registerInclude(h: HostState, task: TaskDef, result: Record<string, unknown>): void {
  if (task.register) h.facts[task.register] = markRaw(result);
}

/**
 * What `task`'s change notifies, as Ansible: from a role include_role brought in, that copy of the role's
 * own handler when it has one (a role included with other arguments is another copy, with its own
 * handlers); else the first handler of that name, or the handlers listening to it.
 */
function notify(play: PlayDef, task: TaskDef, notified: Set<string | TaskDef>): void {
  for (const n of task.notify) {
    const own = task.role?.included
      ? play.handlers.filter((h) => h.role === task.role && (h.rawName === n || h.listen.includes(n)))
      : [];
    const first = play.handlers.find((h) => h.rawName === n);
    const listening = play.handlers.filter((h) => h.listen.includes(n));
    const reached = own.length ? own : [...(first ? [first] : []), ...listening];
    if (reached.length) reached.forEach((h) => notified.add(h));
    else notified.add(n);
  }
}

/** Runs the handlers notified so far (and, the first time, those an interrupted run left pending). */
async function runHandlers(
  env: ExecEnv,
  host: string,
  reporter: Reporter,
  reads: HostReads,
  notified: Set<string | TaskDef>,
  pendingRead: ReadRequest,
  flushedBefore: boolean,
): Promise<void> {
  const handlers = handlersOf(env.play);
  // Handlers an interrupted run notified but never ran (src/engine/runner/pending.ts).
  const [listed] = flushedBefore ? [undefined] : await reads.read([pendingRead]).catch(() => [undefined]);
  const pending = new Set(listed?.stdout.split('\n') ?? []);
  const now = new Set(notified);
  notified.clear();
  // A handler may notify others, as in Ansible: each runs once per flush, the next being the first
  // notified one (in the order of the handlers section) that has not run yet. Copies of a role's
  // handler share a name and marker: a marker this run's notifications cover runs only those notified.
  const covered = new Set(handlers.filter((h) => notifies(now, h)).map((h) => pendingKey(env.play, h)));
  const ran = new Set<TaskDef>();
  const due = (handler: TaskDef) => {
    if (ran.has(handler)) return false;
    const key = pendingKey(env.play, handler);
    return notifies(now, handler) || (pending.has(key) && !covered.has(key));
  };
  for (let handler = handlers.find(due); handler; handler = handlers.find(due)) {
    ran.add(handler);
    const clear = clearStep(env.play, pendingKey(env.play, handler));
    if (handler.include) {
      await includedHandler(env, host, handler, reporter, reads);
      if (env.state.host(host).failed || env.state.host(host).unreachable) return;
      if (!env.check) {
        env.cache.changed(host);
        await runAlone(await env.connection(host), clear).catch(() => undefined);
      }
      continue;
    }
    const r = await runTask(env, host, handler, reporter, reads, clear);
    if (r.status === 'changed') notify(env.play, handler, now);
    if (env.state.host(host).failed || env.state.host(host).unreachable) return;
    // A handler with nothing to do (or that ran its steps without the marker) clears it on its own.
    if (!env.check && r.status !== 'failed' && !r.pendingCleared) {
      env.cache.changed(host);
      await runAlone(await env.connection(host), clear).catch(() => undefined);
    }
  }
}

/** A handler that is an include: the tasks it brings in run in its place, one after the other. */
async function includedHandler(
  env: ExecEnv,
  host: string,
  handler: TaskDef,
  reporter: Reporter,
  reads: HostReads,
): Promise<void> {
  for (const task of includeOn(env, host, handler, reporter)) {
    if (env.state.host(host).failed || env.state.host(host).unreachable) return;
    if (task.include) await includedHandler(env, host, task, reporter, reads);
    else if (task.module !== 'meta') await runTask(env, host, task, reporter, reads);
  }
}

/** A `meta` task: its condition, then what it asks the runner to do (the runner does it). */
async function runMeta(env: ExecEnv, host: string, task: TaskDef, reporter: Reporter): Promise<string | undefined> {
  const what = String(
    (task.args as { _raw?: string; free_form?: string })._raw ?? (task.args as { free_form?: string }).free_form,
  );
  reporter.taskStart(host, task);
  const vars = taskVars(env, host, task);
  let holds = true;
  try {
    holds = task.when.every((c) => evalCondition(c, vars));
  } catch (e) {
    const r: TaskResult = {
      status: 'failed',
      result: { failed: true, msg: (e as Error).message },
      diff: [],
      msg: (e as Error).message,
    };
    env.state.host(host).failed = true;
    env.state.stat(host).failures++;
    reporter.taskResult(host, task, r);
    return undefined;
  }
  if (!holds) {
    if (['end_host', 'end_play', 'end_batch', 'clear_host_errors', 'clear_facts', 'reset_connection'].includes(what))
      reporter.taskResult(host, task, {
        status: 'skipped',
        result: {
          msg: `${what} conditional evaluated to false, continuing execution for ${host}`,
          skip_reason: `${what} conditional evaluated to False, continuing execution for ${host}`,
        },
        diff: [],
      });
    return undefined;
  }
  const h = env.state.host(host);
  // As Ansible: the fact cache goes, set_fact's values stay.
  if (what === 'clear_facts') h.found = { ansible_facts: {} };
  if (what === 'clear_host_errors')
    for (const other of env.allHosts ?? []) {
      const o = env.state.host(other);
      if (o.failed && !o.unreachable) o.failed = false;
    }
  return what;
}

/** group_by and add_host: their results change the run's inventory (the groups later plays select). */
function applyInventoryChanges(
  env: ExecEnv,
  host: string,
  task: TaskDef,
  result: Record<string, unknown>,
  _reporter: Reporter,
): void {
  if (task.module !== 'group_by' && task.module !== 'add_host') return;
  const each = Array.isArray(result.results) ? (result.results as Record<string, unknown>[]) : [result];
  for (const r of each) {
    if (r.skipped || r.failed) continue;
    if (task.module === 'group_by' && typeof r.add_group === 'string')
      env.state.addToGroup(host, r.add_group, (r.parent_groups as string[]) ?? ['all']);
    if (task.module === 'add_host' && r.add_host) {
      const a = r.add_host as { host_name: string; groups: string[]; host_vars: Record<string, unknown> };
      env.state.addHost(a.host_name, a.groups, a.host_vars);
    }
  }
}

/**
 * The play's handlers that can run: only a task of the play that notifies can have left one pending
 * (src/engine/runner/pending.ts), or one an include may bring in.
 */
const handlersOf = (play: PlayDef) =>
  play.handlers.length && everyTask(play.tasks).some((t) => t === undefined || t.notify.length) ? play.handlers : [];

/** `tasks` and those their includes were seen to bring in when loaded; undefined for an include not known until it runs. */
function everyTask(tasks: TaskDef[]): (TaskDef | undefined)[] {
  return tasks.flatMap((t) =>
    t.include ? (t.include.known ? [t, ...everyTask(t.include.known)] : [t, undefined]) : [t],
  );
}

/**
 * The first reads of every task of every play `host` is in, as far as the variables known now say —
 * and, given reads already fetched (`known`), what the tasks that only read will register (a home
 * directory from getent, say), so the reads that need it are known too.
 */
async function readsOfRun(
  base: Omit<ExecEnv, 'play' | 'playHosts'>,
  plays: PlayDef[],
  playHosts: string[][],
  host: string,
  from = 0,
  known?: Fetched,
): Promise<ReadRequest[]> {
  const out: ReadRequest[] = [];
  const ahead: Record<string, unknown> = {};
  const state = known ? withFactsAhead(base.state, host, ahead) : base.state;
  for (const [i, play] of plays.entries()) {
    if (i < from || !playHosts[i].includes(host)) continue;
    const env: ExecEnv = { ...base, state, play, playHosts: playHosts[i] };
    if (handlersOf(play).length) out.push(listPending(play));
    for (const task of play.tasks) {
      out.push(...((await firstReads(env, host, task, true)) ?? []));
      const result = known && task.register ? await resultFromReads(env, host, task, known) : undefined;
      if (result) ahead[task.register!] = markRaw(result);
    }
  }
  return out;
}

/** run_once: which host runs `task` — the first to ask — and its result. */
function onceOf(env: ExecEnv, task: TaskDef, host: string): Once | undefined {
  if (!task.runOnce || !env.once) return undefined;
  let o = env.once.get(task);
  if (!o) {
    let settle!: Once['settle'];
    const result = new Promise<TaskResult>((resolve) => (settle = resolve));
    o = { host, result, settle };
    env.once.set(task, o);
  }
  return o;
}

/** run_once: one host runs the task; the others take its result (and register it). */
async function runTaskOnce(
  env: ExecEnv,
  host: string,
  task: TaskDef,
  reporter: Reporter,
  reads: HostReads,
  blocks: BlockRun,
  readsAfter?: () => Promise<ReadRequest[]>,
): Promise<TaskResult> {
  if (!task.runOnce) return runTask(env, host, task, reporter, reads, undefined, blocks, readsAfter);
  const once = onceOf(env, task, host);
  if (!once || once.host === host) {
    const r = runTask(env, host, task, reporter, reads, undefined, blocks, readsAfter);
    once?.settle(r);
    return r;
  }
  const r = await once.result;
  if (task.register) env.state.host(host).facts[task.register] = markRaw(registeredResult(r, task.loop !== undefined));
  return { ...r, status: r.status === 'changed' ? 'ok' : r.status };
}

/** A failed task counted as Ansible counts it: its failure ignored, rescued by a block, or failing the host. */
function countFailure(
  env: ExecEnv,
  host: string,
  task: TaskDef,
  r: TaskResult,
  blocks: BlockRun | undefined,
  ignore: boolean,
): void {
  const h = env.state.host(host);
  const stat = env.state.stat(host);
  if (ignore) {
    r.ignored = true;
    stat.ignored++;
    stat.ok++;
    if (changedOf(r)) stat.changed++;
    return;
  }
  // In a block: rescued, or failing the host only after its always sections (src/engine/runner/blocks.ts).
  const caught = blocks && task.blocks.length ? blocks.failed(task) : 'fatal';
  // The rescue section sees what failed, as in Ansible.
  if (caught !== 'fatal')
    Object.assign(h.facts, {
      ansible_failed_task: { name: task.name, action: task.action ?? task.module },
      ansible_failed_result: r.result,
    });
  if (caught === 'rescued') stat.rescued++;
  else stat.failures++;
  if (caught === 'fatal') h.failed = true;
}

async function runTask(
  env: ExecEnv,
  host: string,
  task: TaskDef,
  reporter: Reporter,
  reads: HostReads,
  afterSteps?: OneCommand,
  blocks?: BlockRun,
  readsAfter?: () => Promise<ReadRequest[]>,
): Promise<TaskResult> {
  reporter.taskStart(host, task);
  const r = await executeTask(env, host, task, reads, afterSteps, readsAfter);
  if (task.diff !== undefined) r.showDiff = task.diff;
  const h = env.state.host(host);
  const stat = env.state.stat(host);
  if (task.register) h.facts[task.register] = markRaw(registeredResult(r, task.loop !== undefined));
  switch (r.status) {
    case 'unreachable':
      h.unreachable = true;
      stat.unreachable++;
      break;
    case 'failed':
      countFailure(env, host, task, r, blocks, Boolean(task.ignoreErrors));
      break;
    case 'skipped':
      stat.skipped++;
      break;
    default:
      stat.ok++;
      if (r.status === 'changed') stat.changed++;
  }
  reporter.taskResult(host, task, task.noLog ? censor(r) : r);
  return r;
}

/** Ansible's exit codes; hosts in `excused` (e.g. devices awaiting first contact) don't count. */
export function exitCodeFor(state: RunState, excused: ReadonlySet<string> = new Set()): number {
  const stats = [...state.stats].filter(([h]) => !excused.has(h)).map(([, s]) => s);
  if (stats.some((s) => s.failures > 0)) return 2;
  if (stats.some((s) => s.unreachable > 0)) return 4;
  return 0;
}

export type { PlayDef };
