// Variable precedence, lowest first, as Ansible documents it:
// role defaults < inventory (src/engine/inventory) < facts modules found (setup, getent) < play vars < vars_files < role vars (a role entry's
// `vars:`, then its vars/main) < block and task vars < include_vars < set_fact and registered results
// < role params and include params (with an include's loop variables) < extra vars (-e) < loop item.
import { OMIT } from '../template/jinja.js';
import { RAW } from '../template/expr.js';
import type { PlayDef, TaskDef } from '../playbook/types.js';
import type { RunState } from './state.js';

/** Names every task can use without defining them. */
export const MAGIC_VARS = [
  'inventory_hostname',
  'hostvars',
  'groups',
  'group_names',
  'ansible_check_mode',
  'ansible_diff_mode',
  'playbook_dir',
  'role_path',
  'play_hosts',
  'omit',
  'ansible_failed_task',
  'ansible_failed_result',
];

export interface VarsContext {
  state: RunState;
  play: PlayDef;
  playHosts: string[];
  check: boolean;
  diff: boolean;
  playbookDir: string;
}

export function playDefaults(play: PlayDef): Record<string, unknown> {
  return Object.assign({}, ...play.roles.map((r) => r.defaults));
}

export function roleVars(play: PlayDef): Record<string, unknown> {
  return Object.assign({}, ...play.roles.map((r) => r.vars));
}

export function taskVars(ctx: VarsContext, host: string, task: TaskDef): Record<string, unknown> {
  const { state, play } = ctx;
  const inv = state.inventory.hosts.get(host)!;
  const h = state.host(host);
  const facts = h.facts;
  // A role include_role brought in: its defaults and vars are its tasks' (and, if public, the host's later tasks').
  const own = task.role?.included ? task.role : undefined;
  const params = task.params ?? {};
  const publicVars = h.publicRoles.length ? Object.assign({}, ...h.publicRoles.map((r) => r.vars)) : {};
  // What is over the facts modules found, lowest first.
  const over = [
    play.vars,
    h.playVars,
    roleVars(play),
    publicVars,
    own?.vars ?? {},
    task.vars ?? {},
    h.includedVars,
    facts,
    params,
    state.extraVars,
  ];
  const raw = new Set(
    Object.keys(facts).filter((k) => !Object.hasOwn(params, k) && !Object.hasOwn(state.extraVars, k)),
  );
  for (const k of Object.keys(h.found)) if (!over.some((o) => Object.hasOwn(o, k))) raw.add(k);
  for (const n of task.dataVars ?? []) raw.add(n);
  return {
    // Registered results and facts are data: never rendered again (src/engine/template/expr.ts, RAW).
    [RAW]: raw,
    ...playDefaults(play),
    ...(h.publicRoles.length ? Object.assign({}, ...h.publicRoles.map((r) => r.defaults)) : {}),
    ...own?.defaults,
    ...inv.vars,
    ...h.found,
    ...Object.assign({}, ...over),
    inventory_hostname: host,
    group_names: inv.groups.filter((g) => g !== 'all' && g !== 'ungrouped').sort(),
    hostvars: state.hostvarsView(),
    groups: state.groupsView(),
    play_hosts: ctx.playHosts,
    ansible_check_mode: ctx.check,
    ansible_diff_mode: ctx.diff,
    playbook_dir: ctx.playbookDir,
    role_path: task.role?.dir ?? '',
    omit: OMIT,
  };
}
