// Reads sent once a host is connected and the run lock is held (before it, another run may still be
// changing the hosts): the first read of every task of every play the host is in, as far as the
// variables known at the start can say (a task whose read needs an earlier task's result reads for
// itself, as always). Without them a host's first batch waits for the plays before its own (the devices'
// for the relay's plays, the client's for both); with them every host reads at once, and a no-change run
// spends one round trip on most hosts.
//
// A read is a fact about the host at the time it was read. In a later play, an early read is used only
// while nothing has been applied on any host since it was sent (RunState.applied): between plays a
// change anywhere can reach any host (a device's new tunnel listens on the relay). In the play that was
// starting when they were sent — the host's first, if it is in the run's first play — they are that
// play's own look-ahead, and other hosts' changes during a play don't stale a host's reads
// (src/runner/reads.ts). So a no-change run, or --check, takes all of them, and a first apply loses none
// of its first play's.
//
// Some reads can be named only with what an earlier task registers. When that task only reads (getent,
// stat, slurp) and its read came back early, its result is worked out from it, and the reads that need
// it follow at once (the client's files under the home directory getent finds), while nothing has been
// applied anywhere yet. And when a host ends a play in that state, the reads of its later plays that can
// be known now (a fact it registered, say) and were not sent already go too. Once something has been
// applied they would be stale before their play, so none are sent.
import { readBatch, readKey, tripSize, MAX_TRIP_BYTES, type ReadRequest } from '../connection/batch.js';
import type { Connection, RunResult } from '../connection/types.js';
import type { RunState } from './state.js';
import { trace } from '../util/trace.js';

export type Fetched = Map<string, RunResult>;

interface Sent {
  /** RunState.applied when the batch was sent. */
  applied: number;
  /** The play whose look-ahead these reads are, whatever is applied meanwhile (the first batch: the run's first play). */
  atPlay?: number;
  /** readKey of each read sent. */
  keys: Set<string>;
  results: Promise<Fetched | undefined>;
}

/** The first early reads are sent as the run's first play starts. */
const FIRST_PLAY = 0;
/** Follow-up batches after the first (each needs the one before): a bound, though each round sends only reads not sent yet. */
const MAX_ROUNDS = 3;

export class EarlyReads {
  private readonly sent = new Map<string, Sent[]>();

  constructor(private readonly state: RunState) {}

  /**
   * Sends `host`'s reads (those `wanted` lists, in order, up to one trip's size) once it is connected;
   * once they are back, those that `wanted` can name only with their results go next (their paths
   * come from a task that only reads: the client's home from getent), while nothing has been applied.
   */
  send(host: string, connect: () => Promise<Connection>, wanted: (known?: Fetched) => Promise<ReadRequest[]>): void {
    const next = async (known: Fetched | undefined, round: number): Promise<void> => {
      if (!known || round > MAX_ROUNDS) return;
      const more = await this.sendLater(host, connect, () => wanted(known));
      if (more) await next(new Map([...known, ...more]), round + 1);
    };
    void this.sendBatch(host, connect, () => wanted(), FIRST_PLAY)
      .then((known) => next(known, 1))
      .catch(() => undefined); // follow-ups only save trips: the tasks read for themselves
  }

  /**
   * After `host` ended a play: the reads of its later plays (`wanted`) not sent already, if nothing has
   * been applied anywhere yet. Resolves to their results.
   */
  sendLater(
    host: string,
    connect: () => Promise<Connection>,
    wanted: () => Promise<ReadRequest[]>,
  ): Promise<Fetched | undefined> {
    if (this.state.applied !== 0) return Promise.resolve(undefined);
    const before = this.sent.get(host) ?? [];
    return this.sendBatch(host, connect, async () =>
      (await wanted()).filter((r) => !before.some((s) => s.keys.has(readKey(r)))),
    );
  }

  private sendBatch(
    host: string,
    connect: () => Promise<Connection>,
    wanted: () => Promise<ReadRequest[]>,
    atPlay?: number,
  ): Promise<Fetched | undefined> {
    const keys = new Set<string>();
    const results = (async () => {
      const conn = await connect();
      const reqs = fitTrip(await wanted());
      // Even a lone read: a host whose plays come later is idle now, and its task's own trip would wait for them.
      if (!reqs.length) return undefined;
      reqs.forEach((r) => keys.add(readKey(r)));
      trace(`${host}: ${reqs.length} early reads in one round trip`);
      const out = await readBatch(conn, reqs);
      return new Map(reqs.flatMap((r, k): [string, RunResult][] => (out[k] ? [[readKey(r), out[k]!]] : [])));
    })().catch(() => undefined); // the host's own tasks read, and report what went wrong
    this.sent.set(host, [...(this.sent.get(host) ?? []), { applied: this.state.applied, atPlay, keys, results }]);
    return results;
  }

  /** `host`'s early reads for play `play`: those sent as its look-ahead, and any sent since when nothing has been applied anywhere. */
  async take(host: string, play: number): Promise<Fetched | undefined> {
    const good = (s: Sent) => play === s.atPlay || s.applied === this.state.applied;
    const out: Fetched = new Map();
    for (const s of (this.sent.get(host) ?? []).filter(good)) {
      const results = await s.results;
      if (good(s)) for (const [k, v] of results ?? []) out.set(k, v);
    }
    return out.size ? out : undefined;
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
