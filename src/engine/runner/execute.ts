// Run one task on one host: conditions, loop, plan, and (unless --check) apply.
import { relative, isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import { TaskFailure, UnreachableError } from '../util/errors.js';
import type { Connection, RunResult } from '../connection/types.js';
import { ansibleBool } from '../util/bool.js';
import { argProblems } from '../modules/args.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { ConfirmContext, Facts, Module, Plan, PlanContext, Read } from '../modules/types.js';
import { RAW, evalExpr, markRaw, parseExpr, resolveValue, scopeOf, truthy } from '../template/expr.js';
import { TemplateError, renderDeep, renderTemplateText } from '../template/jinja.js';
import { UndefinedVarError } from '../template/values.js';
import { handlebarsRootNames, renderHandlebars } from '../template/handlebars.js';
import type { TaskDef } from '../playbook/types.js';
import { changedOf, type TaskResult } from './result.js';
import { readKey, runAlone, type OneCommand, type ReadRequest } from '../connection/batch.js';
import type { ReadCache } from './read-cache.js';
import { LocalConnection } from '../connection/local.js';
import type { HostReads } from './reads.js';
import { handlersFor, markStep, pendingKey } from './pending.js';
import { applyStepsThenRead } from './steps.js';
import type { Fetched } from './early-reads.js';
import type { RunState } from './state.js';
import type { Connections } from './connections.js';
import { taskVars, type VarsContext } from './vars.js';
import { trace } from '../util/trace.js';
import { loopItemsOf } from './loops.js';
import type { Lockstep, PlayControl } from './control.js';
import { shq } from '../util/quote.js';

/** A run_once task: the host that runs it, and its result once it has. */
export interface Once {
  host: string;
  result: Promise<TaskResult>;
  settle(r: Promise<TaskResult>): void;
}

export interface ExecEnv extends VarsContext {
  state: RunState;
  modules: ModuleRegistry;
  /** Every read of the run, and what is still good (./read-cache.ts). */
  cache: ReadCache;
  connection(host: string): Promise<Connection>;
  connections?: Connections;
  /** run_once tasks of this play: the host that runs each, and its result, shared with the others. */
  once?: Map<TaskDef, Once>;
  /** What ends the play early for every host (./play.ts). */
  control?: PlayControl;
  /** strategy: linear (./play.ts). */
  lockstep?: Lockstep;
  /** Every host of the play (all batches). */
  allHosts?: string[];
}

type Vars = Record<string, unknown>;

/** `env` as `task` sees it: check_mode: false runs it for real under --check, check_mode: true never changes anything. */
const withCheckMode = (env: ExecEnv, task: TaskDef): ExecEnv =>
  task.checkMode === undefined ? env : { ...env, check: task.checkMode };

/** What a task registers from its plan (before any fields its steps' outputs add). */
const registered = (plan: Plan): Record<string, unknown> => ({
  ...plan.result,
  changed: plan.changed,
  ...(plan.msg ? { msg: plan.msg } : {}),
});

export function evalCondition(text: string, vars: Vars): boolean {
  return truthy(evalExpr(parseExpr(text), vars));
}

/**
 * `afterSteps`: run right after the task's steps succeed, in the same round trip (a handler clearing its
 * pending marker). `readsAfter`: the reads of the tasks after this one, fetched in that trip too.
 */
export async function executeTask(
  env0: ExecEnv,
  host: string,
  task: TaskDef,
  reads: HostReads,
  afterSteps?: OneCommand,
  readsAfter?: () => Promise<ReadRequest[]>,
): Promise<TaskResult> {
  const env = withCheckMode(env0, task);
  try {
    const vars = taskVars(env, host, task);
    if (task.loop === undefined) {
      const skip = falseCondition(task, vars);
      if (skip) return skipped(skip);
      return await runRetried(env, host, task, vars, reads, afterSteps, readsAfter);
    }
    // As Ansible: the condition is asked for each item, a failed item does not stop the others.
    const results: Record<string, unknown>[] = [];
    const diff = [];
    let changed = false;
    let failed = false;
    const items = loopItems(task, vars, env.playbookDir);
    if (!items.length) return noItems();
    for (const [i, item] of items.entries()) {
      const v = itemVars(task, vars, item, i, items);
      const cond = falseCondition(task, v);
      const r = cond ? skipped(cond) : await runRetried(env, host, task, v, reads);
      const { loopVar } = task.loopControl;
      results.push({
        ...r.result,
        [loopVar]: item,
        ansible_loop_var: loopVar,
        ...(task.loopControl.indexVar
          ? { [task.loopControl.indexVar]: i, ansible_index_var: task.loopControl.indexVar }
          : {}),
        ...(task.loopControl.extended ? { ansible_loop: loopInfo(i, items) } : {}),
        changed: changedOf(r),
        // A skipped item's result says only that it was skipped, as Ansible's.
        ...(r.status === 'skipped' ? {} : { failed: r.status === 'failed' }),
      });
      diff.push(...r.diff);
      changed ||= changedOf(r);
      failed ||= r.status === 'failed';
      if (r.status === 'unreachable') return r;
      if (task.loopControl.pause && i < items.length - 1)
        await new Promise((res) => setTimeout(res, task.loopControl.pause! * 1000));
    }
    const all = results.every((r) => r.skipped);
    const result: Record<string, unknown> = {
      results,
      changed,
      msg: failed ? 'One or more items failed' : all ? 'All items skipped' : 'All items completed',
      // Ansible registers whether every item was skipped (its callbacks show it only then).
      skipped: all,
    };
    if (failed) result.failed = true;
    return {
      status: failed ? 'failed' : all ? 'skipped' : changed ? 'changed' : 'ok',
      result,
      diff,
      msg: failed ? 'One or more items failed' : undefined,
    };
  } catch (e) {
    return failure(host, e);
  }
}

// ansible-core 2.14 says which condition was false only in its text output (2.15 adds false_condition).
const skipped = (_cond: string): TaskResult => ({
  status: 'skipped',
  result: { skipped: true, skip_reason: 'Conditional result was False' },
  diff: [],
});

/** The first `when` condition that is false, if any. */
export function falseCondition(task: TaskDef, vars: Vars): string | undefined {
  return task.when.find((cond) => !checkCondition(cond, vars));
}

/** Where an undefined variable stopped a template: its path ("x", "x.y"), when that is what went wrong. */
function undefinedPath(e: unknown): string | undefined {
  if (e instanceof UndefinedVarError) return e.varName;
  if (e instanceof TemplateError) return e.undefinedName;
  return undefined;
}

/** Jinja's words for an undefined variable (`'x' is undefined`) or attribute (`'dict object' has no attribute 'y'`). */
function undefinedWords(path: string, vars?: Vars): string {
  // `x.y` with no `x` at all: Jinja stops at `x`.
  const root = /^[A-Za-z_][A-Za-z0-9_]*/.exec(path)?.[0];
  if (root && root !== path && vars && !(root in vars)) path = root;
  const m = /^(.*?)(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[['"]?([^'"\]]*)['"]?\])$/.exec(path);
  const e = m ? `'dict object' has no attribute '${m[2] ?? m[3]}'` : `'${path}' is undefined`;
  return `${e}. ${e}`;
}

/** A condition, evaluated; a failure to evaluate it is Ansible's "conditional check failed". */
function checkCondition(cond: string, vars: Vars): boolean {
  try {
    return evalCondition(cond, vars);
  } catch (e) {
    throw new TaskFailure(conditionError(cond, e, vars));
  }
}

function conditionError(cond: string, e: unknown, vars?: Vars): string {
  const path = undefinedPath(e);
  const why = path ? undefinedWords(path, vars) : (e as Error).message;
  return `The conditional check '${cond}' failed. The error was: error while evaluating conditional (${cond}): ${why}`;
}

/** A task's arguments rendered; an undefined variable in them is Ansible's "option with an undefined variable". */
export function renderArgs(args: unknown, vars: Vars): Record<string, unknown> {
  try {
    return renderDeep(args, vars) as Record<string, unknown>;
  } catch (e) {
    const path = undefinedPath(e);
    if (path)
      throw new TaskFailure(
        `The task includes an option with an undefined variable. The error was: ${undefinedWords(path, vars)}`,
      );
    throw e;
  }
}

/** A loop over no items, as Ansible's task executor reports it: skipped, the condition never asked. */
export function noItems(): TaskResult {
  return {
    status: 'skipped',
    result: { changed: false, skipped: true, skipped_reason: 'No items in the list', results: [] },
    diff: [],
  };
}

/** A loop's items: `loop` as rendered, or the `with_*` lookup's items (./loops.ts). */
export function loopItems(task: TaskDef, vars: Vars, playbookDir = ''): unknown[] {
  let v: unknown;
  try {
    v = renderDeep(task.loop, vars);
  } catch (e) {
    const path = undefinedPath(e);
    if (path) throw new TaskFailure(undefinedWords(path, vars));
    throw e;
  }
  const dirs = [
    ...(task.role ? [join(task.role.dir, 'files'), task.role.dir] : []),
    ...(playbookDir ? [join(playbookDir, 'files'), playbookDir] : []),
  ];
  return loopItemsOf(task.loopWith, v, dirs);
}

/** Variables of one loop item: the loop variable (loop_control.loop_var), index_var, ansible_loop (extended). */
export function itemVars(task: TaskDef, vars: Vars, item: unknown, i: number, items: unknown[]): Vars {
  const lc = task.loopControl;
  // A loop item was rendered with the loop: it is data from then on.
  const raw = new Set([
    ...(((vars as Record<symbol, unknown>)[RAW] as Set<string> | undefined) ?? []),
    lc.loopVar,
    ...(lc.indexVar ? [lc.indexVar] : []),
  ]);
  const v: Vars = { ...vars, [RAW]: raw, [lc.loopVar]: item, ansible_loop_var: lc.loopVar };
  if (lc.indexVar) v[lc.indexVar] = i;
  if (lc.extended) v.ansible_loop = loopInfo(i, items);
  return v;
}

/** `ansible_loop` (loop_control.extended): where item `i` is in the loop. */
export function loopInfo(i: number, items: unknown[]): Record<string, unknown> {
  return {
    allitems: items,
    first: i === 0,
    index: i + 1,
    index0: i,
    last: i === items.length - 1,
    length: items.length,
    revindex: items.length - i,
    revindex0: items.length - i - 1,
    ...(i > 0 ? { previtem: items[i - 1] } : {}),
    ...(i < items.length - 1 ? { nextitem: items[i + 1] } : {}),
  };
}

let local: LocalConnection | undefined;
const localConnection = () => (local ??= new LocalConnection('localhost'));

export function failure(host: string, e: unknown): TaskResult {
  if (e instanceof UnreachableError)
    return { status: 'unreachable', result: { unreachable: true, msg: e.message }, diff: [], msg: e.message };
  const msg = e instanceof Error ? e.message : String(e);
  const extra = e instanceof TaskFailure ? e.result : {};
  return { status: 'failed', result: { ...extra, failed: true, msg }, diff: [], msg };
}

function planContext(env: ExecEnv, host: string, task: TaskDef, vars: Vars): PlanContext {
  return {
    host,
    check: env.check,
    diff: task.diff ?? env.diff,
    become: becomeOf(env, task, vars).become,
    via: env.connections?.via(host),
    resolveLocal: (path, kind) => resolveLocal(env, task, path, kind),
    render: (text, file) => renderTemplateText(text, vars, file),
    renderHandlebars: (text) => String(renderHandlebars(text, resolvedFor(handlebarsRootNames(text), vars))),
    evaluate: (expr) => evalExpr(parseExpr(expr), vars),
  };
}

/** Handlebars knows nothing of variables holding Jinja templates: render those it will use first. */
function resolvedFor(names: string[], vars: Vars): Vars {
  const scope = scopeOf(vars);
  const out = { ...vars };
  for (const n of names) if (Object.hasOwn(vars, n)) out[n] = resolveValue(vars[n], scope, n);
  return out;
}

/** As Ansible: the task's become, else the play's, else the host's ansible_become (checked by preflight). */
function becomeOf(env: ExecEnv, task: TaskDef, vars: Vars): { become: boolean; becomeUser?: string } {
  return {
    become: task.become ?? env.play.become ?? ansibleBool(vars.ansible_become) ?? false,
    becomeUser: task.becomeUser ?? env.play.becomeUser ?? (vars.ansible_become_user as string | undefined),
  };
}

function decided(cond: string, vars: Vars): boolean | undefined {
  try {
    return evalCondition(cond, vars);
  } catch {
    return undefined;
  }
}

/**
 * What `task` will read first on `host` (for each loop item), as its module declares it for the
 * arguments as the variables known now render them. Undefined when that can't be known yet (an
 * argument needs an earlier task's result): the task then reads for itself. Never reads anything.
 *
 * `speculative` (reads sent before the plays, src/engine/runner/early-reads.ts): an argument that can't
 * be rendered yet is left as written, since many modules' reads don't depend on every argument. A read
 * that names such an argument (its template text shows in the command) is dropped; one that uses it
 * unseen reads something that will not be asked for — wasted, never wrong, as reads change nothing. A
 * condition that is false already is honoured all the same (a skipped task's read may be large or slow
 * for nothing), though a fact set by a later play could make it true: that task then reads for itself.
 */
export async function firstReads(
  env0: ExecEnv,
  host: string,
  task: TaskDef,
  speculative = false,
): Promise<ReadRequest[] | undefined> {
  // A delegated task reads where it runs, not on the host; one with an environment reads with it. An
  // include reads nothing: the tasks it brings in are looked at once it has run.
  if (task.delegateTo !== undefined || task.environment.length || task.include) return [];
  const env = withCheckMode(env0, task);
  try {
    const vars = taskVars(env, host, task);
    const items = task.loop === undefined ? [undefined] : loopItems(task, vars, env.playbookDir);
    const mod = env.modules.get(task.module)!;
    const reqs: ReadRequest[] = [];
    for (const [i, item] of items.entries()) {
      const v = task.loop === undefined ? vars : itemVars(task, vars, item, i, items);
      // A condition on an earlier task's result can't be decided yet: fetch the read anyway (it is
      // only wasted if the task turns out skipped). One that is already false needs no read.
      if (task.when.some((cond) => decided(cond, v) === false)) continue;
      const args = speculative
        ? renderEach(task.args as Record<string, unknown>, v)
        : (renderDeep(task.args, v) as Record<string, unknown>);
      if (!speculative && argProblems(mod, task.module, args).length) return undefined;
      const named = readRequests(mod, args, planContext(env, host, task, v), becomeOf(env, task, v), {});
      // A read naming an argument left as written would read something nobody will ask for.
      reqs.push(...named.map(([, r]) => r).filter((r) => !(speculative && /\{\{|\{%/.test(r.command))));
    }
    return reqs;
  } catch {
    return undefined;
  }
}

/** The reads `mod` names for `args`, given those already fetched (`got`), as requests run as `as` says. */
function readRequests(
  mod: Module,
  args: Record<string, unknown>,
  ctx: PlanContext,
  as: { become: boolean; becomeUser?: string },
  got: Partial<Facts>,
): [string, ReadRequest][] {
  const reads = Object.entries(mod.reads?.(args, ctx, got) ?? {}).filter(
    (e): e is [string, Read] => e[1] !== undefined && !(e[0] in got),
  );
  return reads.map(([name, r]) => [
    name,
    { command: r.command, become: r.become ?? as.become, becomeUser: r.become === false ? undefined : as.becomeUser },
  ]);
}

/** A module that keeps naming new reads is a bug: a bound on the rounds. */
const MAX_READ_ROUNDS = 8;

/** Everything `mod` reads for `args`, fetched by `fetch` (round after round, while it names new ones). */
export async function gather(
  mod: Module,
  args: Record<string, unknown>,
  ctx: PlanContext,
  as: { become: boolean; becomeUser?: string },
  fetch: (reqs: ReadRequest[]) => Promise<RunResult[]>,
): Promise<Facts> {
  const got: Record<string, RunResult> = {};
  for (let round = 0; round < MAX_READ_ROUNDS; round++) {
    const wanted = readRequests(mod, args, ctx, as, got);
    if (!wanted.length) return got;
    const results = await fetch(wanted.map(([, r]) => r));
    wanted.forEach(([name], i) => (got[name] = results[i]));
  }
  throw new Error(`the module still names new reads after ${MAX_READ_ROUNDS} rounds`);
}

/** Thrown by resultFromReads' fetch: a read that was not fetched. */
class NotFetched {}

/**
 * What `task` will register on `host`, worked out from reads already fetched (`known`) — for a module
 * that only reads (Module.readOnly), run once (no loop, not delegated, no changed_when/failed_when),
 * whose condition is already true. Undefined otherwise, or when a read it makes is not in `known`.
 * Only for finding the reads of the tasks that need it (src/engine/runner/early-reads.ts): the task
 * itself still runs, and registers, in its play.
 */
export async function resultFromReads(
  env0: ExecEnv,
  host: string,
  task: TaskDef,
  known: Fetched,
): Promise<Record<string, unknown> | undefined> {
  const mod = env0.modules.get(task.module);
  if (
    !mod?.readOnly ||
    task.loop !== undefined ||
    task.delegateTo !== undefined ||
    task.environment.length ||
    task.until ||
    task.changedWhen ||
    task.failedWhen
  )
    return undefined;
  const env = withCheckMode(env0, task);
  try {
    const vars = taskVars(env, host, task);
    if (!task.when.every((cond) => decided(cond, vars) === true)) return undefined;
    const args = renderDeep(task.args, vars) as Record<string, unknown>;
    if (argProblems(mod, task.module, args).length) return undefined;
    const ctx = planContext(env, host, task, vars);
    const facts = await gather(mod, args, ctx, becomeOf(env, task, vars), async (reqs) =>
      reqs.map((r) => {
        const hit = known.get(readKey(r));
        if (!hit) throw new NotFetched();
        return hit;
      }),
    );
    const plan = await mod.plan(args, ctx, facts);
    if (plan.failed || plan.skipped || plan.steps.length) return undefined;
    return { ...registered(plan), failed: false };
  } catch {
    return undefined;
  }
}

/** Each argument rendered on its own; one that can't be yet stays as written. */
function renderEach(args: Record<string, unknown>, vars: Vars): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    try {
      out[k] = renderDeep(v, vars);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** `until`: the task again (after `delay` seconds) until the condition holds, at most `retries` times (3). */
async function runRetried(
  env: ExecEnv,
  host: string,
  task: TaskDef,
  vars: Vars,
  reads: HostReads,
  afterSteps?: OneCommand,
  readsAfter?: () => Promise<ReadRequest[]>,
): Promise<TaskResult> {
  if (!task.until) return runOnce(env, host, task, vars, reads, afterSteps, readsAfter);
  const attempts = Math.max(1, task.retries ?? 3);
  let r: TaskResult | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    r = await runOnce(env, host, task, vars, reads, attempt === attempts ? afterSteps : undefined);
    if (r.status === 'unreachable') return r;
    r.result.attempts = attempt;
    const rvars = { ...vars, ...(task.register ? { [task.register]: r.result } : {}) };
    const done = task.until.every((c) => evalCondition(c, rvars));
    if (done) return r;
    if (attempt === attempts) {
      r.result.failed = true;
      return { ...r, status: 'failed', msg: String(r.result.msg ?? '') || 'Retried until the condition held, in vain' };
    }
    if (task.delay ?? 5) await new Promise((res) => setTimeout(res, (task.delay ?? 5) * 1000));
  }
  return r!;
}

/** `environment:` of the play, blocks and task, rendered and merged (later levels win). */
function environmentOf(task: TaskDef, vars: Vars): Record<string, string> {
  const out: Record<string, string> = {};
  for (const level of task.environment) {
    const v = renderDeep(level, vars);
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'object' || Array.isArray(v))
      throw new TaskFailure("The field 'environment' has an invalid value, which includes an undefined variable.");
    for (const [k, x] of Object.entries(v)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TaskFailure(`invalid environment variable name "${k}"`);
      out[k] = x === null || x === undefined ? '' : typeof x === 'boolean' ? (x ? 'True' : 'False') : String(x);
    }
  }
  return out;
}

/** A command run with `environment:` set: exported in its own shell first. */
const withEnvironment = (env: Record<string, string>, command: string): string =>
  Object.keys(env).length
    ? `${Object.entries(env)
        .map(([k, v]) => `export ${k}=${shq(v)}`)
        .join('; ')}; ${command}`
    : command;

/** Names this machine goes by: `delegate_to` one of these (not in the inventory) runs the task here. */
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * Where `task` runs for `host`: the host itself, or the host `delegate_to` names (rendered with the
 * host's variables): another inventory host through its own connection, or this machine.
 */
function delegationOf(env: ExecEnv, host: string, task: TaskDef, vars: Vars): { to?: string; local: boolean } {
  if (task.delegateTo === undefined) return { local: false };
  const to = String(renderDeep(task.delegateTo, vars));
  if (to === host) return { local: false };
  if (env.state.inventory.hosts.has(to)) {
    const c = env.state.inventory.hosts.get(to)!.vars.ansible_connection;
    return { to, local: c === 'local' };
  }
  if (LOCAL_NAMES.has(to)) return { to, local: true };
  throw new TaskFailure(`delegate_to: "${to}" is not a host of the inventory`);
}

async function runOnce(
  env: ExecEnv,
  host: string,
  task: TaskDef,
  vars: Vars,
  reads: HostReads,
  afterSteps?: OneCommand,
  readsAfter?: () => Promise<ReadRequest[]>,
): Promise<TaskResult> {
  const mod = env.modules.get(task.module)!;
  const args = renderArgs(task.args, vars);
  const problems = argProblems(mod, task.module, args);
  if (problems.length) throw new TaskFailure(problems[0].message);

  const { become, becomeUser } = becomeOf(env, task, vars);
  const environment = environmentOf(task, vars);
  // delegate_to: another host (its connection) or this machine, with this host's variables; the
  // reads of a delegated task never join this host's.
  const delegation = delegationOf(env, host, task, vars);
  const delegated = delegation.to !== undefined;
  const conn = delegation.local ? localConnection() : await env.connection(delegation.to ?? host);
  const changes = delegation.local ? undefined : (delegation.to ?? host);
  const plainFetch = !delegated && !Object.keys(environment).length;
  const fetch = plainFetch
    ? (reqs: ReadRequest[]) => reads.read(reqs)
    : (reqs: ReadRequest[]) =>
        Promise.all(reqs.map((r) => runAlone(conn, { ...r, command: withEnvironment(environment, r.command) })));
  // The module sees how the task's own connection goes (a delegated task's: this machine, or that host's).
  const ctx = { ...planContext(env, host, task, vars), via: conn.via };
  // A confirm step reaches the host the steps ran on again (a delegated reboot waits for that host).
  const confirmOn = delegation.local ? host : (delegation.to ?? host);

  let plan: Plan;
  try {
    plan = await mod.plan(args, ctx, await gather(mod, args, ctx, { become, becomeUser }, fetch));
  } catch (e) {
    if (e instanceof UnreachableError) throw e;
    throw new TaskFailure((e as Error).message);
  }
  if (plan.failed)
    return {
      status: 'failed',
      // As Ansible's task executor: a module's result that does not say it changed something did not.
      // A msg the result has (assert's or fail's, as given: a list stays one) is the result's msg.
      result: { changed: false, msg: plan.failed, ...plan.result, failed: true },
      diff: plan.diff ?? [],
      msg: plan.failed,
    };
  if (plan.skipped) return { status: 'skipped', result: { ...plan.result, skipped: true, msg: plan.msg }, diff: [] };

  const result = registered(plan);
  let pendingCleared = false;
  // In check mode, only steps that change nothing run (Plan.runInCheck).
  const probing = env.check && plan.runInCheck === true;
  if ((!env.check || probing) && plan.steps.length) {
    // A task delegated to this machine changes no host's reads; one delegated to another host, that host's.
    if (!probing) env.cache.changed(changes);
    if (!delegated && !probing) reads.stale();
    // What the next tasks read, read in the same trip once these steps are done — not after a change
    // that a confirm step completes (it changes the host again).
    const follow = !delegated && !probing && !plan.confirm && readsAfter ? await readsAfter() : [];
    const commands = plan.steps.map((s) => ({
      command: withEnvironment(environment, s.command),
      stdin: s.stdin,
      become: s.become ?? become,
      becomeUser,
    }));
    // Handlers this change will notify: marked on the host first, in the same round trip (not from
    // a delegated task: its steps run elsewhere).
    const notified =
      plan.changed && !delegated && !probing
        ? handlersFor(env.play, task.notify).map((h) => pendingKey(env.play, h))
        : [];
    // After the steps only when a failing step stops the trip and nothing else decides failure later.
    const after = afterSteps && !probing && !plan.acceptNonZero && !task.failedWhen && !delegated ? [afterSteps] : [];
    const { outputs, read } = await applyStepsThenRead(
      conn,
      [...(notified.length ? [markStep(env.play, notified)] : []), ...commands, ...after],
      !plan.acceptNonZero,
      follow,
    );
    if (read) {
      trace(`${host}: ${follow.length} reads after the steps of "${task.name}", in their round trip`);
      reads.took(follow, read);
    }
    if (notified.length) outputs.shift();
    if (after.length && outputs.length > commands.length) {
      outputs.pop();
      pendingCleared = true;
    }
    const last = outputs[outputs.length - 1];
    if (!plan.acceptNonZero && last && last.code !== 0) {
      const step = plan.steps[outputs.length - 1];
      throw new TaskFailure(`${step.describe} failed (exit ${last.code}): ${last.stderr.trim() || last.stdout.trim()}`);
    }
    if (plan.finish) Object.assign(result, plan.finish(outputs));
    if (plan.confirm) await confirmChange(env, confirmOn, plan.confirm, outputs, become, result);
  } else if (!env.check && plan.confirm) {
    env.cache.changed(confirmOn);
    await confirmChange(env, confirmOn, plan.confirm, [], become, result);
  }
  // delegate_facts: what the task gathers or sets belongs to the host it was delegated to.
  if (plan.facts)
    applyFacts(
      env.state,
      task.delegateFacts && delegation.to && plan.facts[host] ? { [delegation.to]: plan.facts[host] } : plan.facts,
      plan.factsFound,
    );

  if (plan.includedVars) Object.assign(env.state.host(host).includedVars, plan.includedVars);

  // changed_when / failed_when see the result under its register name and as `result`.
  const rvars = { ...vars, result, ...(task.register ? { [task.register]: result } : {}) };
  // A list of conditions holds when every one does, as Ansible reads `when`, changed_when and failed_when.
  if (task.changedWhen) result.changed = task.changedWhen.every((c) => checkCondition(c, rvars));
  let failed = Boolean(result.failed);
  if (task.failedWhen) {
    // As Ansible: the result says what failed_when made of it (or why it could not be evaluated).
    let verdict: boolean | string;
    try {
      verdict = task.failedWhen.every((c) => evalCondition(c, rvars));
    } catch (e) {
      const bad = task.failedWhen.find((c) => {
        try {
          evalCondition(c, rvars);
          return false;
        } catch {
          return true;
        }
      });
      verdict = conditionError(bad ?? task.failedWhen[0], e, rvars);
    }
    failed = verdict !== false;
    result.failed_when_result = verdict;
    if (failed) result.failed = true;
    else delete result.failed;
  }
  // A failed_when on a clean result has no msg or stderr of its own: say which condition failed it.
  const why = task.failedWhen ? `failed_when condition is true: ${task.failedWhen.join(' or ')}` : 'failed';
  const msg = failed ? String(result.msg || result.stderr || why) : undefined;
  return {
    status: failed ? 'failed' : result.changed ? 'changed' : 'ok',
    result,
    diff: plan.diff ?? [],
    msg,
    pendingCleared,
  };
}

/** A plan's confirm step (a change that may cut our own connection): its failure fails the task. */
async function confirmChange(
  env: ExecEnv,
  host: string,
  confirm: NonNullable<Plan['confirm']>,
  outputs: RunResult[],
  become: boolean,
  result: Record<string, unknown>,
): Promise<void> {
  const conns = env.connections;
  const via = conns?.via(host) ?? (await env.connection(host)).via;
  const ctx: ConfirmContext = {
    host,
    via,
    run: async (command) => (await env.connection(host)).run(command, { become }),
    probe: (through) =>
      conns ? conns.probe(host, through) : Promise.reject(new Error(`${host} has no route to probe`)),
    adopt: async (conn) => conns?.replace(host, conn),
    reconnect: async (deadline, connectTimeoutMs) =>
      void (await conns?.reconnect(host, deadline, undefined, connectTimeoutMs)),
  };
  const done = await confirm(ctx, outputs);
  Object.assign(result, done.result ?? {});
  if (done.failed) throw new TaskFailure(done.failed, result);
}

function applyFacts(state: RunState, facts: Record<string, Record<string, unknown>>, cached?: boolean): void {
  for (const [h, values] of Object.entries(facts)) {
    if (!state.hosts.has(h)) continue;
    if (!cached) {
      Object.assign(state.host(h).facts, markRaw(values));
      continue;
    }
    // As Ansible's fact cache: each fact a variable of its own, and in ansible_facts without `ansible_`.
    const found = state.host(h).found;
    const { ansible_facts: all, ...each } = values as { ansible_facts?: Record<string, unknown> };
    const named = Object.fromEntries(Object.entries(each).map(([k, v]) => [k.replace(/^ansible_/, ''), v]));
    Object.assign(found, markRaw(each), {
      ansible_facts: markRaw({ ...(found.ansible_facts as object), ...all, ...named }),
    });
  }
}

function resolveLocal(env: ExecEnv, task: TaskDef, path: string, kind: 'files' | 'templates' | 'vars'): string {
  if (isAbsolute(path)) return path;
  const candidates = [
    ...(task.role ? [join(task.role.dir, kind, path), join(task.role.dir, path)] : []),
    join(env.playbookDir, kind, path),
    join(env.playbookDir, path),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new TaskFailure(
      `could not find ${kind} file "${path}" (looked in ${candidates.map((c) => relative(process.cwd(), c)).join(', ')})`,
    );
  return found;
}
