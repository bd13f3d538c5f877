// include_tasks / include_role, run when a host reaches them, as Ansible does: the condition is asked
// once (per loop item), the file or role name and its *_from are rendered with the host's variables,
// and each item brings the tasks in with its loop variables set. What it registers is Ansible's:
// `include` (the file, rendered) and `include_args`, or a loop's `results` of those. The tasks it brings
// in are read from the playbook's files here (src/engine/playbook/load.ts), shared by the hosts asking
// the same, and run after it in the host's own list of tasks (./play.ts).
import { IncludeNotFound, type TaskDef } from '../playbook/types.js';
import { EXIT, InputError } from '../util/errors.js';
import {
  failure,
  falseCondition,
  itemVars,
  loopInfo,
  loopItems,
  noItems,
  renderArgs,
  type ExecEnv,
} from './execute.js';
import type { TaskResult } from './result.js';
import { taskVars } from './vars.js';

type Vars = Record<string, unknown>;

export interface IncludeRun {
  result: TaskResult;
  /** The tasks brought in, every item's in order. */
  tasks: TaskDef[];
  /** Files (include_tasks) read: Ansible counts each as one `ok`. */
  files: number;
  /** A file or role that is not there fails the host whatever ignore_errors says, as in Ansible. */
  notFound?: boolean;
}

const skippedResult = (): Vars => ({ changed: false, skipped: true, skip_reason: 'Conditional result was False' });

export function runInclude(env: ExecEnv, host: string, task: TaskDef): IncludeRun {
  const inc = task.include!;
  const h = env.state.host(host);
  const one = (v: Vars, special: Vars): { result: Vars; tasks: TaskDef[] } => {
    const target = String(renderArgs(inc.target, v));
    const from = Object.fromEntries(Object.entries(renderArgs(inc.from, v)).map(([k, x]) => [k, String(x)]));
    const got = inc.read(target, from, special);
    if (inc.public && got.role && !h.publicRoles.includes(got.role)) h.publicRoles.push(got.role);
    const result = inc.kind === 'tasks' ? { include: target, include_args: inc.args } : { include_args: inc.args };
    return { result, tasks: got.tasks };
  };
  try {
    const vars = taskVars(env, host, task);
    if (task.loop === undefined) {
      if (falseCondition(task, vars))
        return { result: { status: 'skipped', result: skippedResult(), diff: [] }, tasks: [], files: 0 };
      const { result, tasks } = one(vars, {});
      return { result: { status: 'ok', result: { ...result, changed: false }, diff: [] }, tasks, files: 1 };
    }
    const items = loopItems(task, vars, env.playbookDir);
    if (!items.length) return { result: noItems(), tasks: [], files: 0 };
    const lc = task.loopControl;
    const results: Vars[] = [];
    const tasks: TaskDef[] = [];
    let files = 0;
    for (const [i, item] of items.entries()) {
      const v = itemVars(task, vars, item, i, items);
      // What the included tasks see: the loop variables (not ansible_loop_var), as Ansible's included file.
      const special: Vars = {
        [lc.loopVar]: item,
        ...(lc.indexVar ? { [lc.indexVar]: i } : {}),
        ...(lc.extended ? { ansible_loop: loopInfo(i, items) } : {}),
      };
      const echo: Vars = {
        [lc.loopVar]: item,
        ansible_loop_var: lc.loopVar,
        ...(lc.indexVar ? { [lc.indexVar]: i, ansible_index_var: lc.indexVar } : {}),
        ...(lc.extended ? { ansible_loop: loopInfo(i, items) } : {}),
      };
      if (falseCondition(task, v)) {
        results.push({ ...echo, ...skippedResult() });
        continue;
      }
      const o = one(v, special);
      results.push({ ...echo, ...o.result });
      tasks.push(...o.tasks);
      files++;
    }
    const all = results.every((r) => r.skipped);
    return {
      result: {
        status: all ? 'skipped' : 'ok',
        result: { changed: false, msg: all ? 'All items skipped' : 'All items completed', results, skipped: all },
        diff: [],
      },
      tasks,
      files,
    };
  } catch (e) {
    if (e instanceof IncludeNotFound)
      return {
        result: { status: 'failed', result: { failed: true, reason: e.message }, diff: [], msg: e.message },
        tasks: [],
        files: 0,
        notFound: true,
      };
    // A mistake in a file named by a template shows only now: it stops the run, as ansible-playbook's parser
    // does (exit 4), whatever ignore_errors or a rescue say.
    if (e instanceof InputError) {
      e.exit ??= EXIT.parser;
      throw e;
    }
    return { result: failure(host, e), tasks: [], files: 0 };
  }
}
