// A host's reads during one play, batched. When a task is about to read, the first read of it and
// of the tasks after it is fetched in one round trip (src/connection/batch.ts), and those tasks take
// their read from there. A fetched read stays valid only while nothing on the host has changed: the
// first step applied throws all of them away. After a task that reports a change, look-ahead starts
// small again (1, 2, 4, … tasks) so a first run, where every task changes something, doesn't read
// the same things over and over. A task that changes something carries the next tasks' reads in the
// trip of its steps (after them), so a run of changes costs one round trip a task, not two.
import { readBatch, readKey, runAlone, tripSize, MAX_TRIP_BYTES, type ReadRequest } from '../connection/batch.js';
import type { Connection, RunResult } from '../connection/types.js';
import { trace } from '../util/trace.js';

/** The reads a task will make first; undefined when that can't be known before it runs. */
export type WantedReads = (taskIndex: number) => Promise<ReadRequest[] | undefined>;

export class HostReads {
  private fetched = new Map<string, RunResult>();
  /** Tasks before this index have been looked ahead at since the host last changed. */
  private lookedAheadTo = 0;
  /** How many tasks the next look-ahead covers. */
  private window = Infinity;

  /**
   * `connect` gives the host's one connection (a host that can't be reached reports it in its own
   * task); `alsoRead` goes with the first batch (the play's pending handlers).
   */
  constructor(
    private readonly connect: () => Promise<Connection>,
    private alsoRead: ReadRequest[] = [],
    private early?: () => Promise<Map<string, RunResult> | undefined>,
  ) {}

  /** The reads sent when the host was connected (src/runner/early-reads.ts), if still good: taken once, first. */
  private async adoptEarly(): Promise<void> {
    if (!this.early) return;
    const take = this.early;
    this.early = undefined;
    for (const [key, res] of (await take()) ?? []) if (!this.fetched.has(key)) this.fetched.set(key, res);
  }

  /** Before task `index` (of `count`): if it will read something not fetched yet, fetch its read and those of the tasks after it. */
  async lookAhead(index: number, count: number, wants: WantedReads): Promise<void> {
    await this.adoptEarly();
    const reqs = await this.collect(index, count, wants);
    // A lone read costs the same round trip as the task making it itself.
    if (reqs.length < 2) return;
    let results: (RunResult | undefined)[];
    try {
      const conn = await this.connect();
      trace(`${conn.host}: ${reqs.length} reads in one round trip`);
      results = await readBatch(conn, reqs);
    } catch {
      return; // each task reads for itself, and reports what went wrong
    }
    this.took(reqs, results);
  }

  /**
   * A task is about to apply steps (after stale()): what task `index` and the ones after it will read,
   * to fetch in the same trip, after those steps (src/runner/steps.ts). Hand the results to took().
   */
  async readsAfterSteps(index: number, count: number, wants: WantedReads): Promise<ReadRequest[]> {
    // Tasks that read nothing (skipped by their `when`, say) don't stop the look to the next one.
    while (index < count && (await wants(index))?.length === 0) index++;
    return this.collect(index, count, wants);
  }

  /** Results of reads fetched by someone else (reads that rode along with a task's steps). */
  took(reqs: ReadRequest[], results: (RunResult | undefined)[]): void {
    reqs.forEach((r, k) => {
      const res = results[k];
      if (res) this.fetched.set(readKey(r), res);
    });
  }

  /** The first read of task `index` (if not fetched yet) and of the tasks after it, up to the window. */
  private async collect(index: number, count: number, wants: WantedReads): Promise<ReadRequest[]> {
    if (index >= count || index < this.lookedAheadTo) return [];
    const own = (await wants(index))?.filter((r) => !this.fetched.has(readKey(r)));
    if (!own?.length) return []; // nothing to read, or not knowable yet: the task reads for itself
    const reqs = [
      ...own,
      ...this.alsoRead.filter((r) => !own.some((o) => readKey(o) === readKey(r)) && !this.fetched.has(readKey(r))),
    ];
    this.alsoRead = [];
    const keys = new Set(reqs.map(readKey));
    let bytes = size(reqs);
    const end = Math.min(count, index + this.window);
    let next = index + 1;
    let unknown: number | undefined; // the first task whose read needs an earlier task's result
    for (; next < end; next++) {
      const wanted = await wants(next);
      if (!wanted) {
        unknown ??= next;
        continue;
      }
      const more = wanted.filter((r) => !keys.has(readKey(r)) && !this.fetched.has(readKey(r)));
      if (bytes + size(more) > MAX_TRIP_BYTES) break;
      for (const r of more) keys.add(readKey(r));
      reqs.push(...more);
      bytes += size(more);
    }
    // Look again when that task comes: by then its read may be known.
    this.lookedAheadTo = unknown ?? next;
    this.window *= 2;
    return reqs;
  }

  /** A read: the fetched result if there is one (fetched since the host last changed), else live. */
  async read(req: ReadRequest, stdin?: string): Promise<RunResult> {
    await this.adoptEarly();
    const hit = stdin === undefined ? this.fetched.get(readKey(req)) : undefined;
    if (hit) return hit;
    return runAlone(await this.connect(), { ...req, stdin });
  }

  /** Steps are about to run on the host: anything fetched may be stale from now on. */
  stale(): void {
    this.fetched.clear();
    this.lookedAheadTo = 0;
  }

  /** A task reported a change: later tasks probably change things too, so look ahead less far. */
  slowDown(): void {
    this.window = 1;
  }
}

const size = (reqs: ReadRequest[]) => reqs.reduce((n, r) => n + tripSize(r), 0);
