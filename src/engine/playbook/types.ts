import type { SourcePos } from '../util/errors.js';
import type { YamlPath, YamlSource } from '../yaml/source.js';

export interface RoleDef {
  name: string;
  dir: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** Brought in by include_role: its defaults and vars are its own tasks' only (unless `public`). */
  included?: boolean;
}

/** A task's place in a block: which block (by id), and in which of its sections. */
export interface BlockFrame {
  id: number;
  section: 'block' | 'rescue' | 'always';
  /** The block has a rescue section (a failure in its block section is caught). */
  rescues: boolean;
}

export interface LoopControl {
  /** Name of the loop variable (default "item"). */
  loopVar: string;
  indexVar?: string;
  label?: string;
  extended: boolean;
  pause?: number;
}

/** What include_tasks / include_role bring in, read when a host reaches them (src/engine/runner/includes.ts). */
export interface Included {
  tasks: TaskDef[];
  /** include_role: the role (its defaults and vars, for `public`). */
  role?: RoleDef;
}

/** An include_tasks / include_role task: what it names, and how to read that when it runs. */
export interface IncludeDef {
  kind: 'tasks' | 'role';
  /** The file (include_tasks) or role name (include_role) as written: a template. */
  target: string;
  /** include_role's tasks_from, vars_from, defaults_from, handlers_from, as written. */
  from: Record<string, string>;
  /** include_role `public`: the role's defaults and vars stay visible to the host's later tasks. */
  public: boolean;
  /** What Ansible registers as `include_args` (the include's arguments but the file). */
  args: Record<string, unknown>;
  /**
   * The tasks it brings in for the rendered target and froms, with `vars` (the loop variables) as
   * variables of them. Shared by every host asking the same. Throws IncludeNotFound.
   */
  read(target: string, from: Record<string, string>, vars: Record<string, unknown>): Included;
  /** The tasks read when the playbook was loaded (a target without a template), for preflight. */
  known?: TaskDef[];
}

/** An include's file or role that is not there (Ansible's message). */
export class IncludeNotFound extends Error {}

export interface TaskDef {
  /** Display name ("role : name" for role tasks). */
  name: string;
  /** The name as written: what `notify` matches for handlers. */
  rawName: string;
  module: string;
  /** The module's name as the task writes it (`ansible.builtin.copy`): Ansible's `action`. */
  action?: string;
  args: unknown;
  when: string[];
  loop?: unknown;
  /** How `loop` is turned into items: `loop` as it is, or the `with_*` lookup of that name (src/engine/runner/loops.ts). */
  loopWith: string;
  loopControl: LoopControl;
  register?: string;
  notify: string[];
  listen: string[];
  become?: boolean;
  becomeUser?: string;
  changedWhen?: string[];
  failedWhen?: string[];
  noLog: boolean;
  ignoreErrors: boolean;
  vars: Record<string, unknown>;
  role?: RoleDef;
  /** Own tags and those inherited from blocks, includes, roles and the play. */
  tags: string[];
  /** Enclosing blocks, outermost first. */
  blocks: BlockFrame[];
  /** The host the task runs on instead (a template), with the host's variables; localhost is this machine. */
  delegateTo?: string;
  /** Facts the delegated task sets go to the host it ran on. */
  delegateFacts?: boolean;
  diff?: boolean;
  until?: string[];
  retries?: number;
  delay?: number;
  /** Each level's `environment:` (play, blocks, task), outermost first: merged, later winning. */
  environment: unknown[];
  ignoreUnreachable: boolean;
  anyErrorsFatal?: boolean;
  throttle?: number;
  /** The play's implicit fact gathering (never listed by --list-tasks). */
  implicit?: boolean;
  runOnce: boolean;
  /** check_mode: false runs the task for real under --check (true: as in check mode always). */
  checkMode?: boolean;
  /** include_tasks / include_role: read when reached, not when the playbook is loaded. */
  include?: IncludeDef;
  /** Variables holding data (loop variables of an include), never rendered again. */
  dataVars?: string[];
  /** Role params and include params: above set_fact and registered results, as in Ansible. */
  params?: Record<string, unknown>;
  /** Where the task is written, and the YAML path of its args (for error positions). */
  pos: SourcePos;
  src: YamlSource;
  path: YamlPath;
}

export interface PlayDef {
  name: string;
  hosts: string;
  tags: string[];
  gatherFacts: boolean;
  vars: Record<string, unknown>;
  /** `vars_files`: file names (templates), or lists of them of which the first found is read. */
  varsFiles: unknown[];
  strategy: 'linear' | 'free';
  /** Batches: numbers, or percentages ("30%"); the last repeats. Empty: one batch. */
  serial: (number | string)[];
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  order: 'inventory' | 'reverse_inventory' | 'sorted' | 'reverse_sorted' | 'shuffle';
  forceHandlers: boolean;
  /** The directory of the playbook file the play is written in. */
  dir: string;
  /** Unset when the play does not say: the host's ansible_become decides. */
  become?: boolean;
  becomeUser?: string;
  roles: RoleDef[];
  tasks: TaskDef[];
  /** Grows when include_role brings in a role whose name is a template. */
  handlers: TaskDef[];
  /** --tags / --skip-tags, for the tasks includes bring in (src/engine/playbook/tags.ts). */
  select?: (task: TaskDef) => boolean;
  pos: SourcePos;
  hostsPos: SourcePos;
}

export interface Playbook {
  file: string;
  dir: string;
  plays: PlayDef[];
}
