// Plays run in order; in a play every host runs its tasks in order, hosts in parallel (--forks).
// A failed or unreachable host stops; the others go on. Handlers run once per host at the play's end.
import { InputError } from '../util/errors.js';
import { runAlone, type OneCommand, type ReadRequest } from '../connection/batch.js';
import type { Connection, Held } from '../connection/types.js';
import type { Inventory } from '../inventory/index.js';
import { selectHosts } from '../inventory/index.js';
import type { Reporter } from './reporter.js';
import type { Playbook, PlayDef, TaskDef } from '../playbook/types.js';
import { Connections } from './connections.js';
import type { Extensions } from './extensions.js';
import { executeTask, firstReads, resultFromReads, type ExecEnv } from './execute.js';
import { HostReads } from './reads.js';
import { ReadCache } from './read-cache.js';
import { EarlyReads, type Fetched } from './early-reads.js';
import { BlockRun } from './blocks.js';
import { markRaw } from '../template/expr.js';
import { clearStep, listPending, notifies, pendingKey } from './pending.js';
import { preflight } from './preflight.js';
import { takeLock, type LockSpec } from './lock.js';
import { censor, changedOf, type TaskResult } from './result.js';
import { RunState, withFactsAhead } from './state.js';
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
}

/** Runs `items` through `fn` with at most `limit` at a time. */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

export function limitHosts(inv: Inventory, limit: string | undefined): Set<string> | undefined {
  if (!limit) return undefined;
  try {
    return new Set(selectHosts(inv, limit));
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`--limit ${limit}: ${e.message}`, undefined, e.hint);
    throw e;
  }
}

export async function runPlaybook(
  pb: Playbook,
  inv: Inventory,
  opts: RunnerOptions,
  reporter: Reporter,
): Promise<RunState> {
  const limited = limitHosts(inv, opts.limit);
  const playHosts = pb.plays.map((play) =>
    selectHosts(inv, play.hosts, play.hostsPos).filter((h) => !limited || limited.has(h)),
  );
  preflight(pb, inv, playHosts, opts.extensions.modules);
  trace('preflight done; connecting');

  const state = new RunState(inv);
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
    for (const lock of opts.locks ?? []) {
      // An unreachable lock host is left for its play to report.
      const conn = await connection(lock.host).catch(() => undefined);
      const h = conn && (await takeLock(conn, lock, (m) => process.stderr.write(m + '\n')));
      if (h) held.push(h);
      trace(`lock taken on ${lock.host}`);
    }
    // Read each host for all its plays as soon as it is connected.
    for (const [host, wanted] of firstWanted)
      early.send(
        host,
        () => connection(host),
        (known) => (known ? readsOfRun(base, pb.plays, playHosts, host, 0, known) : wanted),
      );
    for (const [i, play] of pb.plays.entries()) {
      const hosts = playHosts[i].filter((h) => !state.host(h).failed && !state.host(h).unreachable);
      trace(`play ${play.name}`);
      reporter.playStart(play, hosts);
      cache.startPlay(i);
      const env: ExecEnv = {
        state,
        cache,
        modules: opts.extensions.modules,
        play,
        playHosts: hosts,
        check: opts.check,
        diff: opts.diff,
        playbookDir: pb.dir,
        connection,
        connections,
        once: new Map(),
      };
      await forEachLimited(hosts, opts.forks, async (host) => {
        await runHostPlay(env, host, reporter);
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
      await reporter.playEnd(play);
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

async function runHostPlay(env: ExecEnv, host: string, reporter: Reporter): Promise<void> {
  const notified = new Set<string>();
  const handlers = handlersOf(env.play);
  // The play's look-ahead; what is still good to use is the run's cache's to say (./read-cache.ts).
  const pendingRead = listPending(env.play);
  const reads = new HostReads(host, () => env.connection(host), env.cache, handlers.length ? [pendingRead] : []);
  const tasks = env.play.tasks;
  const blocks = new BlockRun();
  const h = env.state.host(host);
  for (const [i, task] of tasks.entries()) {
    if (blocks.runs(task)) {
      const wants = (k: number) => firstReads(env, host, tasks[k]);
      await reads.lookAhead(i, tasks.length, wants);
      // A task that changes the host reads for the next ones after its steps, in the same trip.
      const readsAfter = task.loop === undefined ? () => reads.readsAfterSteps(i + 1, tasks.length, wants) : undefined;
      const r = await runTaskOnce(env, host, task, reporter, reads, blocks, readsAfter);
      if (r.status === 'changed') {
        task.notify.forEach((n) => notified.add(n));
        reads.slowDown();
      }
      if (h.failed || h.unreachable) return;
    }
    // A failure no rescue caught fails the host once the always sections it is in have run.
    if (blocks.due(tasks[i + 1])) {
      h.failed = true;
      return;
    }
  }
  if (!handlers.length) return;
  // Handlers an interrupted run notified but never ran (src/engine/runner/pending.ts).
  const [listed] = await reads.read([pendingRead]).catch(() => [undefined]);
  const pending = new Set(listed?.stdout.split('\n') ?? []);
  for (const handler of handlers) {
    const key = pendingKey(env.play, handler);
    if (!notifies(notified, handler) && !pending.has(key)) continue;
    const clear = clearStep(env.play, key);
    const r = await runTask(env, host, handler, reporter, reads, clear);
    if (env.state.host(host).failed || env.state.host(host).unreachable) return;
    // A handler with nothing to do (or that ran its steps without the marker) clears it on its own.
    if (!env.check && r.status !== 'failed' && !r.pendingCleared) {
      env.cache.changed(host);
      await runAlone(await env.connection(host), clear).catch(() => undefined);
    }
  }
}

/** The play's handlers that can run: only a task of the play that notifies can have left one pending (src/engine/runner/pending.ts). */
const handlersOf = (play: PlayDef) => (play.tasks.some((t) => t.notify.length) ? play.handlers : []);

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

/** run_once: the first host to reach the task runs it; the others take its result (and register it). */
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
  const first = env.once?.get(task);
  if (!first) {
    const r = runTask(env, host, task, reporter, reads, undefined, blocks, readsAfter);
    env.once?.set(task, r);
    return r;
  }
  const r = await first;
  if (task.register) env.state.host(host).facts[task.register] = markRaw(r.result);
  return { ...r, status: r.status === 'changed' ? 'ok' : r.status };
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
  const h = env.state.host(host);
  const stat = env.state.stat(host);
  if (task.register) h.facts[task.register] = markRaw(r.result);
  switch (r.status) {
    case 'unreachable':
      h.unreachable = true;
      stat.unreachable++;
      break;
    case 'failed':
      if (task.ignoreErrors) {
        r.ignored = true;
        stat.ignored++;
        stat.ok++;
        if (changedOf(r)) stat.changed++;
      } else {
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
