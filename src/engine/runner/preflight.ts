// Checks that need no host: module arguments, notify names, the syntax of templates and conditions.
// A mistake here stops the run with file:line:col before any connection is opened (exit 2, as
// ansible-playbook's run would end once that task failed; 1 for a notify naming no handler, as Ansible).
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import { EXIT, InputError } from '../util/errors.js';
import { ansibleBool } from '../util/bool.js';
import type { Inventory } from '../inventory/index.js';
import { argProblems } from '../modules/args.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { exprRootNames, parseExpr, ExprError } from '../template/expr.js';
import { TemplateError, templateRootNames } from '../template/jinja.js';
import { handlebarsRootNames } from '../template/handlebars.js';
import type { Playbook, PlayDef, TaskDef } from '../playbook/types.js';

export function preflight(pb: Playbook, inv: Inventory, playHosts: string[][], modules: ModuleRegistry): void {
  checkBecomeVars(inv, new Set(playHosts.flat()));
  for (const play of pb.plays) {
    for (const task of withIncluded([...play.tasks, ...play.handlers])) {
      if (!task.include) checkArgs(task, modules);
      checkNotify(play, task);
      checkSyntax(pb, task);
    }
  }
}

/** `tasks` and what their includes bring in, as far as it was read with the playbook (a name without a template). */
function withIncluded(tasks: TaskDef[]): TaskDef[] {
  return tasks.flatMap((t) => [t, ...withIncluded(t.include?.known ?? [])]);
}

const loopKey = (task: TaskDef) => (task.loopWith === 'loop' ? 'loop' : `with_${task.loopWith}`);

/** ansible_become must read as a boolean, as Ansible requires ("no" is false, "maybe" is an error). */
function checkBecomeVars(inv: Inventory, hosts: Set<string>): void {
  for (const host of hosts) {
    const v = inv.hosts.get(host)?.vars.ansible_become;
    if (v !== undefined && ansibleBool(v) === undefined) {
      throw new InputError(
        `ansible_become of ${host} is not a boolean: ${JSON.stringify(v)}`,
        inv.hostPos(host),
        'use true or false (yes/no, on/off, 1/0 are read as Ansible reads them)',
      );
    }
  }
}

/** The YAML path of the task itself (task.path points at its module's arguments). */
const taskPath = (task: TaskDef) => task.path.slice(0, -1);

/** A notify naming no handler of the play would silently do nothing (Ansible refuses it too). */
function checkNotify(play: PlayDef, task: TaskDef): void {
  const known = new Set(play.handlers.flatMap((h) => [h.rawName, ...h.listen]));
  task.notify.forEach((name, i) => {
    if (known.has(name) || name.includes('{{')) return;
    const have = [...known].map((n) => `"${n}"`).join(', ');
    throw new InputError(
      `task "${task.name}" notifies "${name}", but play "${play.name}" has no handler of that name or listen topic`,
      task.src.pos([...taskPath(task), 'notify', i]),
      have
        ? `handlers of this play: ${have}`
        : 'define it under "handlers:" of the play (or in the role\'s handlers/main.yaml)',
    );
  });
}

function checkArgs(task: TaskDef, modules: ModuleRegistry): void {
  const [problem] = argProblems(modules.get(task.module)!, task.module, task.args, true);
  if (problem) {
    throw new InputError(
      problem.message,
      task.src.pos([...task.path, ...problem.path], { key: problem.message.startsWith('unsupported') }),
      `see the "${task.module}" module in docs/playbooks.md`,
      EXIT.failed,
    );
  }
}

function strings(
  value: unknown,
  path: (string | number)[] = [],
  out: { text: string; path: (string | number)[] }[] = [],
) {
  if (typeof value === 'string') out.push({ text: value, path });
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, [...path, i], out));
  else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => strings(v, [...path, k], out));
  return out;
}

/**
 * The templates and conditions of a task must parse. Whether their variables are defined is asked only
 * when the task runs, as Ansible does: a task that is skipped, or whose failure is expected and caught,
 * may name a variable that is never defined.
 */
function checkSyntax(pb: Playbook, task: TaskDef): void {
  const collect = (text: string, where: (string | number)[]) => {
    try {
      templateRootNames(text);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const pos = e.line ? task.src.posInString(where, e.line, e.col!) : task.src.pos(where);
      throw new InputError(
        e.message,
        pos,
        'see docs/playbooks.md for the template language (Jinja expressions, filters and tests)',
        EXIT.failed,
      );
    }
  };
  // A free-form argument (`command: echo hi`) is the module's own value in the YAML, not `_raw`.
  for (const { text, path } of strings(task.args)) collect(text, [...task.path, ...path.filter((p) => p !== '_raw')]);
  for (const { text, path } of strings(task.loop)) collect(text, [...taskPath(task), loopKey(task), ...path]);
  const conditions: [(string | number)[], string[] | undefined][] = [
    [[...taskPath(task), 'when'], task.when],
    [[...taskPath(task), 'changed_when'], task.changedWhen],
    [[...taskPath(task), 'failed_when'], task.failedWhen],
  ];
  // assert's `that` is a list of conditions too.
  const that = task.module === 'assert' ? (task.args as { that?: unknown }).that : undefined;
  if (typeof that === 'string') conditions.push([[...task.path], [that]]);
  else if (Array.isArray(that)) conditions.push([[...task.path, 'that'], that.map(String)]);
  for (const [at, list] of conditions) {
    (list ?? []).forEach((cond, i) => {
      const where = typeof that === 'string' && at.length === task.path.length ? [...at, 'that'] : [...at, i];
      try {
        exprRootNames(parseExpr(cond));
      } catch (e) {
        if (e instanceof ExprError)
          throw new InputError(
            `bad condition "${cond}": ${e.message}`,
            task.src.posInString(where, 1, e.column),
            'use Ansible condition syntax, e.g. "x is defined and x == 1"',
            EXIT.failed,
          );
        throw e;
      }
    });
  }
  const tpl = templateFile(pb, task);
  if (tpl) {
    const text = readFileSync(tpl, 'utf8');
    try {
      if (tpl.endsWith('.hbs')) handlebarsRootNames(text);
      else templateRootNames(text, 'file');
    } catch (e) {
      // A template's own mistake is reported where it is, in the template file.
      if (e instanceof TemplateError && e.line)
        throw new InputError(e.message, { file: tpl, line: e.line, col: e.col! }, 'fix the template', EXIT.failed);
      throw new InputError(
        `template ${tpl}: ${(e as Error).message.split('\n')[0]}`,
        task.src.pos(task.path),
        'fix the template',
        EXIT.failed,
      );
    }
  }
}

function templateFile(pb: Playbook, task: TaskDef): string | undefined {
  if (task.module !== 'template') return undefined;
  const src = (task.args as { src?: unknown }).src;
  if (typeof src !== 'string' || src.includes('{{')) return undefined;
  if (isAbsolute(src)) return existsSync(src) ? src : undefined;
  const candidates = [
    ...(task.role ? [join(task.role.dir, 'templates', src)] : []),
    join(pb.dir, 'templates', src),
    join(pb.dir, src),
  ];
  return candidates.find((c) => existsSync(c));
}
