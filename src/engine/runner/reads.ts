// A host's look-ahead during one play: when a task is about to read, the reads of it and of the tasks
// after it that are not at hand yet go in one round trip (src/engine/connection/batch.ts), and those
// tasks take theirs from the run's ReadCache (./read-cache.ts, which decides what is still good).
// After a task that reports a change, look-ahead starts small again (1, 2, 4, … tasks) so a first
// run, where every task changes something, doesn't read the same things over and over. A task that
// changes something carries the next tasks' reads in the trip of its steps (after them), so a run of
// changes costs one round trip a task, not two.
import { readBatch, readKey, runAlone, tripSize, MAX_TRIP_BYTES } from '../connection/batch.js';
import type { Connection, ReadRequest, RunResult } from '../connection/types.js';
import { trace } from '../util/trace.js';
import type { ReadCache } from './read-cache.js';

/** The reads a task will make first; undefined when that can't be known before it runs. */
export type WantedReads = (taskIndex: number) => Promise<ReadRequest[] | undefined>;

export class HostReads {
  /** Tasks before this index have been looked ahead at since the host last changed. */
  private lookedAheadTo = 0;
  /** How many tasks the next look-ahead covers. */
  private window = Infinity;

  /**
   * `connect` gives the host's one connection (a host that can't be reached reports it in its own
   * task); `alsoRead` goes with the first batch (the play's pending handlers).
   */
  constructor(
    private readonly host: string,
    private readonly connect: () => Promise<Connection>,
    private readonly cache: ReadCache,
    private alsoRead: ReadRequest[] = [],
  ) {}

  /** Before task `index` (of `count`): if it will read something not at hand, fetch its reads and those of the tasks after it. */
  async lookAhead(index: number, count: number, wants: WantedReads): Promise<void> {
    await this.cache.settled(this.host);
    const reqs = await this.collect(index, count, wants);
    // A lone read costs the same round trip as the task making it itself.
    if (reqs.length < 2) return;
    let conn: Connection;
    try {
      conn = await this.connect();
    } catch {
      return; // each task reads for itself, and reports what went wrong
    }
    trace(`${this.host}: ${reqs.length} reads in one round trip`);
    const results = readBatch(conn, reqs);
    this.cache.add(this.host, reqs, results);
    await results.catch(() => undefined);
  }

  /**
   * A task is about to apply steps: what task `index` and the ones after it will read, to fetch in the
   * same trip, after those steps (src/engine/runner/steps.ts). Hand the results to took().
   */
  async readsAfterSteps(index: number, count: number, wants: WantedReads): Promise<ReadRequest[]> {
    // Tasks that read nothing (skipped by their `when`, say) don't stop the look to the next one.
    while (index < count && (await wants(index))?.length === 0) index++;
    return this.collect(index, count, wants);
  }

  /** Results of reads taken after a change, in the trip of its steps. */
  took(reqs: ReadRequest[], results: (RunResult | undefined)[]): void {
    this.cache.add(this.host, reqs, Promise.resolve(results));
  }

  /** The reads of task `index` not at hand yet, and of the tasks after it, up to the window. */
  private async collect(index: number, count: number, wants: WantedReads): Promise<ReadRequest[]> {
    if (index >= count || index < this.lookedAheadTo) return [];
    const fresh = (r: ReadRequest) => !this.cache.has(this.host, r);
    const own = (await wants(index))?.filter(fresh);
    if (!own?.length) return []; // nothing to read, or not knowable yet: the task reads for itself
    const reqs = dedupe([...own, ...this.alsoRead.filter(fresh)]);
    this.alsoRead = [];
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
      const more = dedupe(wanted.filter(fresh)).filter((r) => !reqs.some((q) => same(q, r)));
      if (bytes + size(more) > MAX_TRIP_BYTES) break;
      reqs.push(...more);
      bytes += size(more);
    }
    // Look again when that task comes: by then its read may be known.
    this.lookedAheadTo = unknown ?? next;
    this.window *= 2;
    return reqs;
  }

  /** The reads `reqs`: those at hand from the cache, the others fetched (in one trip when several) and kept. */
  async read(reqs: readonly ReadRequest[]): Promise<RunResult[]> {
    await this.cache.settled(this.host);
    const held = await Promise.all(reqs.map((r) => this.cache.get(this.host, r)));
    const missing = dedupe(reqs.filter((_, i) => !held[i]));
    if (missing.length) {
      const conn = await this.connect();
      const fetched = missing.length === 1 ? runAlone(conn, missing[0]).then((r) => [r]) : readBatch(conn, missing);
      this.cache.add(this.host, missing, fetched);
      const got = await fetched;
      // A read of the batch that did not come back is read alone.
      for (const [k, r] of missing.entries())
        if (!got[k])
          this.cache.add(
            this.host,
            [r],
            runAlone(conn, r).then((x) => [x]),
          );
    }
    return Promise.all(
      reqs.map(async (r, i) => held[i] ?? (await this.cache.get(this.host, r)) ?? runAlone(await this.connect(), r)),
    );
  }

  /** Steps were applied on the host: look ahead from the next task again. */
  stale(): void {
    this.lookedAheadTo = 0;
  }

  /** A task reported a change: later tasks probably change things too, so look ahead less far. */
  slowDown(): void {
    this.window = 1;
  }
}

const same = (a: ReadRequest, b: ReadRequest) => readKey(a) === readKey(b);
const dedupe = (reqs: readonly ReadRequest[]) => [...new Map(reqs.map((r) => [readKey(r), r])).values()];
const size = (reqs: ReadRequest[]) => reqs.reduce((n, r) => n + tripSize(r), 0);
