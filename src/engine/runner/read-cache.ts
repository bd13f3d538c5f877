// Every read a run fetched from its hosts, in one place, with the rule for when one may still be used.
// A read is a fact about a host at the moment it was taken:
//   1. a read taken before a change on its host is never used after that change;
//   2. between plays, a change on any host may reach any other (a device's new tunnel listens on the
//      relay), so a read taken in an earlier play is used only while nothing has changed anywhere;
//      within a play, other hosts' changes don't stale a host's reads (hosts of a play run
//      independently, as in Ansible);
//   3. two tasks that read the same thing (the same command, as the same user) share one read, even
//      while it is still on its way.
// The runner's read policies (look-ahead: ./reads.ts; reads sent early: ./early-reads.ts) put reads
// here; tasks take them from here. Changes are counted with changed(), by whoever applies them.
import { readKey } from '../connection/batch.js';
import type { ReadRequest, RunResult } from '../connection/types.js';

interface Entry {
  /** Undefined when it did not come back (the trip failed): the task then reads for itself. */
  result: Promise<RunResult | undefined>;
  /** The host's change count, the run's change count and the run's play when it was taken. */
  hostChanges: number;
  runChanges: number;
  play: number;
}

export class ReadCache {
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly hostChanges = new Map<string, number>();
  private runChanges = 0;
  private play = 0;
  /** Reads being worked out for a host (the early reads): a task waits for them rather than read again. */
  private readonly coming = new Map<string, Promise<unknown>[]>();

  /** The run starts play `index` (plays run one after another, every host in the same one). */
  startPlay(index: number): void {
    this.play = index;
  }

  /**
   * A change is about to be applied on `host` (steps, a confirm, a marker): what was read of it before
   * is stale. Without a host, a change elsewhere (this machine, for a delegated task): only rule 2.
   */
  changed(host?: string): void {
    if (host !== undefined) this.hostChanges.set(host, (this.hostChanges.get(host) ?? 0) + 1);
    this.runChanges++;
  }

  /** Whether anything has been changed on any host in this run. */
  get untouched(): boolean {
    return this.runChanges === 0;
  }

  /** `reqs` of `host`, as `results` will bring them (in order; undefined where one did not come back), taken now. */
  add(host: string, reqs: readonly ReadRequest[], results: Promise<readonly (RunResult | undefined)[]>): void {
    const taken = { hostChanges: this.hostChanges.get(host) ?? 0, runChanges: this.runChanges, play: this.play };
    const safe = results.catch(() => [] as (RunResult | undefined)[]);
    let mine = this.entries.get(host);
    if (!mine) this.entries.set(host, (mine = new Map()));
    reqs.forEach((r, i) => mine.set(readKey(r), { ...taken, result: safe.then((out) => out[i]) }));
  }

  /** The read of `req` on `host` if one may be used now (see the top of this file); it may still be on its way. */
  get(host: string, req: ReadRequest): Promise<RunResult | undefined> | undefined {
    const e = this.entries.get(host)?.get(readKey(req));
    if (!e || e.hostChanges !== (this.hostChanges.get(host) ?? 0)) return undefined;
    if (e.runChanges !== this.runChanges && e.play !== this.play) return undefined;
    return e.result;
  }

  has(host: string, req: ReadRequest): boolean {
    return this.get(host, req) !== undefined;
  }

  /** Reads for `host` are being worked out (`until` settles once they are added, or will not be). */
  expect(host: string, until: Promise<unknown>): void {
    this.coming.set(host, [...(this.coming.get(host) ?? []), until.catch(() => undefined)]);
  }

  /** Settles once the reads expected for `host` so far have been added (or given up). */
  async settled(host: string): Promise<void> {
    await Promise.all(this.coming.get(host) ?? []);
  }
}
