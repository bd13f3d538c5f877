// How the hosts of a play keep step (strategy: linear) and what ends a play early for all of them.

/** What ends a play early for every host: meta end_play / end_batch, any_errors_fatal, max_fail_percentage. */
export interface PlayControl {
  /** meta: end_play (or end_batch without serial): no host runs another task of the play. */
  ended: boolean;
  /** A failure any_errors_fatal (or max_fail_percentage) makes fatal: the play and the run stop. */
  fatal: boolean;
  /** What stops the run as ansible-playbook's parser would (a mistake in a file an include read when reached). */
  abort?: Error;
}

/** Where a host is in a play: its task's index, then (for a task an include brought in) its index there, and so on. */
export type Position = number | number[];

/** Positions in play order: an included task comes after its include and before the task after it. */
function compare(a: Position, b: Position): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'number' ? [a] : a;
  const y = typeof b === 'number' ? [b] : b;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * strategy: linear — no host starts a task before every host of the batch still running has reached it
 * (hosts waiting for a fork join as they start, so a batch wider than --forks never waits on them).
 * Hosts that an include gave more tasks than others run them while the others wait after it. Hosts go on
 * in `order` (the batch's), so the first of them is the one a run_once task or include runs on, as in Ansible.
 */
export class Lockstep {
  private readonly at = new Map<string, Position>();
  private waiting: { host: string; at: Position; resolve: () => void }[] = [];

  constructor(private readonly order: string[] = []) {}

  arrive(host: string, at: Position): Promise<void> {
    this.at.set(host, at);
    const p = new Promise<void>((resolve) => this.waiting.push({ host, at, resolve }));
    // Released once the caller awaits: it then goes on in its turn, not after the others.
    queueMicrotask(() => this.release());
    return p;
  }

  leave(host: string): void {
    this.at.delete(host);
    this.release();
  }

  private release(): void {
    let low: Position | undefined;
    for (const p of this.at.values()) if (low === undefined || compare(p, low) < 0) low = p;
    const ready: typeof this.waiting = [];
    const still: typeof this.waiting = [];
    for (const w of this.waiting) {
      if (low === undefined || compare(w.at, low) <= 0) ready.push(w);
      else still.push(w);
    }
    this.waiting = still;
    const rank = (h: string) => (this.order.includes(h) ? this.order.indexOf(h) : this.order.length);
    ready.sort((a, b) => rank(a.host) - rank(b.host)).forEach((w) => w.resolve());
  }
}
