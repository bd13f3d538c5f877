// Reads sent once a host is connected and the run lock is held (before it, another run may still be
// changing the hosts): the first reads of every task of every play the host is in, as far as the
// variables known at the start can say (a task whose reads need an earlier task's result reads for
// itself, as always). Without them a host's first batch waits for the plays before its own; with
// them every host reads at once, and a no-change run spends one round trip on most hosts. They go into
// the run's ReadCache (./read-cache.ts), whose rules say when each may be used: in the play that was
// running when they were sent, and in later plays only while nothing has changed anywhere.
//
// Some reads can be named only with what an earlier task registers. When that task only reads (getent,
// stat, slurp) and its read came back early, its result is worked out from it, and the reads that need
// it follow at once (files under the home directory getent finds), while nothing has been changed
// anywhere yet. And when a host ends a play in that state, the reads of its later plays that can be
// known now (a fact it registered, say) and were not sent already go too. Once something has changed,
// they would be stale before their play, so none are sent.
import { readBatch, readKey, tripSize, MAX_TRIP_BYTES } from '../connection/batch.js';
import type { Connection, ReadRequest, RunResult } from '../connection/types.js';
import type { ReadCache } from './read-cache.js';
import { trace } from '../util/trace.js';

export type Fetched = Map<string, RunResult>;

/** Follow-up batches after the first (each needs the one before): a bound, though each round sends only reads not sent yet. */
const MAX_ROUNDS = 3;

export class EarlyReads {
  /** readKey of every read sent early, by host. */
  private readonly sent = new Map<string, Set<string>>();

  constructor(private readonly cache: ReadCache) {}

  /**
   * Sends `host`'s reads (those `wanted` lists, in order, up to one trip's size) once it is connected;
   * once they are back, those that `wanted` can name only with their results go next (their paths
   * come from a task that only reads), while nothing has been changed.
   */
  send(host: string, connect: () => Promise<Connection>, wanted: (known?: Fetched) => Promise<ReadRequest[]>): void {
    const next = async (known: Fetched | undefined, round: number): Promise<void> => {
      if (!known || round > MAX_ROUNDS) return;
      const more = await this.sendLater(host, connect, () => wanted(known));
      if (more) await next(new Map([...known, ...more]), round + 1);
    };
    void this.sendBatch(host, connect, () => wanted())
      .then((known) => next(known, 1))
      .catch(() => undefined); // follow-ups only save trips: the tasks read for themselves
  }

  /**
   * After `host` ended a play: the reads of its later plays (`wanted`) not sent already, if nothing has
   * been changed anywhere yet. Resolves to their results.
   */
  sendLater(
    host: string,
    connect: () => Promise<Connection>,
    wanted: () => Promise<ReadRequest[]>,
  ): Promise<Fetched | undefined> {
    if (!this.cache.untouched) return Promise.resolve(undefined);
    const before = this.sent.get(host) ?? new Set();
    return this.sendBatch(host, connect, async () => (await wanted()).filter((r) => !before.has(readKey(r))));
  }

  private sendBatch(
    host: string,
    connect: () => Promise<Connection>,
    wanted: () => Promise<ReadRequest[]>,
  ): Promise<Fetched | undefined> {
    const results = (async () => {
      const conn = await connect();
      const reqs = fitTrip(await wanted());
      // Even a lone read: a host whose plays come later is idle now, and its task's own trip would wait for them.
      if (!reqs.length) return undefined;
      const sent = this.sent.get(host) ?? new Set();
      reqs.forEach((r) => sent.add(readKey(r)));
      this.sent.set(host, sent);
      trace(`${host}: ${reqs.length} early reads in one round trip`);
      const out = readBatch(conn, reqs);
      this.cache.add(host, reqs, out);
      const got = await out;
      return new Map(reqs.flatMap((r, k): [string, RunResult][] => (got[k] ? [[readKey(r), got[k]!]] : [])));
    })().catch(() => undefined); // the host's own tasks read, and report what went wrong
    // The host's tasks wait for these rather than read the same things again.
    this.cache.expect(host, results);
    return results;
  }
}

/** Distinct reads, in order, as many as one trip carries. */
function fitTrip(reqs: ReadRequest[]): ReadRequest[] {
  const seen = new Set<string>();
  const out: ReadRequest[] = [];
  let bytes = 0;
  for (const r of reqs) {
    const key = readKey(r);
    if (seen.has(key)) continue;
    if (bytes + tripSize(r) > MAX_TRIP_BYTES) break;
    seen.add(key);
    out.push(r);
    bytes += tripSize(r);
  }
  return out;
}
