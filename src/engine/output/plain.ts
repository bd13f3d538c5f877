// Plain lines, for logs and pipes: one line per task result, as they happen.
import type { PlayDef, TaskDef } from '../playbook/types.js';
import type { TaskResult } from '../runner/result.js';
import type { HostStats } from '../runner/state.js';
import type { Reporter } from '../runner/reporter.js';
import { diffText, noteLine, reachedLine, recapLines, resultLine, writeWarning } from './text.js';
import { jsonText } from '../util/pyfloat.js';

export class PlainReporter implements Reporter {
  constructor(
    private readonly opts: { diff: boolean; verbose: number },
    private readonly write: (s: string) => void = (s) => process.stdout.write(s),
  ) {}

  playStart(play: PlayDef, hosts: string[]): void {
    this.write(`\nPLAY [${play.name}] ${'*'.repeat(Math.max(3, 60 - play.name.length))}\n`);
    if (!hosts.length) this.write('skipping: no hosts matched\n');
  }

  taskStart(): void {}

  taskResult(host: string, task: TaskDef, r: TaskResult): void {
    let out = resultLine(host, task, r) + '\n';
    if ((r.showDiff ?? this.opts.diff) && r.diff.length && r.status !== 'skipped') out += diffText(r) + '\n';
    if (this.opts.verbose > 0) out += jsonText(r.result) + '\n';
    this.write(out);
  }

  reached(host: string, how: string): void {
    if (this.opts.verbose > 0) this.write(reachedLine(host, how) + '\n');
  }

  note(host: string, text: string): void {
    if (this.opts.verbose > 0) this.write(noteLine(host, text) + '\n');
  }

  hostDone(): void {}
  playEnd(): void {}

  warn(text: string): void {
    writeWarning(text);
  }

  async end(stats: Map<string, HostStats>): Promise<void> {
    this.write(`\nPLAY RECAP ${'*'.repeat(60)}\n${recapLines(stats).join('\n')}\n`);
  }
}
