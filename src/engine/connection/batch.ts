// Several commands in one round trip: one exec, and one sudo per run of commands as the same user,
// instead of one exec (and one sudo) per command. Each command's exit code, stdout and stderr come
// back exactly, so a command run this way is indistinguishable from running it alone.
import { randomBytes } from 'node:crypto';
import { runsAs, withBecome } from './become.js';
import { shareUnitReads } from './unit-reads.js';
import { parseShScript, shellJoin, shScript } from '../util/quote.js';
import { shFile } from '../util/sh-file.js';
import type { Connection, OneCommand, ReadRequest, RunResult } from './types.js';

export type { OneCommand, ReadRequest };

/** Same key ⇔ same command as the same user: the identity of a cached read. */
export function readKey(r: ReadRequest): string {
  return `${r.become ? (r.becomeUser ?? 'root') : ''}\0${r.command}`;
}

// Inputs (file contents, keys, rendered templates) never travel on a command line, where every local
// user reads them in /proc/*/cmdline and sudo logs them: the exec channel's stdin carries the inputs
// of the whole trip one after the other, and each level takes exactly its own bytes from it (batch/take.sh).
// A trip is one run (batch/run.sh) per user, each a sudo of its own, and when there are several, the trip
// (batch/trip.sh) hands each its share of stdin. What they take and print: the scripts say.
const script = (name: 'run' | 'trip') => shFile(`engine/connection/batch/${name}.sh`);

/** sshd hands the whole line to the login shell as one argument, which Linux caps at 128 KiB. */
export const MAX_TRIP_BYTES = 96 * 1024;

/** The size a command takes on the trip's command line (its stdin travels on the channel, not there). */
export function tripSize(c: ReadRequest): number {
  // Quoted twice (in its run, and the run in the trip): every ' costs up to 4+4 bytes more.
  return c.command.length + 8 * (c.command.match(/'/g)?.length ?? 0) + 64;
}

/**
 * A command as the trip's subshell runs it. Most are shScript's `sh -c SCRIPT sh ARGS`: those run as
 * `set -- ARGS; SCRIPT` in the subshell itself, one process fewer each (a no-change run sends a device
 * over a dozen reads, and every process counts on a small host). The same script with the same
 * parameters, as the same user, in a fresh subshell: what differs is `$$` (the trip's shell's) and that
 * the shell names `eval` in its own error messages (`sh: 1: eval: …`).
 */
function inSubshell(command: string): string {
  const s = parseShScript(command);
  return s ? `set -- ${shellJoin(s.args)}; ${s.script}` : command;
}

const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/** What one exec runs: its command line, and the stream for its stdin. */
export interface Trip {
  command: string;
  stdin: string;
}

/**
 * The trip that runs `cmds` in order, framed by `token`: one sudo per run of commands as the same user
 * (none as the login user root). With stopAtFailure, a failing command ends it — only one before
 * `stopBelow` (default: any), so reads can follow a task's steps in its trip without their exit codes
 * counting as failures.
 */
export function tripCommand(
  cmds: ReadonlyArray<OneCommand>,
  token: string,
  stopAtFailure: boolean,
  loginUser?: string,
  stopBelow = cmds.length,
): Trip {
  const runs: { become: boolean; becomeUser?: string; args: (string | number)[]; bytes: number }[] = [];
  cmds.forEach((c, i) => {
    let run = runs[runs.length - 1];
    if (!run || runsAs(cmds[i - 1]) !== runsAs(c))
      runs.push((run = { become: c.become, becomeUser: c.becomeUser, args: [], bytes: 0 }));
    run.args.push(i, inSubshell(c.command), bytes(c.stdin));
    run.bytes += bytes(c.stdin);
  });
  // A run that cannot start (sudo refused) reports nothing for its commands; when stopping at a
  // failure, the runs after a failed one don't start either.
  const lines = runs.map((r) =>
    withBecome(shScript(script('run'), [token, stopAtFailure ? stopBelow : 0, ...r.args]), r, loginUser),
  );
  const stdin = cmds.map((c) => c.stdin ?? '').join('');
  // One user (most trips): its run is the trip, without the two shells that hand out each run's input.
  if (runs.length === 1) return { command: lines[0], stdin };
  return {
    command: shScript(script('trip'), [stopAtFailure ? 'stop' : 'all', ...runs.flatMap((r, i) => [r.bytes, lines[i]])]),
    stdin,
  };
}

/** Each framed part of one stream, by index; `began` lists the indices that started at all. */
function parts(stream: string, token: string, withCode: boolean) {
  const done = new Map<number, { text: string; code?: number }>();
  const frame = new RegExp(
    `${token} (\\d+) begin\\n([\\s\\S]*?)\\n${token} \\1 end${withCode ? ' (\\d+)' : ''}\\n`,
    'g',
  );
  for (const m of stream.matchAll(frame))
    done.set(Number(m[1]), { text: m[2], code: withCode ? Number(m[3]) : undefined });
  const began = new Set([...stream.matchAll(new RegExp(`${token} (\\d+) begin\\n`, 'g'))].map((m) => Number(m[1])));
  return { done, began };
}

export interface TripResult {
  /** Result of command i, or undefined where it did not run (or did not finish: see `began`). */
  results: (RunResult | undefined)[];
  /** Commands that started, finished or not. */
  began: Set<number>;
}

export function parseTrip(stdout: string, stderr: string, count: number, token: string): TripResult {
  const outs = parts(stdout, token, true);
  const errs = parts(stderr, token, false).done;
  const results = Array.from({ length: count }, (_, i) => {
    const o = outs.done.get(i);
    const e = errs.get(i);
    return o && e ? { code: o.code!, stdout: o.text, stderr: e.text } : undefined;
  });
  return { results, began: outs.began };
}

/** One command in its own exec, as it is (no framing). */
export function runAlone(conn: Connection, c: OneCommand): Promise<RunResult> {
  return conn.run(c.command, { stdin: c.stdin, become: c.become, becomeUser: c.becomeUser });
}

/** Run `cmds` in order in one exec (keep them under MAX_TRIP_BYTES together); see tripCommand for `stopBelow`. */
export async function runInOneTrip(
  conn: Connection,
  cmds: ReadonlyArray<OneCommand>,
  opts: { stopAtFailure: boolean; stopBelow?: number },
): Promise<TripResult> {
  const token = `relay-play-${randomBytes(16).toString('hex')}`;
  const trip = tripCommand(cmds, token, opts.stopAtFailure, conn.user, opts.stopBelow);
  const r = await conn.run(trip.command, trip.stdin ? { stdin: trip.stdin } : {});
  return parseTrip(r.stdout, r.stderr, cmds.length, token);
}

/** Reads in one exec, grouped by user (one sudo each); a read that did not come back is undefined. */
export async function readBatch(
  conn: Connection,
  asked: ReadonlyArray<ReadRequest>,
): Promise<(RunResult | undefined)[]> {
  if (!asked.length) return [];
  // Reads of systemd units share one systemctl (src/engine/connection/unit-reads.ts).
  const { reqs, spread } = shareUnitReads(asked);
  // Order doesn't matter for reads: group them by user so each user needs one sudo.
  const order = reqs.map((_, i) => i).sort((a, b) => runsAs(reqs[a]).localeCompare(runsAs(reqs[b])));
  const { results } = await runInOneTrip(
    conn,
    order.map((i) => reqs[i]),
    { stopAtFailure: false },
  );
  const out: (RunResult | undefined)[] = new Array(reqs.length);
  order.forEach((i, k) => (out[i] = results[k]));
  return spread(out);
}
