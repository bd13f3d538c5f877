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
import { renderDeep, renderTemplateText } from '../template/jinja.js';
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

export interface ExecEnv extends VarsContext {
  state: RunState;
  modules: ModuleRegistry;
  /** Every read of the run, and what is still good (./read-cache.ts). */
  cache: ReadCache;
  connection(host: string): Promise<Connection>;
  connections?: Connections;
  /** run_once tasks of this play: the first host's result, shared with the others. */
  once?: Map<TaskDef, Promise<TaskResult>>;
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
      return await runOnce(env, host, task, vars, reads, afterSteps, readsAfter);
    }
    // As Ansible: the condition is asked for each item, a failed item does not stop the others.
    const results: Record<string, unknown>[] = [];
    const diff = [];
    let changed = false;
    let failed = false;
    const items = loopItems(task, vars);
    for (const [i, item] of items.entries()) {
      const v = itemVars(task, vars, item, i, items);
      const cond = falseCondition(task, v);
      const r = cond ? skipped(cond) : await runOnce(env, host, task, v, reads);
      const { loopVar } = task.loopControl;
      results.push({
        ...r.result,
        [loopVar]: item,
        ansible_loop_var: loopVar,
        ...(task.loopControl.indexVar ? { [task.loopControl.indexVar]: i } : {}),
        changed: changedOf(r),
        failed: r.status === 'failed',
      });
      diff.push(...r.diff);
      changed ||= changedOf(r);
      failed ||= r.status === 'failed';
      if (r.status === 'unreachable') return r;
      if (task.loopControl.pause && i < items.length - 1)
        await new Promise((res) => setTimeout(res, task.loopControl.pause! * 1000));
    }
    const all = results.length > 0 && results.every((r) => r.skipped);
    const result: Record<string, unknown> = {
      results,
      changed,
      msg: failed ? 'One or more items failed' : all ? 'All items skipped' : 'All items completed',
      skipped: all || undefined,
    };
    if (!all) delete result.skipped;
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
function falseCondition(task: TaskDef, vars: Vars): string | undefined {
  return task.when.find((cond) => !evalCondition(cond, vars));
}

/** A loop's items: the list as rendered, flattened for with_items, a dict's items for with_dict, zipped for with_together. */
export function loopItems(task: TaskDef, vars: Vars): unknown[] {
  const v = renderDeep(task.loop, vars);
  switch (task.loopWith) {
    case 'items':
      if (!Array.isArray(v)) return [v];
      return v.flatMap((x) => (Array.isArray(x) ? x : [x]));
    case 'dict':
      if (!v || typeof v !== 'object' || Array.isArray(v))
        throw new TaskFailure(`with_dict needs a dict, got ${Array.isArray(v) ? 'a list' : typeof v}`);
      return Object.entries(v).map(([key, value]) => ({ key, value }));
    case 'together': {
      if (!Array.isArray(v) || !v.every(Array.isArray)) throw new TaskFailure('with_together needs a list of lists');
      const n = Math.max(0, ...v.map((l: unknown[]) => l.length));
      return Array.from({ length: n }, (_, i) => v.map((l: unknown[]) => (i < l.length ? l[i] : null)));
    }
    default:
      if (!Array.isArray(v))
        throw new TaskFailure(
          `loop must be a list, got ${v === null ? 'none' : typeof v}${typeof v === 'string' ? ` ("${v}")` : ''}`,
        );
      return v;
  }
}

/** Variables of one loop item: the loop variable (loop_control.loop_var), index_var, ansible_loop (extended). */
function itemVars(task: TaskDef, vars: Vars, item: unknown, i: number, items: unknown[]): Vars {
  const lc = task.loopControl;
  // A loop item was rendered with the loop: it is data from then on.
  const raw = new Set([
    ...(((vars as Record<symbol, unknown>)[RAW] as Set<string> | undefined) ?? []),
    lc.loopVar,
    ...(lc.indexVar ? [lc.indexVar] : []),
  ]);
  const v: Vars = { ...vars, [RAW]: raw, [lc.loopVar]: item, ansible_loop_var: lc.loopVar };
  if (lc.indexVar) v[lc.indexVar] = i;
  if (lc.extended) {
    v.ansible_loop = {
      index: i + 1,
      index0: i,
      revindex: items.length - i,
      revindex0: items.length - i - 1,
      first: i === 0,
      last: i === items.length - 1,
      length: items.length,
      allitems: items,
      previtem: items[i - 1],
      nextitem: items[i + 1],
    };
  }
  return v;
}

let local: LocalConnection | undefined;
const localConnection = () => (local ??= new LocalConnection('localhost'));

function failure(host: string, e: unknown): TaskResult {
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
    become: becomeOf(env, task, vars).become,
    via: env.connections?.via(host),
    resolveLocal: (path, kind) => resolveLocal(env, task, path, kind),
    render: (text) => renderTemplateText(text, vars),
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
  // A task delegated to this machine reads here, not on the host.
  if (task.delegateTo) return [];
  const env = withCheckMode(env0, task);
  try {
    const vars = taskVars(env, host, task);
    const items = task.loop === undefined ? [undefined] : loopItems(task, vars);
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
  const mod = env0.modules.get(task.module)!;
  if (!mod.readOnly || task.loop !== undefined || task.delegateTo || task.changedWhen || task.failedWhen)
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
    return registered(plan);
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
  const args = renderDeep(task.args, vars) as Record<string, unknown>;
  const problems = argProblems(mod, task.module, args);
  if (problems.length) throw new TaskFailure(problems[0].message);

  const { become, becomeUser } = becomeOf(env, task, vars);
  // delegate_to: localhost — this machine, with the host's variables; its reads never join the host's.
  const conn = task.delegateTo ? localConnection() : await env.connection(host);
  const fetch = task.delegateTo
    ? (reqs: ReadRequest[]) => Promise.all(reqs.map((r) => runAlone(conn, r)))
    : (reqs: ReadRequest[]) => reads.read(reqs);
  const ctx = planContext(env, host, task, vars);

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
      result: { ...plan.result, failed: true, msg: plan.failed },
      diff: plan.diff ?? [],
      msg: plan.failed,
    };
  if (plan.skipped) return { status: 'skipped', result: { ...plan.result, skipped: true, msg: plan.msg }, diff: [] };

  const result = registered(plan);
  let pendingCleared = false;
  if (!env.check && plan.steps.length) {
    // A delegated task changes this machine: no read of the host goes stale, but between plays it may matter.
    env.cache.changed(task.delegateTo ? undefined : host);
    if (!task.delegateTo) reads.stale();
    // What the next tasks read, read in the same trip once these steps are done — not after a change
    // that a confirm step completes (it changes the host again).
    const follow = !task.delegateTo && !plan.confirm && readsAfter ? await readsAfter() : [];
    const commands = plan.steps.map((s) => ({
      command: s.command,
      stdin: s.stdin,
      become: s.become ?? become,
      becomeUser,
    }));
    // Handlers this change will notify: marked on the host first, in the same round trip (not from
    // a task delegated to this machine: its steps run here).
    const notified =
      plan.changed && !task.delegateTo ? handlersFor(env.play, task.notify).map((h) => pendingKey(env.play, h)) : [];
    // After the steps only when a failing step stops the trip and nothing else decides failure later.
    const after = afterSteps && !plan.acceptNonZero && !task.failedWhen && !task.delegateTo ? [afterSteps] : [];
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
    if (plan.confirm) await confirmChange(env, host, plan.confirm, outputs, become, result);
  } else if (!env.check && plan.confirm) {
    env.cache.changed(host);
    await confirmChange(env, host, plan.confirm, [], become, result);
  }
  if (plan.facts) applyFacts(env.state, plan.facts);

  // changed_when / failed_when see the result under its register name and as `result`.
  const rvars = { ...vars, result, ...(task.register ? { [task.register]: result } : {}) };
  if (task.changedWhen) result.changed = task.changedWhen.every((c) => evalCondition(c, rvars));
  let failed = Boolean(result.failed);
  if (task.failedWhen) {
    failed = task.failedWhen.some((c) => evalCondition(c, rvars));
    // As Ansible: the condition's verdict is kept in the result too.
    result.failed_when_result = failed;
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
    reconnect: async (deadline) => void (await conns?.reconnect(host, deadline)),
  };
  const done = await confirm(ctx, outputs);
  Object.assign(result, done.result ?? {});
  if (done.failed) throw new TaskFailure(done.failed, result);
}

function applyFacts(state: RunState, facts: Record<string, Record<string, unknown>>): void {
  for (const [h, values] of Object.entries(facts)) {
    if (state.hosts.has(h)) Object.assign(state.host(h).facts, markRaw(values));
  }
}

function resolveLocal(env: ExecEnv, task: TaskDef, path: string, kind: 'files' | 'templates'): string {
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
