// On a TTY: a live listr2 view, one line per host showing the task it is on; diffs and the
// recap are printed once the play's view is closed so they never fight the live renderer.
import { Listr } from 'listr2';
import type { PlayDef, TaskDef } from '../playbook/types.js';
import type { TaskResult } from '../runner/result.js';
import type { HostStats } from '../runner/state.js';
import type { Reporter } from '../runner/reporter.js';
import { diffText, noteLine, reachedLine, recapLines, resultLine, writeWarning } from './text.js';
import { jsonText } from '../util/pyfloat.js';

interface HostView {
  setTitle(title: string): void;
  done: (failure?: string) => void;
  counts: { changed: number; ok: number };
}

export class ListrReporter implements Reporter {
  private views = new Map<string, HostView>();
  private pending = new Map<string, Promise<HostView>>();
  private running?: Promise<unknown>;
  private after: string[] = [];

  constructor(private readonly opts: { diff: boolean; verbose: number }) {}

  playStart(play: PlayDef, hosts: string[]): void {
    process.stdout.write(`PLAY [${play.name}]\n`);
    this.views.clear();
    this.pending.clear();
    const ready = new Map<string, (v: HostView) => void>();
    for (const h of hosts) this.pending.set(h, new Promise((r) => ready.set(h, r)));
    const list = new Listr(
      hosts.map((host) => ({
        title: host,
        task: (_ctx: unknown, task: { title: string }) =>
          new Promise<void>((resolve, reject) => {
            const view: HostView = {
              setTitle: (t) => (task.title = t),
              done: (failure) => (failure ? reject(new Error(failure)) : resolve()),
              counts: { changed: 0, ok: 0 },
            };
            this.views.set(host, view);
            ready.get(host)!(view);
          }),
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    this.running = list.run().catch(() => undefined);
  }

  taskStart(host: string, task: TaskDef): void {
    void this.pending.get(host)?.then((v) => v.setTitle(`${host}: ${task.name}`));
  }

  taskResult(host: string, task: TaskDef, r: TaskResult): void {
    void this.pending.get(host)?.then((v) => {
      if (r.status === 'changed') v.counts.changed++;
      if (r.status === 'ok' || r.status === 'changed') v.counts.ok++;
    });
    if (r.status === 'changed' || r.status === 'failed' || r.status === 'unreachable' || this.opts.verbose > 0) {
      let text = resultLine(host, task, r);
      if ((r.showDiff ?? this.opts.diff) && r.diff.length) text += '\n' + diffText(r);
      if (this.opts.verbose > 0) text += '\n' + jsonText(r.result);
      this.after.push(text);
    }
    if (r.status === 'failed' && !r.ignored)
      void this.pending.get(host)?.then((v) => v.done(`${task.name}: ${r.msg ?? 'failed'}`));
    if (r.status === 'unreachable') void this.pending.get(host)?.then((v) => v.done(`unreachable: ${r.msg ?? ''}`));
  }

  reached(host: string, how: string): void {
    if (this.opts.verbose > 0) this.after.push(reachedLine(host, how));
  }

  note(host: string, text: string): void {
    if (this.opts.verbose > 0) this.after.push(noteLine(host, text));
  }

  hostDone(host: string): void {
    void this.pending.get(host)?.then((v) => {
      v.setTitle(`${host}: ok=${v.counts.ok} changed=${v.counts.changed}`);
      v.done();
    });
  }

  async playEnd(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    await this.running;
    if (this.after.length) process.stdout.write(this.after.join('\n') + '\n');
    this.after = [];
  }

  warn(text: string): void {
    writeWarning(text);
  }

  async end(stats: Map<string, HostStats>): Promise<void> {
    await this.flush();
    process.stdout.write(`\nPLAY RECAP\n${recapLines(stats).join('\n')}\n`);
  }
}
