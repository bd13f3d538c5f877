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
import { readBatch, readKey, tripSize, MAX_TRIP_BYTES, type ReadRequest } from '../connection/batch.js';
import type { Connection, RunResult } from '../connection/types.js';
import type { RunState } from './state.js';
import { trace } from '../trace.js';

export type Fetched = Map<string, RunResult>;

interface Sent {
  /** RunState.applied when the batch was sent. */
  applied: number;
  results: Promise<Fetched | undefined>;
}

/** Early reads are sent as the run's first play starts. */
const SENT_AT_PLAY = 0;

export class EarlyReads {
  private readonly sent = new Map<string, Sent>();

  constructor(private readonly state: RunState) {}

  /** Sends `host`'s reads (those `wanted` lists, in order, up to one trip's size) once it is connected. */
  send(host: string, connect: () => Promise<Connection>, wanted: () => Promise<ReadRequest[]>): void {
    const applied = this.state.applied;
    const results = (async () => {
      const conn = await connect();
      const reqs = fitTrip(await wanted());
      // Even a lone read: a host whose plays come later is idle now, and its task's own trip would wait for them.
      if (!reqs.length) return undefined;
      trace(`${host}: ${reqs.length} early reads in one round trip`);
      const out = await readBatch(conn, reqs);
      return new Map(reqs.flatMap((r, k): [string, RunResult][] => (out[k] ? [[readKey(r), out[k]!]] : [])));
    })().catch(() => undefined); // the host's own tasks read, and report what went wrong
    this.sent.set(host, { applied, results });
  }

  /** `host`'s early reads for play `play`: in the play they were sent at, or if nothing has been applied anywhere since. */
  async take(host: string, play: number): Promise<Fetched | undefined> {
    const s = this.sent.get(host);
    const good = () => play === SENT_AT_PLAY || s!.applied === this.state.applied;
    if (!s || !good()) return undefined;
    const results = await s.results;
    return good() ? results : undefined;
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
