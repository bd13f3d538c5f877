// block / rescue / always on one host, as Ansible runs them. A failure in a block's block section
// skips the rest of that section and runs its rescue section, if it has one: the failure is then
// rescued and the host goes on. The always section runs whatever happened. A failure nothing rescues
// (no rescue section, or one in rescue or always) fails the host once the always section of every
// block it is in has run — unless an enclosing block rescues it.
import type { BlockFrame, TaskDef } from '../playbook/types.js';

export class BlockRun {
  /** Blocks whose block section failed. */
  private failedBlocks = new Set<number>();
  /** Blocks whose rescue section failed. */
  private failedRescues = new Set<number>();
  /** An unrescued failure waiting for these blocks' always sections to end, innermost first. */
  private pending?: { blocks: BlockFrame[] };

  /** Whether `task` runs, given the failures so far. */
  runs(task: TaskDef): boolean {
    const frames = task.blocks;
    // The always section of an inner block a failure went through still runs, inside a failed section.
    const alwaysOfFailed = (from: number) =>
      frames.slice(from + 1).some((f) => f.section === 'always' && this.failedBlocks.has(f.id));
    return frames.every((f, i) => {
      if (f.section === 'block' && this.failedBlocks.has(f.id)) return alwaysOfFailed(i);
      if (f.section === 'rescue')
        return (this.failedBlocks.has(f.id) && !this.failedRescues.has(f.id)) || alwaysOfFailed(i);
      return true;
    });
  }

  /**
   * `task` failed (and does not ignore errors). Returns 'rescued' when a rescue section will run for
   * it, 'deferred' when the host fails only after always sections have run, 'fatal' when it fails now.
   */
  failed(task: TaskDef): 'rescued' | 'deferred' | 'fatal' {
    // From the innermost block out: the first block whose block section holds the task and has a
    // rescue catches it; on the way, each block the failure leaves still runs its always section.
    const frames = [...task.blocks].reverse();
    const leaving: BlockFrame[] = [];
    for (const f of frames) {
      if (f.section === 'block') {
        this.failedBlocks.add(f.id);
        if (f.rescues) return 'rescued';
      } else if (f.section === 'rescue') {
        this.failedRescues.add(f.id);
        this.failedBlocks.add(f.id);
      }
      leaving.push(f);
    }
    if (!leaving.length) return 'fatal';
    this.pending = { blocks: leaving };
    return 'deferred';
  }

  /**
   * Before `next` (undefined at the end of the play): true when a deferred failure is due, because
   * `next` is outside every block it was waiting for.
   */
  due(next: TaskDef | undefined): boolean {
    if (!this.pending) return false;
    const inside = new Set((next?.blocks ?? []).map((f) => f.id));
    // Still inside the outermost block the failure is in: its always section (or an inner one) may run.
    const outermost = this.pending.blocks[this.pending.blocks.length - 1];
    if (next && inside.has(outermost.id)) return false;
    return true;
  }
}
