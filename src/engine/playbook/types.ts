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
  /** How `loop` is turned into items: as it is (loop, with_list), flattened (with_items), a dict's items, zipped lists. */
  loopWith: 'loop' | 'items' | 'dict' | 'together';
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
  /** Only "localhost": the task runs on this machine, with the host's variables. */
  delegateTo?: string;
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
