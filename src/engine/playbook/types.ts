import type { SourcePos } from '../util/errors.js';
import type { YamlPath, YamlSource } from '../yaml/source.js';

export interface RoleDef {
  name: string;
  dir: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
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
  handlers: TaskDef[];
  pos: SourcePos;
  hostsPos: SourcePos;
}

export interface Playbook {
  file: string;
  dir: string;
  plays: PlayDef[];
}
