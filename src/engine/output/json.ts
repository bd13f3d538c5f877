// --json: one object on stdout shaped like Ansible's json callback; nothing else goes to stdout.
import type { PlayDef, TaskDef } from '../playbook/types.js';
import { changedOf, type TaskResult } from '../runner/result.js';
import type { HostStats } from '../runner/state.js';
import type { Reporter } from '../runner/reporter.js';
import { writeWarning } from './text.js';
import { jsonText } from '../util/pyfloat.js';

interface JsonTask {
  task: { name: string; id: string };
  hosts: Record<string, Record<string, unknown>>;
}
interface JsonPlay {
  play: { name: string; id: string };
  tasks: JsonTask[];
}

export class JsonReporter implements Reporter {
  private readonly plays: JsonPlay[] = [];
  private readonly taskIds = new Map<TaskDef, JsonTask>();

  constructor(
    private readonly opts: { diff: boolean },
    private readonly write: (s: string) => void = (s) => process.stdout.write(s),
  ) {}

  playStart(play: PlayDef): void {
    this.plays.push({ play: { name: play.name, id: `play-${this.plays.length}` }, tasks: [] });
  }

  /** A task is listed once a host starts it (a meta task, as in Ansible's callback, with no host result). */
  taskStart(_host: string, task: TaskDef): void {
    this.entry(task);
  }

  private entry(task: TaskDef): JsonTask {
    const play = this.plays[this.plays.length - 1];
    let entry = this.taskIds.get(task);
    if (!entry) {
      entry = { task: { name: task.name, id: `${play.play.id}-task-${this.taskIds.size}` }, hosts: {} };
      this.taskIds.set(task, entry);
      play.tasks.push(entry);
    }
    return entry;
  }

  taskResult(host: string, task: TaskDef, r: TaskResult): void {
    const entry = this.entry(task);
    // As Ansible's json callback: the module the task ran.
    const out: Record<string, unknown> = {
      ...r.result,
      action: task.action ?? task.module,
      changed: changedOf(r),
    };
    // A failure says whether it changed anything only when its result does; a meta task never does.
    if (r.status === 'failed' || task.module === 'meta') delete out.changed;
    if (r.status === 'failed' && r.result.changed !== undefined) out.changed = Boolean(r.result.changed);
    // As Ansible's callbacks: the status says failed and skipped (a loop registers `skipped: false`).
    if (r.status === 'failed') out.failed = true;
    if (r.status === 'skipped') out.skipped = true;
    else delete out.skipped;
    if (r.status === 'unreachable') out.unreachable = true;
    if ((r.showDiff ?? this.opts.diff) && r.diff.length) out.diff = r.diff;
    entry.hosts[host] = out;
  }

  hostDone(): void {}
  playEnd(): void {}

  warn(text: string): void {
    writeWarning(text);
  }

  async end(stats: Map<string, HostStats>): Promise<void> {
    this.write(jsonText({ plays: this.plays, stats: Object.fromEntries(stats) }, 2) + '\n');
  }
}
