import type { PlayDef, TaskDef } from '../playbook/types.js';
import type { TaskResult } from './result.js';
import type { HostStats } from './state.js';

/** What the runner tells the outside world. Renderers: plain lines, listr2 on a TTY, --json. */
export interface Reporter {
  playStart(play: PlayDef, hosts: string[]): void;
  taskStart(host: string, task: TaskDef): void;
  taskResult(host: string, task: TaskDef, result: TaskResult): void;
  /** The host has run all its tasks and handlers of the play. */
  hostDone(host: string): void;
  /** Awaited: a renderer may finish drawing the play here. */
  playEnd(play: PlayDef): void | Promise<void>;
  /** A host an application routes was connected to; `how` says which way, in words (-v). */
  reached?(host: string, how: string): void;
  /** Something worth saying about how a host is reached, e.g. ssh config keywords not honoured (-v). */
  note?(host: string, text: string): void;
  /** A warning about the playbook or the command line, as ansible-playbook's [WARNING] lines. */
  warn?(text: string): void;
  /** Called once with the final stats; returns when output is flushed. */
  end(stats: Map<string, HostStats>): Promise<void>;
}
