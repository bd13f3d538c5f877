// Read a playbook and its roles into plain definitions; every shape error names file:line:col.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { modules } from '../modules/index.js';
import { loadYamlFile, type YamlPath, type YamlSource } from '../yaml/source.js';
import { validateAt } from '../yaml/validate.js';
import { playbookSchema, playSchema, TASK_KEYS, taskListSchema, taskSchema, varsFileSchema } from './schema.js';
import type { PlayDef, Playbook, RoleDef, TaskDef } from './types.js';

/** The roles shipped with relay-play (repo root /roles), found relative to this file in src/ or dist/src/. */
export function bundledRolesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'roles'))) return join(dir, 'roles');
    dir = dirname(dir);
  }
  return resolve('roles');
}

const asList = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const conditions = (v: unknown): string[] | undefined =>
  v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map((c) => (typeof c === 'boolean' ? (c ? 'true' : 'false') : String(c)));

export function loadPlaybook(file: string): Playbook {
  const src = loadYamlFile(file);
  const data = src.toJS();
  validateAt(playbookSchema, data, src, [], 'playbook (a list of plays)');
  const dir = dirname(resolve(file));
  const rolesPath = [join(dir, 'roles'), join(dir, '..', 'roles'), bundledRolesDir()];
  const plays = (data as Record<string, unknown>[]).map((p, i) => loadPlay(p, src, [i], rolesPath));
  return { file, dir, plays };
}

function loadPlay(p: Record<string, unknown>, src: YamlSource, path: YamlPath, rolesPath: string[]): PlayDef {
  validateAt(playSchema, p, src, path, 'play');
  const hosts = asList(p.hosts).join(':');
  const roles: LoadedRole[] = [];
  const roleTasks: TaskDef[] = [];
  const roleHandlers: TaskDef[] = [];
  ((p.roles as unknown[]) ?? []).forEach((r, i) => {
    const name = typeof r === 'string' ? r : (r as { role: string }).role;
    const tasksFrom = typeof r === 'string' ? 'main' : ((r as { tasks_from?: string }).tasks_from ?? 'main');
    const extraVars = typeof r === 'string' ? {} : ((r as { vars?: Record<string, unknown> }).vars ?? {});
    const role = loadRole(name, tasksFrom, rolesPath, src, [...path, 'roles', i]);
    Object.assign(role.vars, extraVars);
    roles.push(role);
    roleTasks.push(...role.tasks);
    roleHandlers.push(...role.handlers);
  });
  const own = (key: string) => loadTasks(p[key], src, [...path, key]);
  return {
    name: String(p.name ?? hosts),
    hosts,
    vars: (p.vars as Record<string, unknown>) ?? {},
    become: Boolean(p.become),
    becomeUser: p.become_user as string | undefined,
    roles: roles.map(({ tasks: _t, handlers: _h, ...role }) => role),
    // Ansible's order: pre_tasks, roles, tasks, post_tasks.
    tasks: [...own('pre_tasks'), ...roleTasks, ...own('tasks'), ...own('post_tasks')],
    handlers: [...roleHandlers, ...own('handlers')],
    pos: src.pos(path),
    hostsPos: src.pos([...path, 'hosts']),
  };
}

type LoadedRole = RoleDef & { tasks: TaskDef[]; handlers: TaskDef[] };

function loadRole(name: string, tasksFrom: string, rolesPath: string[], src: YamlSource, path: YamlPath): LoadedRole {
  const dir = rolesPath.map((p) => join(p, name)).find((d) => existsSync(d));
  if (!dir) {
    throw new InputError(`role "${name}" not found`, src.pos(path), `looked in: ${rolesPath.join(', ')}`);
  }
  const role: LoadedRole = { name, dir, defaults: {}, vars: {}, tasks: [], handlers: [] };
  const file = (sub: string, base = 'main') => [`${base}.yaml`, `${base}.yml`].map((f) => join(dir, sub, f)).find((f) => existsSync(f));
  for (const sub of ['defaults', 'vars'] as const) {
    const f = file(sub);
    if (!f) continue;
    const vs = loadYamlFile(f);
    const v = vs.toJS();
    validateAt(varsFileSchema, v, vs, [], `role ${name} ${sub}`);
    role[sub] = (v as Record<string, unknown>) ?? {};
  }
  for (const sub of ['tasks', 'handlers'] as const) {
    const f = file(sub, sub === 'tasks' ? tasksFrom : 'main');
    if (!f && sub === 'tasks' && tasksFrom !== 'main') throw new InputError(`role "${name}" has no tasks/${tasksFrom}.yaml`, src.pos(path), 'check tasks_from');
    if (!f) continue;
    const ts = loadYamlFile(f);
    const list = ts.toJS() ?? [];
    role[sub] = loadTasks(list, ts, [], role);
  }
  return role;
}

const TASK_KEY_NAMES = new Set(Object.keys(TASK_KEYS));

function loadTasks(list: unknown, src: YamlSource, path: YamlPath, role?: RoleDef): TaskDef[] {
  if (list === undefined || list === null) return [];
  validateAt(taskListSchema, list, src, path, 'task list');
  return (list as Record<string, unknown>[]).map((t, i) => loadTask(t, src, [...path, i], role));
}

function loadTask(t: Record<string, unknown>, src: YamlSource, path: YamlPath, role?: RoleDef): TaskDef {
  const moduleKeys = Object.keys(t).filter((k) => !TASK_KEY_NAMES.has(k));
  if (moduleKeys.length !== 1) {
    const hint = `a task has exactly one module (${Object.keys(modules).filter((m) => !m.includes('.')).join(', ')})`;
    if (moduleKeys.length === 0) throw new InputError('task has no module', src.pos(path), hint);
    const unknown = moduleKeys.find((k) => !modules[k]) ?? moduleKeys[1];
    throw new InputError(`unknown module or task keyword "${unknown}"`, src.pos([...path, unknown], { key: true }), hint);
  }
  const mod = moduleKeys[0];
  if (!modules[mod]) {
    throw new InputError(`unknown module "${mod}"`, src.pos([...path, mod], { key: true }), `known modules: ${Object.keys(modules).filter((m) => !m.includes('.')).join(', ')}`);
  }
  validateAt(taskSchema, t, src, path, 'task');
  let args = t[mod];
  if (typeof args === 'string' || args === null) {
    if (!modules[mod].freeForm) throw new InputError(`module "${mod}" needs a map of arguments`, src.pos([...path, mod]), 'write it as "key: value" lines under the module name');
    args = { _raw: args ?? '' };
  }
  const name = String(t.name ?? mod);
  return {
    name: role ? `${role.name} : ${name}` : name,
    rawName: name,
    module: mod.replace(/^(ansible\.builtin|ansible\.posix|community\.crypto)\./, ''),
    args,
    when: conditions(t.when) ?? [],
    loop: t.loop ?? t.with_items,
    register: t.register as string | undefined,
    notify: asList(t.notify),
    listen: asList(t.listen),
    become: t.become as boolean | undefined,
    becomeUser: t.become_user as string | undefined,
    changedWhen: conditions(t.changed_when),
    failedWhen: conditions(t.failed_when),
    noLog: Boolean(t.no_log),
    ignoreErrors: Boolean(t.ignore_errors),
    vars: (t.vars as Record<string, unknown>) ?? {},
    role,
    pos: src.pos(path),
    src,
    path: [...path, mod],
  };
}
