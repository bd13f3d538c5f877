import type { SourcePos } from '../errors.js';
import type { YamlPath, YamlSource } from '../yaml/source.js';

export interface RoleDef {
  name: string;
  dir: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
}

export interface TaskDef {
  /** Display name ("role : name" for role tasks). */
  name: string;
  /** The name as written: what `notify` matches for handlers. */
  rawName: string;
  module: string;
  args: unknown;
  when: string[];
  loop?: unknown;
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
  /** Where the task is written, and the YAML path of its args (for error positions). */
  pos: SourcePos;
  src: YamlSource;
  path: YamlPath;
}

export interface PlayDef {
  name: string;
  hosts: string;
  vars: Record<string, unknown>;
  become: boolean;
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
