// Checks that need no host: module arguments and variables every task uses. A mistake here
// stops the run with file:line:col before any connection is opened.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { ansibleBool } from '../util/bool.js';
import type { Inventory } from '../inventory/index.js';
import { argProblems } from '../modules/args.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { exprRootNames, parseExpr, ExprError } from '../template/expr.js';
import { TemplateError, templateRootNames } from '../template/jinja.js';
import { handlebarsRootNames } from '../template/handlebars.js';
import type { Playbook, PlayDef, TaskDef } from '../playbook/types.js';
import { MAGIC_VARS, playDefaults, roleVars } from './vars.js';

export function preflight(pb: Playbook, inv: Inventory, playHosts: string[][], modules: ModuleRegistry): void {
  checkBecomeVars(inv, new Set(playHosts.flat()));
  const runtimeNames = namesSetAtRunTime(pb, modules);
  pb.plays.forEach((play, i) => {
    for (const task of [...play.tasks, ...play.handlers]) {
      checkArgs(task, modules);
      checkNotify(play, task);
      checkVariables(pb, play, task, inv, playHosts[i], runtimeNames);
    }
  });
}

const loopKey = (task: TaskDef) =>
  ({ loop: 'loop', items: 'with_items', dict: 'with_dict', together: 'with_together' })[task.loopWith];

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
    );
  }
}

/** Registered results, set_fact keys and module-provided facts exist only once tasks have run. */
function namesSetAtRunTime(pb: Playbook, modules: ModuleRegistry): Set<string> {
  const names = new Set<string>();
  for (const play of pb.plays) {
    for (const t of [...play.tasks, ...play.handlers]) {
      if (t.register) names.add(t.register);
      if (t.module === 'set_fact') Object.keys(t.args as object).forEach((k) => names.add(k));
      modules.get(t.module)?.providesFacts?.forEach((k) => names.add(k));
    }
  }
  return names;
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

function checkVariables(
  pb: Playbook,
  play: PlayDef,
  task: TaskDef,
  inv: Inventory,
  hosts: string[],
  runtime: Set<string>,
): void {
  const base = new Set([
    ...MAGIC_VARS,
    ...runtime,
    ...Object.keys(play.vars),
    ...Object.keys(playDefaults(play)),
    ...Object.keys(roleVars(play)),
    ...Object.keys(task.vars),
  ]);
  if (task.loop !== undefined) {
    for (const n of [
      task.loopControl.loopVar,
      task.loopControl.indexVar,
      'ansible_loop_var',
      task.loopControl.extended ? 'ansible_loop' : undefined,
    ])
      if (n) base.add(n);
  }
  // Each reference keeps the YAML path it was written at, so an error points at that line.
  const refs: { name: string; where: (string | number)[] | 'template'; file?: string }[] = [];
  const collect = (text: string, where: (string | number)[]) => {
    try {
      for (const name of templateRootNames(text)) refs.push({ name, where });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const pos = e.line ? task.src.posInString(where, e.line, e.col!) : task.src.pos(where);
      throw new InputError(
        e.message,
        pos,
        'see docs/playbooks.md for the template language (Jinja expressions, filters and tests)',
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
        for (const name of exprRootNames(parseExpr(cond))) refs.push({ name, where });
      } catch (e) {
        if (e instanceof ExprError)
          throw new InputError(
            `bad condition "${cond}": ${e.message}`,
            task.src.posInString(where, 1, e.column),
            'use Ansible condition syntax, e.g. "x is defined and x == 1"',
          );
        throw e;
      }
    });
  }
  const tpl = templateFile(pb, task);
  if (tpl) {
    const text = readFileSync(tpl, 'utf8');
    try {
      const names = tpl.endsWith('.hbs') ? handlebarsRootNames(text) : templateRootNames(text, 'file');
      for (const name of names) refs.push({ name, where: 'template', file: tpl });
    } catch (e) {
      // A template's own mistake is reported where it is, in the template file.
      if (e instanceof TemplateError && e.line)
        throw new InputError(e.message, { file: tpl, line: e.line, col: e.col! }, 'fix the template');
      throw new InputError(
        `template ${tpl}: ${(e as Error).message.split('\n')[0]}`,
        task.src.pos(task.path),
        'fix the template',
      );
    }
  }
  for (const host of hosts) {
    const known = inv.hosts.get(host)!.vars;
    for (const ref of refs) {
      if (base.has(ref.name) || ref.name in known) continue;
      const pos = Array.isArray(ref.where) ? task.src.pos(ref.where) : task.pos;
      const inFile = ref.file ? ` (in template ${ref.file})` : '';
      throw new InputError(
        `undefined variable "${ref.name}"${inFile} in task "${task.name}" for host ${host}`,
        pos,
        `define "${ref.name}" in the inventory (host or group vars), the play's vars, or the role's defaults`,
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
