// How the hosts of a play keep step (strategy: linear) and what ends a play early for all of them.

/** What ends a play early for every host: meta end_play / end_batch, any_errors_fatal, max_fail_percentage. */
export interface PlayControl {
  /** meta: end_play (or end_batch without serial): no host runs another task of the play. */
  ended: boolean;
  /** A failure any_errors_fatal (or max_fail_percentage) makes fatal: the play and the run stop. */
  fatal: boolean;
}

/**
 * strategy: linear — no host starts a task before every host of the batch still running has reached it
 * (hosts waiting for a fork join as they start, so a batch wider than --forks never waits on them).
 */
export class Lockstep {
  private readonly at = new Map<string, number>();
  private waiting: { index: number; resolve: () => void }[] = [];

  arrive(host: string, index: number): Promise<void> {
    this.at.set(host, index);
    const p = new Promise<void>((resolve) => this.waiting.push({ index, resolve }));
    this.release();
    return p;
  }

  leave(host: string): void {
    this.at.delete(host);
    this.release();
  }

  private release(): void {
    const low = Math.min(...this.at.values());
    const ready = this.waiting.filter((w) => w.index <= low);
    this.waiting = this.waiting.filter((w) => w.index > low);
    ready.forEach((w) => w.resolve());
  }
}
