// Read a playbook and its roles into plain definitions; every shape error names file:line:col.
import { toBool } from '../util/bool.js';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { EXIT, InputError } from '../util/errors.js';
import { KvError, parseKv } from '../util/kv.js';
import { loadYamlFile, type YamlPath, type YamlSource } from '../yaml/source.js';
import { validateAt } from '../yaml/validate.js';
import {
  blockSchema,
  includeRoleSchema,
  includeTasksSchema,
  playbookSchema,
  playSchema,
  TASK_KEYS,
  taskListSchema,
  taskSchema,
  varsFileSchema,
} from './schema.js';
import type { BlockFrame, PlayDef, Playbook, RoleDef, TaskDef } from './types.js';

const asList = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
const conditions = (v: unknown): string[] | undefined =>
  v === undefined
    ? undefined
    : (Array.isArray(v) ? v : [v]).map((c) => (typeof c === 'boolean' ? (c ? 'true' : 'false') : String(c)));

/** The modules a playbook may name (a ModuleRegistry): names, and which take free-form text. */
export interface ModuleCatalog {
  names(): string[];
  get(name: string): { freeForm?: boolean } | undefined;
}

export interface LoadOptions {
  modules: ModuleCatalog;
  /** Role directories searched after the playbook's own roles/ (an application's bundled roles). */
  rolesPath?: string[];
}

/** A playbook and its roles; what Ansible's parser refuses exits 4, as ansible-playbook does. */
export function loadPlaybook(file: string, opts: LoadOptions): Playbook {
  try {
    return readPlaybook(file, opts);
  } catch (e) {
    if (e instanceof InputError && e.exit === undefined) e.exit = EXIT.parser;
    throw e;
  }
}

function readPlaybook(file: string, opts: LoadOptions): Playbook {
  const src = loadYamlFile(file);
  const data = src.toJS();
  validateAt(playbookSchema, data, src, [], 'playbook (a list of plays)');
  const dir = dirname(resolve(file));
  const rolesPath = [join(dir, 'roles'), join(dir, '..', 'roles'), ...(opts.rolesPath ?? [])];
  const plays = (data as Record<string, unknown>[]).map((p, i) =>
    loadPlay(p, src, [i], new PlayLoader(rolesPath, opts.modules)),
  );
  return { file, dir, plays };
}

/** What a task list's tasks inherit from where they are written (block, include, role, play). */
interface Inherit {
  role?: RoleDef;
  when: string[];
  tags: string[];
  vars: Record<string, unknown>;
  become?: boolean;
  becomeUser?: string;
  ignoreErrors?: boolean;
  noLog?: boolean;
  delegateTo?: string;
  runOnce?: boolean;
  checkMode?: boolean;
  blocks: BlockFrame[];
}

/** One play's loading: where roles are, the roles include_role/import_role brought in, block ids. */
class PlayLoader {
  readonly extraRoles: LoadedRole[] = [];
  private nextBlock = 0;
  private depth = 0;
  constructor(
    readonly rolesPath: string[],
    readonly modules: ModuleCatalog,
  ) {}
  blockId(): number {
    return this.nextBlock++;
  }
  /** Includes nest at most 20 deep: deeper is a file including itself. */
  nested<T>(src: YamlSource, path: YamlPath, fn: () => T): T {
    if (this.depth >= 20)
      throw new InputError(
        'includes nested more than 20 deep (does a file include itself?)',
        src.pos(path),
        'check include_tasks / import_tasks / include_role',
      );
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }
}

const top = (role?: RoleDef, tags: string[] = [], when: string[] = []): Inherit => ({
  role,
  when,
  tags,
  vars: {},
  blocks: [],
});

/** A keyword's boolean as Ansible reads it (`yes`, `no`, `true`, `False`, `on`...); undefined when unset. */
const flag = (v: unknown): boolean | undefined => (v === undefined || v === null ? undefined : toBool(v));

function loadPlay(p: Record<string, unknown>, src: YamlSource, path: YamlPath, loader: PlayLoader): PlayDef {
  validateAt(playSchema, p, src, path, 'play');
  const hosts = asList(p.hosts).join(':');
  const playTags = asList(p.tags);
  const roles: LoadedRole[] = [];
  const roleTasks: TaskDef[] = [];
  const roleHandlers: TaskDef[] = [];
  ((p.roles as unknown[]) ?? []).forEach((r, i) => {
    const entry =
      typeof r === 'string'
        ? { role: r }
        : (r as { role: string; tasks_from?: string; vars?: Record<string, unknown>; tags?: unknown; when?: unknown });
    const role = loadRole(
      entry.role,
      entry.tasks_from ?? 'main',
      loader,
      src,
      [...path, 'roles', i],
      top(undefined, [...playTags, ...asList(entry.tags)], conditions(entry.when) ?? []),
    );
    Object.assign(role.vars, entry.vars ?? {});
    roles.push(role);
    roleTasks.push(...role.tasks);
    roleHandlers.push(...role.handlers);
  });
  const own = (key: string) => loadTasks(p[key], src, [...path, key], top(undefined, playTags), loader);
  // gather_facts: true starts with setup (Ansible's default is true; relay-play gathers only when asked).
  const facts = flag(p.gather_facts)
    ? [loadTask({ name: 'Gathering Facts', setup: {}, tags: ['always'] }, src, path, top(undefined, playTags), loader)]
    : [];
  const tasks = [...facts, ...own('pre_tasks'), ...roleTasks, ...own('tasks'), ...own('post_tasks')];
  // A role brought in more than once has its handlers once (they would all run on one notification).
  const seen = new Set(roles.map((r) => r.dir));
  const extraHandlers = loader.extraRoles.filter((r) => !seen.has(r.dir) && seen.add(r.dir)).flatMap((r) => r.handlers);
  const handlers = [...roleHandlers, ...extraHandlers, ...own('handlers')];
  return {
    name: String(p.name ?? hosts),
    hosts,
    tags: playTags,
    gatherFacts: flag(p.gather_facts) === true,
    vars: (p.vars as Record<string, unknown>) ?? {},
    // Unset stays unset: the host's ansible_become applies then (src/engine/runner/execute.ts).
    become: flag(p.become),
    becomeUser: p.become_user as string | undefined,
    roles: [...roles, ...loader.extraRoles].map(({ tasks: _t, handlers: _h, ...role }) => role),
    // Ansible's order: pre_tasks, roles, tasks, post_tasks.
    tasks,
    handlers,
    pos: src.pos(path),
    hostsPos: src.pos([...path, 'hosts']),
  };
}

type LoadedRole = RoleDef & { tasks: TaskDef[]; handlers: TaskDef[] };

function loadRole(
  name: string,
  tasksFrom: string,
  loader: PlayLoader,
  src: YamlSource,
  path: YamlPath,
  inherit: Inherit,
): LoadedRole {
  const { rolesPath } = loader;
  const dir = rolesPath.map((p) => join(p, name)).find((d) => existsSync(d));
  if (!dir) {
    throw new InputError(`role "${name}" not found`, src.pos(path), `looked in: ${rolesPath.join(', ')}`, EXIT.input);
  }
  const role: LoadedRole = { name, dir, defaults: {}, vars: {}, tasks: [], handlers: [] };
  const file = (sub: string, base = 'main') =>
    [`${base}.yaml`, `${base}.yml`, base].map((f) => join(dir, sub, f)).find((f) => existsSync(f));
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
    if (!f && sub === 'tasks' && tasksFrom !== 'main')
      throw new InputError(`role "${name}" has no tasks/${tasksFrom}.yaml`, src.pos(path), 'check tasks_from');
    if (!f) continue;
    const ts = loadYamlFile(f);
    const list = ts.toJS() ?? [];
    role[sub] = loadTasks(list, ts, [], sub === 'tasks' ? { ...inherit, role } : top(role), loader);
  }
  return role;
}

const TASK_KEY_NAMES = new Set(Object.keys(TASK_KEYS));
const INCLUDES = ['include_tasks', 'import_tasks', 'include_role', 'import_role'];

function loadTasks(list: unknown, src: YamlSource, path: YamlPath, inherit: Inherit, loader: PlayLoader): TaskDef[] {
  if (list === undefined || list === null) return [];
  validateAt(taskListSchema, list, src, path, 'task list');
  return (list as Record<string, unknown>[]).flatMap((raw, i) => {
    const at = [...path, i];
    // ansible.builtin.include_tasks and friends: the short names below.
    const t = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [
        INCLUDES.includes(k.replace(/^ansible\.builtin\./, '')) ? k.replace(/^ansible\.builtin\./, '') : k,
        v,
      ]),
    );
    if ('block' in t) return loadBlock(t, src, at, inherit, loader);
    const include = INCLUDES.find((k) => k in t);
    if (include) return loadInclude(include, t, src, at, inherit, loader);
    return [loadTask(t, src, at, inherit, loader)];
  });
}

/** What a block, include or task adds to what it inherits. */
function inheritFrom(t: Record<string, unknown>, inherit: Inherit): Inherit {
  return {
    ...inherit,
    when: [...inherit.when, ...(conditions(t.when) ?? [])],
    tags: [...inherit.tags, ...asList(t.tags)],
    vars: { ...inherit.vars, ...((t.vars as Record<string, unknown>) ?? {}) },
    become: flag(t.become) ?? inherit.become,
    becomeUser: (t.become_user as string | undefined) ?? inherit.becomeUser,
    ignoreErrors: flag(t.ignore_errors) ?? inherit.ignoreErrors,
    noLog: flag(t.no_log) ?? inherit.noLog,
    delegateTo: (t.delegate_to as string | undefined) ?? inherit.delegateTo,
    runOnce: flag(t.run_once) ?? inherit.runOnce,
    checkMode: flag(t.check_mode) ?? inherit.checkMode,
  };
}

// block / rescue / always: the tasks of each section, each knowing its block and section; a
// failure in the block section runs rescue, always runs whatever happened (src/engine/runner/blocks.ts).
function loadBlock(
  t: Record<string, unknown>,
  src: YamlSource,
  path: YamlPath,
  inherit: Inherit,
  loader: PlayLoader,
): TaskDef[] {
  validateAt(blockSchema, t, src, path, 'block');
  const id = loader.blockId();
  const rescues = Array.isArray(t.rescue) && t.rescue.length > 0;
  const base = inheritFrom(t, inherit);
  return (['block', 'rescue', 'always'] as const).flatMap((section) =>
    loadTasks(
      t[section],
      src,
      [...path, section],
      { ...base, blocks: [...base.blocks, { id, section, rescues }] },
      loader,
    ),
  );
}

// include_tasks / import_tasks / include_role / import_role are read when the playbook is loaded
// (static, as import_*): their `when`, tags and vars apply to every task they bring in.
function loadInclude(
  key: string,
  t: Record<string, unknown>,
  src: YamlSource,
  path: YamlPath,
  inherit: Inherit,
  loader: PlayLoader,
): TaskDef[] {
  const isRole = key.endsWith('_role');
  if ('loop' in t || Object.keys(t).some((k) => k.startsWith('with_'))) {
    const k = Object.keys(t).find((x) => x === 'loop' || x.startsWith('with_'))!;
    throw new InputError(
      `a loop on ${key} is not supported`,
      src.pos([...path, k], { key: true }),
      `write the loop on the tasks of the included ${isRole ? 'role' : 'file'}`,
    );
  }
  validateAt(isRole ? includeRoleSchema : includeTasksSchema, t, src, path, key);
  // As Ansible: an import's tags are its tasks' tags; an include's tags select the include itself
  // only (its tasks get tags through `apply:`).
  const dynamic = key.startsWith('include_');
  const apply = (t.apply as { tags?: unknown; become?: unknown; become_user?: string } | undefined) ?? {};
  const own = inheritFrom(dynamic ? { ...t, tags: apply.tags } : t, inherit);
  const base = dynamic
    ? { ...own, become: flag(apply.become) ?? own.become, becomeUser: apply.become_user ?? own.becomeUser }
    : own;
  const at = [...path, key];
  return loader.nested(src, at, () => {
    if (isRole) {
      const spec = t[key] as { name: string; tasks_from?: string; vars?: Record<string, unknown> };
      if (spec.name.includes('{{'))
        throw new InputError(
          `${key} with a template in the role name is not supported`,
          src.pos(at),
          'name the role itself',
        );
      const role = loadRole(spec.name, (spec.tasks_from ?? 'main').replace(/\.ya?ml$/, ''), loader, src, at, base);
      Object.assign(role.vars, spec.vars ?? {});
      loader.extraRoles.push(role);
      return role.tasks;
    }
    const raw = t[key];
    const name = typeof raw === 'string' ? raw : (raw as { file: string }).file;
    if (name.includes('{{'))
      throw new InputError(
        `${key} with a template in the file name is not supported`,
        src.pos(at),
        'name the file itself',
      );
    const here = dirname(resolve(src.file));
    const candidates = isAbsolute(name)
      ? [name]
      : [...(inherit.role ? [join(inherit.role.dir, 'tasks', name)] : []), join(here, name)];
    const file = candidates.find((c) => existsSync(c));
    if (!file)
      throw new InputError(`${key}: file "${name}" not found`, src.pos(at), `looked in: ${candidates.join(', ')}`);
    const included = loadYamlFile(file);
    return loadTasks(included.toJS() ?? [], included, [], base, loader);
  });
}

/** Ansible's free-form modules: their text is a command, with only the command options taken from it. */
const FREE_FORM = new Set(['command', 'shell', 'raw', 'script']);
/** Modules that take words other than `key=value` (relay-play's free-form modules read them as `_raw`). */
const RAW_PARAMS = new Set([...FREE_FORM, 'set_fact', 'debug']);

/** `ansible.builtin.copy` and `ansible.legacy.copy` are `copy`; other collections keep their names. */
const shortName = (k: string) => k.replace(/^ansible\.(builtin|legacy)\./, '');

/** A module's schema says this argument is a number (free-form values arrive as text). */
function numberArg(schema: unknown, key: string): boolean {
  const prop = (schema as { properties?: Record<string, { type?: unknown }> })?.properties?.[key];
  const types = prop ? (Array.isArray(prop.type) ? prop.type : [prop.type]) : [];
  return (types.includes('integer') || types.includes('number')) && !types.includes('string');
}

/**
 * The module a task names and its arguments, as Ansible's argument parser finds them: the module's
 * own key (also as `ansible.builtin.X`), or `action:` / `local_action:` (`action: copy src=a dest=b`,
 * or a map with `module:`); free-form `key=value` text parsed as Ansible parses it; `args:` under the
 * arguments written with the module.
 */
function moduleAndArgs(
  t: Record<string, unknown>,
  src: YamlSource,
  path: YamlPath,
  modules: ModuleCatalog,
): { key: string; mod: string; written: string; args: unknown; local: boolean } {
  const known = (k: string) => modules.get(k) !== undefined || modules.get(shortName(k)) !== undefined;
  const moduleKeys = Object.keys(t).filter((k) => !TASK_KEY_NAMES.has(k));
  const actionKeys = ['action', 'local_action'].filter((k) => k in t);
  const hint = `a task has exactly one module (${modules
    .names()
    .filter((m) => !m.includes('.'))
    .join(', ')})`;
  if (actionKeys.length + moduleKeys.length > 1) {
    const unknown = moduleKeys.find((k) => !known(k));
    if (unknown && !UNSUPPORTED_KEYS[unknown])
      throw new InputError(
        `unknown module or task keyword "${unknown}"`,
        src.pos([...path, unknown], { key: true }),
        hint,
      );
    const all = [...actionKeys, ...moduleKeys];
    throw new InputError(
      `conflicting action statements: ${all.join(', ')}`,
      src.pos([...path, all[1]], { key: true }),
      hint,
    );
  }
  let key: string;
  let mod: string;
  let given: unknown;
  if (actionKeys.length) {
    key = actionKeys[0];
    const v = t[key];
    if (typeof v === 'string') {
      const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(v);
      if (!m) throw new InputError(`${key} names no module`, src.pos([...path, key]), hint);
      mod = m[1];
      given = m[2];
    } else if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof (v as { module?: unknown }).module === 'string'
    ) {
      const { module, ...rest } = v as Record<string, unknown>;
      mod = module as string;
      given = rest;
    } else throw new InputError(`${key} names no module`, src.pos([...path, key]), 'write "action: MODULE ARGS"');
  } else if (moduleKeys.length === 1) {
    key = moduleKeys[0];
    mod = key;
    given = t[key];
  } else throw new InputError('task has no module', src.pos(path), hint);
  const name = modules.get(mod) ? mod : shortName(mod);
  const module = modules.get(name) as { freeForm?: boolean; schema?: unknown } | undefined;
  if (!module) {
    const unsupported = UNSUPPORTED_KEYS[mod];
    if (unsupported)
      throw new InputError(
        `task keyword "${mod}" is not supported`,
        src.pos([...path, mod], { key: true }),
        unsupported,
      );
    throw new InputError(
      `unknown module "${mod}"`,
      src.pos([...path, key], { key: true }),
      `known modules: ${modules
        .names()
        .filter((m) => !m.includes('.'))
        .join(', ')}`,
    );
  }
  const short = shortName(name);
  let args: unknown = given;
  if (typeof given === 'string' || typeof given === 'number' || typeof given === 'boolean') {
    let kv: Record<string, unknown>;
    try {
      kv = parseKv(String(given), FREE_FORM.has(short));
    } catch (e) {
      if (!(e instanceof KvError)) throw e;
      throw new InputError(
        e.message,
        src.pos([...path, key]),
        'quote the whole value, or write the arguments as a map',
      );
    }
    if (kv._raw_params !== undefined) {
      if (!RAW_PARAMS.has(short))
        throw new InputError(
          `this task '${short}' has extra params, which is only allowed in the following modules: ${[...RAW_PARAMS].join(', ')}`,
          src.pos([...path, key]),
          'write the arguments as key=value words, or as a map under the module name',
        );
      kv._raw = kv._raw_params;
      delete kv._raw_params;
    }
    for (const [k, v] of Object.entries(kv))
      if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && numberArg(module.schema, k)) kv[k] = Number(v);
    args = kv;
  } else if (given === null || given === undefined) args = {};
  const extra = t.args;
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== 'object' || Array.isArray(extra))
      throw new InputError(
        'args must be a map of arguments',
        src.pos([...path, 'args']),
        'write "key: value" lines under args',
      );
    args = { ...(extra as Record<string, unknown>), ...(args as Record<string, unknown>) };
  }
  if ((args === null || typeof args !== 'object') && !module.freeForm)
    throw new InputError(
      `module "${mod}" needs a map of arguments`,
      src.pos([...path, key]),
      'write it as "key: value" lines under the module name',
    );
  return { key, mod: name, written: mod, args, local: key === 'local_action' };
}

function loadTask(
  t: Record<string, unknown>,
  src: YamlSource,
  path: YamlPath,
  inherit: Inherit,
  loader: PlayLoader,
): TaskDef {
  const role = inherit.role;
  const { key: modKey, mod, written, args, local } = moduleAndArgs(t, src, path, loader.modules);
  validateAt(taskSchema, t, src, path, 'task');
  const loops = ['loop', 'with_items', 'with_list', 'with_dict', 'with_together'].filter((k) => k in t);
  if (loops.length > 1)
    throw new InputError(
      `a task has one loop, not ${loops.join(' and ')}`,
      src.pos([...path, loops[1]], { key: true }),
      'keep one of them',
    );
  const delegate = local ? 'localhost' : ((t.delegate_to as string | undefined) ?? inherit.delegateTo);
  if (delegate !== undefined && !['localhost', '127.0.0.1'].includes(delegate)) {
    throw new InputError(
      `delegate_to: "${delegate}" is not supported (only localhost)`,
      src.pos([...path, 'delegate_to']),
      'run the task in a play for that host instead',
    );
  }
  const name = String(t.name ?? written);
  const action = written;
  const lc =
    (t.loop_control as { loop_var?: string; index_var?: string; label?: string; extended?: unknown; pause?: number }) ??
    {};
  const loopKey = loops[0];
  return {
    name: role ? `${role.name} : ${name}` : name,
    rawName: name,
    module: mod.replace(/^(ansible\.builtin|ansible\.posix|community\.crypto)\./, ''),
    action,
    args,
    when: [...inherit.when, ...(conditions(t.when) ?? [])],
    loop: loopKey ? t[loopKey] : undefined,
    loopWith:
      loopKey === 'with_items'
        ? 'items'
        : loopKey === 'with_dict'
          ? 'dict'
          : loopKey === 'with_together'
            ? 'together'
            : 'loop',
    loopControl: {
      loopVar: lc.loop_var ?? 'item',
      indexVar: lc.index_var,
      label: lc.label,
      extended: flag(lc.extended) === true,
      pause: lc.pause,
    },
    register: t.register as string | undefined,
    notify: asList(t.notify),
    listen: asList(t.listen),
    become: flag(t.become) ?? inherit.become,
    becomeUser: (t.become_user as string | undefined) ?? inherit.becomeUser,
    changedWhen: conditions(t.changed_when),
    failedWhen: conditions(t.failed_when),
    noLog: flag(t.no_log) ?? Boolean(inherit.noLog),
    ignoreErrors: flag(t.ignore_errors) ?? Boolean(inherit.ignoreErrors),
    vars: { ...inherit.vars, ...((t.vars as Record<string, unknown>) ?? {}) },
    role,
    tags: [...new Set([...inherit.tags, ...asList(t.tags)])],
    blocks: inherit.blocks,
    delegateTo: delegate === undefined ? undefined : 'localhost',
    runOnce: flag(t.run_once) ?? Boolean(inherit.runOnce),
    checkMode: flag(t.check_mode) ?? inherit.checkMode,
    pos: src.pos(path),
    src,
    path: [...path, modKey],
  };
}

/** Ansible task keywords relay-play does not have, and what to do instead. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  until: 'retries are not supported: make the task idempotent, or use a command with its own retry loop',
  retries: 'retries are not supported',
  delay: 'retries are not supported',
  environment: 'set variables in the command itself (shell: "FOO=1 cmd")',
  async: 'async tasks are not supported',
  poll: 'async tasks are not supported',
  include: 'use include_tasks or import_tasks',
  include_vars: "put the variables in vars:, the inventory or the role's vars/main.yaml",
  with_fileglob: 'list the files in a loop instead',
  with_sequence: 'use loop: "{{ range(1, n + 1) | list }}"',
  with_subelements: 'use loop with subelements written out',
  with_nested: 'use loop with product() written out as a list',
};
