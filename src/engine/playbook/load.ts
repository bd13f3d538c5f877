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
  INCLUDE_KEYWORDS,
  includeRoleSchema,
  importPlaybookSchema,
  importRoleSchema,
  importTasksSchema,
  includeTasksSchema,
  playbookSchema,
  roleMetaSchema,
  playSchema,
  TASK_KEYS,
  taskListSchema,
  taskSchema,
  varsFileSchema,
  WITH_LOOPS,
} from './schema.js';
import {
  IncludeNotFound,
  type BlockFrame,
  type IncludeDef,
  type Included,
  type PlayDef,
  type Playbook,
  type RoleDef,
  type TaskDef,
} from './types.js';

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
  const dir = dirname(resolve(file));
  return { file, dir, plays: readPlays(file, opts, 0) };
}

/** What `import_playbook` hands the plays it brings in. */
interface Imported {
  vars: Record<string, unknown>;
  tags: string[];
  when: string[];
}

/** The plays of `file`, with those of the playbooks it imports (`import_playbook`) in their place. */
function readPlays(file: string, opts: LoadOptions, depth: number, outer?: Imported): PlayDef[] {
  const src = loadYamlFile(file);
  const data = src.toJS();
  validateAt(playbookSchema, data, src, [], 'playbook (a list of plays)');
  const dir = dirname(resolve(file));
  const rolesPath = [join(dir, 'roles'), join(dir, '..', 'roles'), dir, ...(opts.rolesPath ?? [])];
  return (data as Record<string, unknown>[]).flatMap((p, i) => {
    const key = ['import_playbook', 'ansible.builtin.import_playbook'].find((k) => k in p);
    if (!key) return [loadPlay(p, src, [i], new PlayLoader(rolesPath, opts.modules, dir), outer)];
    validateAt(importPlaybookSchema, p, src, [i], 'import_playbook');
    if (depth >= 20)
      throw new InputError('import_playbook nested more than 20 deep (does a playbook import itself?)', src.pos([i]));
    const name = String(p[key]);
    if (name.includes('{{'))
      throw new InputError(
        'import_playbook with a template in the file name is not supported',
        src.pos([i, key]),
        'name the playbook itself',
      );
    const target = isAbsolute(name) ? name : join(dir, name);
    if (!existsSync(target))
      throw new InputError(`import_playbook: playbook "${name}" not found`, src.pos([i, key]), `looked for ${target}`);
    const here: Imported = {
      vars: { ...(outer?.vars ?? {}), ...((p.vars as Record<string, unknown>) ?? {}) },
      tags: [...(outer?.tags ?? []), ...asList(p.tags)],
      when: [...(outer?.when ?? []), ...(conditions(p.when) ?? [])],
    };
    return readPlays(target, opts, depth + 1, here);
  });
}

/** What a task list's tasks inherit from where they are written (block, include, role, play). */
interface Inherit {
  role?: RoleDef;
  when: string[];
  tags: string[];
  /** Block, task and import vars. */
  vars: Record<string, unknown>;
  /** Role params and include params (an include's vars and loop variables): above facts, as in Ansible. */
  params: Record<string, unknown>;
  become?: boolean;
  becomeUser?: string;
  ignoreErrors?: boolean;
  noLog?: boolean;
  delegateTo?: string;
  runOnce?: boolean;
  checkMode?: boolean;
  diff?: boolean;
  ignoreUnreachable?: boolean;
  /** Each level's `environment:`, outermost first. */
  environment?: unknown[];
  moduleDefaults?: Record<string, Record<string, unknown>>;
  anyErrorsFatal?: boolean;
  throttle?: number;
  blocks: BlockFrame[];
  /** Variables that hold data, not templates (an include's loop variables). */
  data?: string[];
}

/** One play's loading: where roles are, the roles import_role brought in, block ids. */
class PlayLoader {
  readonly extraRoles: LoadedRole[] = [];
  /** Handlers of roles include_role brought in while the play was loaded, by role directory and handlers file. */
  readonly includedHandlers: [string, TaskDef[]][] = [];
  /** Once the play is loaded: its handlers, which include_role grows at run time. */
  playHandlers?: TaskDef[];
  /** Whose handlers are the play's already: role directory and handlers file. */
  readonly handlerKeys = new Set<string>();
  /** Roles (with their parameters) already in the play: `roles:` and dependencies run once. */
  readonly rolesRun = new Set<string>();
  private nextBlock = 0;
  private depth = 0;
  constructor(
    readonly rolesPath: string[],
    readonly modules: ModuleCatalog,
    /** The playbook's directory: included files are looked for there last. */
    readonly baseDir: string,
  ) {}
  /**
   * The handlers of a role include_role brought in: once per role and what it was included with (its
   * *_from and vars), as Ansible keeps one copy of a role per such set (each copy's handler runs when notified).
   */
  addHandlers(role: LoadedRole, includedWith: string): void {
    for (const r of [...role.deps, role]) {
      const key = `${r.dir}\0${r === role ? includedWith : 'main'}`;
      if (this.handlerKeys.has(key)) continue;
      this.handlerKeys.add(key);
      if (this.playHandlers) this.playHandlers.push(...r.handlers);
      else this.includedHandlers.push([key, r.handlers]);
    }
  }
  /** Whether loading may go one include deeper (a file including itself stops here). */
  get deep(): boolean {
    return this.depth >= 20;
  }
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
  params: {},
  blocks: [],
});

/** A keyword's boolean as Ansible reads it (`yes`, `no`, `true`, `False`, `on`...); undefined when unset. */
const flag = (v: unknown): boolean | undefined => (v === undefined || v === null ? undefined : toBool(v));

/** `vars:` of a play, as a map or a list of maps (merged in order). */
function varsOf(v: unknown): Record<string, unknown> {
  if (Array.isArray(v)) return Object.assign({}, ...v.map((m) => (m ?? {}) as Record<string, unknown>));
  return (v as Record<string, unknown>) ?? {};
}

/** `environment:` as a list of maps (a block's, then a task's, later winning), or a template text. */
const environmentOf = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

function loadPlay(
  p: Record<string, unknown>,
  src: YamlSource,
  path: YamlPath,
  loader: PlayLoader,
  outer?: Imported,
): PlayDef {
  if ('vars_prompt' in p)
    throw new InputError(
      'vars_prompt is not supported: relay-play never stops to ask',
      src.pos([...path, 'vars_prompt'], { key: true }),
      "give the values in the play's vars, a vars_files file or the inventory",
    );
  validateAt(playSchema, p, src, path, 'play');
  const hosts = asList(p.hosts).join(':');
  const playTags = [...(outer?.tags ?? []), ...asList(p.tags)];
  const base: Inherit = {
    ...top(undefined, playTags, outer?.when ?? []),
    become: flag(p.become),
    becomeUser: p.become_user as string | undefined,
    ignoreErrors: flag(p.ignore_errors),
    ignoreUnreachable: flag(p.ignore_unreachable),
    noLog: flag(p.no_log),
    checkMode: flag(p.check_mode),
    diff: flag(p.diff),
    environment: environmentOf(p.environment),
    moduleDefaults: moduleDefaultsOf(p.module_defaults),
  };
  // Unset stays unset: the host's ansible_become applies then (src/engine/runner/execute.ts).
  delete base.become;
  delete base.becomeUser;
  const roles: LoadedRole[] = [];
  const roleTasks: TaskDef[] = [];
  const roleHandlers: TaskDef[] = [];
  ((p.roles as unknown[]) ?? []).forEach((r, i) => {
    const { role: name, vars, tags, when, tasks_from: from, become, become_user: becomeUser, ...rest } = roleEntry(r);
    const role = loadRole(
      name,
      { tasks: from },
      loader,
      src,
      [...path, 'roles', i],
      {
        ...base,
        tags: [...playTags, ...asList(tags)],
        when: [...base.when, ...(conditions(when) ?? [])],
        become: flag(become),
        becomeUser: becomeUser as string | undefined,
      },
      rest,
      true,
      false,
      varsOf(vars),
    );
    roles.push(...role.deps, role);
    roleTasks.push(...role.tasks);
    roleHandlers.push(...role.deps.flatMap((d) => d.handlers), ...role.handlers);
  });
  const own = (key: string) => loadTasks(p[key], src, [...path, key], base, loader);
  // gather_facts (Ansible's default: yes) starts the play with setup: one round trip per host.
  const gather = flag(p.gather_facts) ?? true;
  const facts = gather
    ? [
        {
          ...loadTask(
            {
              name: 'Gathering Facts',
              // The play's keywords for it, as Ansible passes them to setup.
              setup: Object.fromEntries(
                ['gather_subset', 'gather_timeout', 'fact_path']
                  .filter((k) => p[k] !== undefined)
                  .map((k) => [k, p[k]]),
              ),
              tags: ['always'],
            },
            src,
            path,
            base,
            loader,
          ),
          implicit: true,
          action: 'gather_facts',
        },
      ]
    : [];
  const tasks = [...facts, ...own('pre_tasks'), ...roleTasks, ...own('tasks'), ...own('post_tasks')];
  // A role brought in more than once has its handlers once (they would all run on one notification).
  const seen = new Set(roles.map((r) => r.dir));
  const extraHandlers = loader.extraRoles.filter((r) => !seen.has(r.dir) && seen.add(r.dir)).flatMap((r) => r.handlers);
  const mainKeys = new Set([...seen].map((d) => `${d}\0main`));
  const included = loader.includedHandlers.filter(([k]) => !mainKeys.has(k)).flatMap(([, hs]) => hs);
  const handlers = [...roleHandlers, ...extraHandlers, ...included, ...own('handlers')];
  // include_role adds the handlers of roles it reads when the play runs to this list.
  for (const k of mainKeys) loader.handlerKeys.add(k);
  loader.playHandlers = handlers;
  const serial = p.serial === undefined || p.serial === null ? [] : Array.isArray(p.serial) ? p.serial : [p.serial];
  return {
    name: String(p.name ?? hosts),
    hosts,
    tags: playTags,
    gatherFacts: gather,
    vars: { ...(outer?.vars ?? {}), ...varsOf(p.vars) },
    varsFiles: (p.vars_files as unknown[] | undefined) ?? [],
    become: flag(p.become),
    becomeUser: p.become_user as string | undefined,
    roles: [...roles, ...loader.extraRoles].map(({ tasks: _t, handlers: _h, deps: _d, ...role }) => role),
    // Ansible's order: pre_tasks, roles, tasks, post_tasks.
    tasks,
    handlers,
    strategy: (p.strategy as 'linear' | 'free' | undefined) ?? 'linear',
    serial: serial.map((x) => (typeof x === 'number' ? x : String(x))),
    maxFailPercentage: p.max_fail_percentage === undefined ? undefined : Number(p.max_fail_percentage),
    anyErrorsFatal: flag(p.any_errors_fatal) === true,
    order: (p.order as PlayDef['order'] | undefined) ?? 'inventory',
    forceHandlers: flag(p.force_handlers) === true,
    dir: dirname(resolve(src.file)),
    pos: src.pos(path),
    hostsPos: src.pos([...path, 'hosts']),
  };
}

/** A `roles:` entry: a name, or a map with `role:` (or `name:`) and its keywords. */
function roleEntry(r: unknown): Record<string, unknown> & { role: string; tasks_from?: string } {
  if (typeof r === 'string') return { role: r };
  const m = r as Record<string, unknown>;
  return { ...m, role: String(m.role ?? m.name) };
}

/** `module_defaults:` — a map of module names (also `ansible.builtin.X`) to their default arguments. */
function moduleDefaultsOf(v: unknown): Record<string, Record<string, unknown>> {
  if (!v) return {};
  const list = Array.isArray(v) ? v : [v];
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of list)
    for (const [k, args] of Object.entries((m ?? {}) as Record<string, unknown>))
      out[shortName(k)] = { ...(out[shortName(k)] ?? {}), ...((args ?? {}) as Record<string, unknown>) };
  return out;
}

type LoadedRole = RoleDef & { tasks: TaskDef[]; handlers: TaskDef[]; deps: LoadedRole[] };

/** Which files of a role to read (tasks_from, vars_from, defaults_from, handlers_from); main by default. */
interface RoleFrom {
  tasks?: string;
  vars?: string;
  defaults?: string;
  handlers?: string;
}

/**
 * A role: its defaults, vars, tasks (from `tasksFrom`) and handlers, and before it the roles its
 * `meta/main.yml` lists under `dependencies` (each with the keywords and parameters written there, and
 * what the role inherits). `params` (an entry's keys but `vars:`) are its tasks' role params; the entry's
 * `vars:` (`entryVars`) come before the role's own vars/main, as Ansible layers them. Within
 * a play, a role listed (or depended on) twice with the same parameters runs once, as in Ansible, unless
 * its meta says `allow_duplicates: true`.
 */
function loadRole(
  name: string,
  from: RoleFrom,
  loader: PlayLoader,
  src: YamlSource,
  path: YamlPath,
  inherit: Inherit,
  params: Record<string, unknown> = {},
  dedupe = true,
  included = false,
  entryVars: Record<string, unknown> = {},
): LoadedRole {
  const { rolesPath } = loader;
  const dir = [...(inherit.role ? [join(inherit.role.dir, '..')] : []), ...rolesPath]
    .map((p) => join(p, name))
    .find((d) => existsSync(d));
  if (!dir) {
    const where = `looked in: ${rolesPath.join(', ')}`;
    if (included) throw new IncludeNotFound(`role "${name}" not found (${where})`);
    throw new InputError(`role "${name}" not found`, src.pos(path), where, EXIT.input);
  }
  const role: LoadedRole = {
    name,
    dir,
    defaults: {},
    vars: {},
    tasks: [],
    handlers: [],
    deps: [],
    ...(included ? { included } : {}),
  };
  const tasksFrom = (from.tasks ?? 'main').replace(/\.ya?ml$/, '');
  const file = (sub: string, base = 'main') =>
    [`${base}.yaml`, `${base}.yml`, base].map((f) => join(dir, sub, f)).find((f) => existsSync(f));
  for (const sub of ['defaults', 'vars'] as const) {
    const base = (from[sub] ?? 'main').replace(/\.ya?ml$/, '');
    const f = file(sub, base);
    if (!f && base !== 'main') {
      const msg = `role "${name}" has no ${sub}/${base}.yaml`;
      if (included) throw new IncludeNotFound(msg);
      throw new InputError(msg, src.pos(path), `check ${sub}_from`);
    }
    if (!f) continue;
    const vs = loadYamlFile(f);
    const v = vs.toJS();
    validateAt(varsFileSchema, v, vs, [], `role ${name} ${sub}`);
    role[sub] = (v as Record<string, unknown>) ?? {};
  }
  role.vars = { ...entryVars, ...role.vars };
  const metaFile = file('meta');
  const meta = metaFile ? loadYamlFile(metaFile) : undefined;
  const metaData = (meta?.toJS() ?? {}) as { dependencies?: unknown[]; allow_duplicates?: unknown };
  if (meta) validateAt(roleMetaSchema, metaData, meta, [], `role ${name} meta`);
  const key = `${dir}\0${JSON.stringify(from)}\0${JSON.stringify([params, entryVars])}`;
  const duplicate = dedupe && flag(metaData.allow_duplicates) !== true && loader.rolesRun.has(key);
  loader.rolesRun.add(key);
  const mine: Inherit = { ...inherit, role, params: { ...inherit.params, ...params } };
  if (meta && !duplicate)
    (metaData.dependencies ?? []).forEach((d, i) => {
      const entry = roleEntry(d);
      const { role: depName, vars, tags, when, tasks_from: from, become, become_user: becomeUser, ...rest } = entry;
      const dep = loadRole(
        depName,
        { tasks: from },
        loader,
        meta,
        ['dependencies', i],
        {
          ...inherit,
          role,
          tags: [...inherit.tags, ...asList(tags)],
          when: [...inherit.when, ...(conditions(when) ?? [])],
          become: flag(become) ?? inherit.become,
          becomeUser: (becomeUser as string | undefined) ?? inherit.becomeUser,
        },
        rest,
        dedupe,
        included,
        varsOf(vars),
      );
      role.deps.push(...dep.deps, dep);
      role.tasks.push(...dep.tasks);
    });
  for (const sub of ['tasks', 'handlers'] as const) {
    const base = sub === 'tasks' ? tasksFrom : (from.handlers ?? 'main').replace(/\.ya?ml$/, '');
    const f = file(sub, base);
    if (!f && base !== 'main') {
      const msg = `role "${name}" has no ${sub}/${base}.yaml`;
      if (included) throw new IncludeNotFound(msg);
      throw new InputError(msg, src.pos(path), `check ${sub}_from`);
    }
    if (!f) continue;
    if (sub === 'tasks' && duplicate) continue;
    const ts = loadYamlFile(f);
    const list = ts.toJS() ?? [];
    role[sub].push(...loadTasks(list, ts, [], sub === 'tasks' ? mine : top(role), loader));
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
    if (include?.startsWith('import_')) return loadImport(include, t, src, at, inherit, loader);
    if (include)
      return [
        loadDynamicInclude(
          include,
          t,
          src,
          at,
          inherit,
          loader,
          Object.keys(raw).find((k) => k.endsWith(include)),
        ),
      ];
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
    diff: flag(t.diff) ?? inherit.diff,
    ignoreUnreachable: flag(t.ignore_unreachable) ?? inherit.ignoreUnreachable,
    environment: [...(inherit.environment ?? []), ...environmentOf(t.environment)],
    moduleDefaults: { ...(inherit.moduleDefaults ?? {}), ...moduleDefaultsOf(t.module_defaults) },
    anyErrorsFatal: flag(t.any_errors_fatal) ?? inherit.anyErrorsFatal,
    throttle: t.throttle === undefined ? inherit.throttle : Number(t.throttle),
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

/** Where include_tasks / import_tasks look for `name`: the role's tasks/, beside the including file, the playbook's directory. */
function taskFiles(name: string, src: YamlSource, inherit: Inherit, loader: PlayLoader): string[] {
  if (isAbsolute(name)) return [name];
  const here = dirname(resolve(src.file));
  return [
    ...new Set([
      ...(inherit.role ? [join(inherit.role.dir, 'tasks', name)] : []),
      join(here, name),
      join(loader.baseDir, name),
    ]),
  ];
}

/** A loop on an import: Ansible refuses it too. */
function refuseLoop(key: string, t: Record<string, unknown>, src: YamlSource, path: YamlPath): void {
  const k = Object.keys(t).find((x) => x === 'loop' || x.startsWith('with_'));
  if (k)
    throw new InputError(
      `You cannot use loops on '${key}' statements. You should use '${key.replace('import_', 'include_')}' instead.`,
      src.pos([...path, k], { key: true }),
      `${key.replace('import_', 'include_')} reads the ${key.endsWith('_role') ? 'role' : 'file'} once per item`,
    );
}

// import_tasks / import_role are read when the playbook is loaded (static): their `when`, tags and
// vars apply to every task they bring in.
function loadImport(
  key: string,
  t: Record<string, unknown>,
  src: YamlSource,
  path: YamlPath,
  inherit: Inherit,
  loader: PlayLoader,
): TaskDef[] {
  const isRole = key.endsWith('_role');
  refuseLoop(key, t, src, path);
  validateAt(isRole ? importRoleSchema : importTasksSchema, t, src, path, key);
  const base = inheritFrom(t, inherit);
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
      const role = loadRole(spec.name, { tasks: spec.tasks_from }, loader, src, at, base, spec.vars ?? {}, false);
      loader.extraRoles.push(role);
      return role.tasks;
    }
    const name = String(t[key]);
    if (name.includes('{{'))
      throw new InputError(
        `${key} with a template in the file name is not supported`,
        src.pos(at),
        'name the file itself',
      );
    const candidates = taskFiles(name, src, inherit, loader);
    const file = candidates.find((c) => existsSync(c));
    if (!file)
      throw new InputError(`${key}: file "${name}" not found`, src.pos(at), `looked in: ${candidates.join(', ')}`);
    const included = loadYamlFile(file);
    return loadTasks(included.toJS() ?? [], included, [], base, loader);
  });
}

/**
 * include_tasks / include_role: one task, run when a host reaches it (src/engine/runner/includes.ts):
 * its `when` is asked once, its loop includes once per item, its file or role name may be a template.
 * The tasks it brings in inherit what is around the include (blocks, role, play) and its `vars`, but
 * not its own keywords (tags, when, ignore_errors...): those are the include's, as in Ansible; `apply:`
 * gives keywords to them. A name without a template is read now too, so that what can never run in
 * it is refused before anything runs.
 */
function loadDynamicInclude(
  key: string,
  t: Record<string, unknown>,
  src: YamlSource,
  path: YamlPath,
  inherit: Inherit,
  loader: PlayLoader,
  written = key,
): TaskDef {
  const isRole = key === 'include_role';
  const bad = Object.keys(t).find((k) => k !== key && !INCLUDE_KEYWORDS.includes(k));
  if (bad)
    throw new InputError(
      `'${bad}' is not a valid attribute for a ${isRole ? 'IncludeRole' : 'TaskInclude'}`,
      src.pos([...path, bad], { key: true }),
      `to give it to the included tasks, write it under "apply:" in the ${key} arguments`,
    );
  validateAt(isRole ? includeRoleSchema : includeTasksSchema, t, src, path, key);
  const raw = t[key];
  const spec = (typeof raw === 'string' ? { file: raw } : raw) as Record<string, unknown>;
  const applied = { ...((t.apply as object) ?? {}), ...((spec.apply as object) ?? {}) } as {
    tags?: unknown;
    become?: unknown;
    become_user?: string;
    run_once?: unknown;
  };
  const child: Inherit = {
    ...inherit,
    tags: [...inherit.tags, ...asList(applied.tags)],
    params: { ...inherit.params, ...((t.vars as Record<string, unknown>) ?? {}) },
    become: flag(applied.become) ?? inherit.become,
    becomeUser: applied.become_user ?? inherit.becomeUser,
    runOnce: flag(applied.run_once) ?? inherit.runOnce,
    noLog: flag(t.no_log) ?? inherit.noLog,
  };
  const at = [...path, key];
  const target = String(isRole ? spec.name : spec.file);
  const cache = new Map<string, Included>();
  const read = (name: string, from: Record<string, string>, vars: Record<string, unknown>): Included => {
    const cacheKey = JSON.stringify([name, from, vars]);
    const hit = cache.get(cacheKey);
    if (hit) return hit;
    const names = Object.keys(vars);
    const base: Inherit = {
      ...child,
      params: { ...child.params, ...vars },
      data: [...(child.data ?? []).filter((n) => !names.includes(n)), ...names],
    };
    let out: Included;
    if (isRole) {
      const role = loadRole(
        name,
        { tasks: from.tasks_from, vars: from.vars_from, defaults: from.defaults_from, handlers: from.handlers_from },
        loader,
        src,
        at,
        base,
        (spec.vars as Record<string, unknown>) ?? {},
        false,
        true,
      );
      const plain = !Object.keys(from).length && !spec.vars;
      loader.addHandlers(role, plain ? 'main' : JSON.stringify([from, spec.vars ?? {}]));
      out = { tasks: role.tasks, role };
    } else {
      const candidates = taskFiles(name, src, inherit, loader);
      const file = candidates.find((c) => existsSync(c));
      if (!file)
        throw new IncludeNotFound(
          `Could not find or access '${candidates[candidates.length - 1]}' on the Ansible Controller.`,
        );
      const included = loadYamlFile(file);
      out = { tasks: loadTasks(included.toJS() ?? [], included, [], base, loader) };
    }
    cache.set(cacheKey, out);
    return out;
  };
  const from = Object.fromEntries(
    ['tasks_from', 'vars_from', 'defaults_from', 'handlers_from']
      .filter((k) => isRole && typeof spec[k] === 'string')
      .map((k) => [k, String(spec[k])]),
  );
  const { file: _file, ...args } = spec;
  const include: IncludeDef = {
    kind: isRole ? 'role' : 'tasks',
    target,
    from,
    public: flag(spec.public) === true,
    args: isRole ? spec : args,
    read,
  };
  // Read now what needs no variables, so preflight sees its tasks; a file or role not there fails
  // only when a host reaches the include, as in Ansible (a skipped include never reads it).
  const templated = [target, ...Object.values(from)].some((v) => v.includes('{{'));
  if (!templated && !loader.deep)
    loader.nested(src, at, () => {
      try {
        include.known = read(target, from, {}).tasks;
      } catch (e) {
        if (!(e instanceof IncludeNotFound)) throw e;
      }
    });
  const name = typeof t.name === 'string' ? t.name : isRole ? `${written} : ${target}` : written;
  return loadTask({ ...t, name }, src, path, inherit, loader, {
    key,
    mod: key,
    written,
    args: raw,
    local: false,
    include,
  });
}

/** Ansible's free-form modules: their text is a command, with only the command options taken from it. */
const FREE_FORM = new Set(['command', 'shell', 'raw', 'script']);
/** Modules that take words other than `key=value` (relay-play's free-form modules read them as `_raw`). */
const RAW_PARAMS = new Set([...FREE_FORM, 'set_fact', 'debug', 'meta', 'include_vars', 'group_by', 'add_host']);

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
  preset?: ReturnType<typeof moduleAndArgs> & { include: IncludeDef },
): TaskDef {
  const role = inherit.role;
  const { key: modKey, mod, written, args: given, local } = preset ?? moduleAndArgs(t, src, path, loader.modules);
  // module_defaults of the play, block or task: under the arguments the task writes.
  const defaults = inherit.moduleDefaults?.[shortName(mod)];
  const args =
    defaults && given && typeof given === 'object' && !Array.isArray(given) ? { ...defaults, ...given } : given;
  validateAt(taskSchema, t, src, path, 'task');
  const loops = Object.keys(t).filter((k) => k === 'loop' || WITH_LOOPS.has(k));
  if (loops.length > 1)
    throw new InputError(
      `a task has one loop, not ${loops.join(' and ')}`,
      src.pos([...path, loops[1]], { key: true }),
      'keep one of them',
    );
  const delegate = local ? 'localhost' : ((t.delegate_to as string | undefined) ?? inherit.delegateTo);
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
    loopWith: loopKey && loopKey !== 'loop' ? loopKey.slice('with_'.length) : 'loop',
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
    ...(Object.keys(inherit.params).length ? { params: inherit.params } : {}),
    role,
    tags: [...new Set([...inherit.tags, ...asList(t.tags)])],
    blocks: inherit.blocks,
    delegateTo: delegate === undefined || delegate === null ? undefined : String(delegate),
    delegateFacts: flag(t.delegate_facts) === true,
    runOnce: flag(t.run_once) ?? Boolean(inherit.runOnce),
    checkMode: flag(t.check_mode) ?? inherit.checkMode,
    diff: flag(t.diff) ?? inherit.diff,
    until: conditions(t.until),
    retries: t.retries === undefined ? undefined : Number(t.retries),
    delay: t.delay === undefined ? undefined : Number(t.delay),
    environment: [...(inherit.environment ?? []), ...environmentOf(t.environment)],
    ignoreUnreachable: flag(t.ignore_unreachable) ?? Boolean(inherit.ignoreUnreachable),
    anyErrorsFatal: flag(t.any_errors_fatal) ?? inherit.anyErrorsFatal,
    throttle: t.throttle === undefined ? inherit.throttle : Number(t.throttle),
    ...(preset ? { include: preset.include } : {}),
    ...(inherit.data?.length ? { dataVars: inherit.data } : {}),
    pos: src.pos(path),
    src,
    path: [...path, modKey],
  };
}

/** Ansible task keywords relay-play does not have, and what to do instead. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  async: 'async tasks are not supported',
  poll: 'async tasks are not supported',
  include: 'use include_tasks or import_tasks',
};
