// Checks that need no host: module arguments and variables every task uses. A mistake here
// stops the run with file:line:col before any connection is opened.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Inventory } from '../inventory/index.js';
import { argProblems } from '../modules/args.js';
import { modules } from '../modules/index.js';
import { exprRootNames, parseExpr, ExprError } from '../playbook/expr.js';
import { templateRootNames } from '../playbook/template.js';
import type { Playbook, PlayDef, TaskDef } from '../playbook/types.js';
import { MAGIC_VARS, playDefaults, roleVars } from './vars.js';

export function preflight(pb: Playbook, inv: Inventory, playHosts: string[][]): void {
  const runtimeNames = namesSetAtRunTime(pb);
  pb.plays.forEach((play, i) => {
    for (const task of [...play.tasks, ...play.handlers]) {
      checkArgs(task);
      checkVariables(pb, play, task, inv, playHosts[i], runtimeNames);
    }
  });
}

function checkArgs(task: TaskDef): void {
  const [problem] = argProblems(modules[task.module], task.module, task.args, true);
  if (problem) {
    throw new InputError(problem.message, task.src.pos([...task.path, ...problem.path], { key: problem.message.startsWith('unsupported') }), `see the "${task.module}" module in the README`);
  }
}

/** Registered results, set_fact keys and module-provided facts exist only once tasks have run. */
function namesSetAtRunTime(pb: Playbook): Set<string> {
  const names = new Set<string>();
  for (const play of pb.plays) {
    for (const t of [...play.tasks, ...play.handlers]) {
      if (t.register) names.add(t.register);
      if (t.module === 'set_fact') Object.keys(t.args as object).forEach((k) => names.add(k));
      (modules[t.module] as { providesFacts?: string[] }).providesFacts?.forEach((k) => names.add(k));
    }
  }
  return names;
}

function strings(value: unknown, path: (string | number)[] = [], out: { text: string; path: (string | number)[] }[] = []) {
  if (typeof value === 'string') out.push({ text: value, path });
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, [...path, i], out));
  else if (value && typeof value === 'object') Object.entries(value).forEach(([k, v]) => strings(v, [...path, k], out));
  return out;
}

function checkVariables(pb: Playbook, play: PlayDef, task: TaskDef, inv: Inventory, hosts: string[], runtime: Set<string>): void {
  const base = new Set([...MAGIC_VARS, ...runtime, ...Object.keys(play.vars), ...Object.keys(playDefaults(play)), ...Object.keys(roleVars(play)), ...Object.keys(task.vars)]);
  if (task.loop !== undefined) base.add('item');
  const refs: { name: string; where: (string | number)[] | 'when' | 'template'; file?: string }[] = [];
  const collect = (text: string, where: (string | number)[]) => {
    try {
      for (const name of templateRootNames(text)) refs.push({ name, where });
    } catch (e) {
      throw new InputError(`template syntax error: ${(e as Error).message.split('\n')[0]}`, task.src.pos([...task.path, ...where]), 'check the {{ }} braces');
    }
  };
  for (const { text, path } of strings(task.args)) collect(text, path);
  for (const { text } of strings(task.loop)) collect(text, []);
  for (const cond of [...task.when, ...(task.changedWhen ?? []), ...(task.failedWhen ?? [])]) {
    try {
      for (const name of exprRootNames(parseExpr(cond))) refs.push({ name, where: 'when' });
    } catch (e) {
      if (e instanceof ExprError) throw new InputError(`bad condition "${cond}": ${e.message}`, task.pos, 'use Ansible condition syntax, e.g. "x is defined and x == 1"');
      throw e;
    }
  }
  const tpl = templateFile(pb, task);
  if (tpl) {
    try {
      for (const name of templateRootNames(readFileSync(tpl, 'utf8'))) refs.push({ name, where: 'template', file: tpl });
    } catch (e) {
      throw new InputError(`template ${tpl}: ${(e as Error).message.split('\n')[0]}`, task.src.pos(task.path), 'fix the template');
    }
  }
  for (const host of hosts) {
    const known = inv.hosts.get(host)!.vars;
    for (const ref of refs) {
      if (base.has(ref.name) || ref.name in known) continue;
      const pos = Array.isArray(ref.where) ? task.src.pos([...task.path, ...ref.where]) : task.pos;
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
  const candidates = [...(task.role ? [join(task.role.dir, 'templates', src)] : []), join(pb.dir, 'templates', src), join(pb.dir, src)];
  return candidates.find((c) => existsSync(c));
}
