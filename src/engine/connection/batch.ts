// Several commands in one round trip: one exec, and one sudo per run of commands as the same user,
// instead of one exec (and one sudo) per command. Each command's exit code, stdout and stderr come
// back exactly, so a command run this way is indistinguishable from running it alone.
import { randomBytes } from 'node:crypto';
import { runsAs, withBecome } from './become.js';
import { shareUnitReads } from './unit-reads.js';
import { parseShScript, shellJoin, shScript } from '../util/quote.js';
import type { Connection, OneCommand, ReadRequest, RunResult } from './types.js';

export type { OneCommand, ReadRequest };

/** Same key ⇔ same command as the same user: the identity of a cached read. */
export function readKey(r: ReadRequest): string {
  return `${r.become ? (r.becomeUser ?? 'root') : ''}\0${r.command}`;
}

// Inputs (file contents, keys, rendered templates) never travel on a command line, where every local
// user reads them in /proc/*/cmdline and sudo logs them: the exec channel's stdin carries the inputs
// of the whole trip one after the other, and each level takes exactly its own bytes from it — the
// trip's runs (one sudo each) their share, each command in a run its own. `take N` reads exactly N
// bytes (GNU head reads no further than asked; elsewhere dd, one byte at a time), and what a command
// leaves unread is drained, so the next one starts at its own first byte whatever the previous did.
const TAKE = `take() { if [ "$gnu" = y ]; then head -c "$1"; else dd bs=1 count="$1" 2>/dev/null; fi; }
feed() { n=$1; shift
  if [ "$n" = 0 ]; then "$@" </dev/null; return; fi
  [ -n "$gnu" ] || case $(head --version 2>/dev/null) in *GNU*) gnu=y;; *) gnu=n;; esac
  take "$n" | { "$@"; c=$?; cat >/dev/null; exit $c; }
}`;

// The commands of one run (one user): $1 a boundary token, $2 the index below which a non-zero exit
// ends the trip (0: none does; a trip's steps stop it, the reads that follow them don't); then triples
// (index, command, bytes of stdin). Each command's output is framed on stdout and on stderr by
// "<token> <index> begin" and "<token> <index> end [<exit code>]" lines, as MIME parts are: the token
// is random per trip, so no output can fake a frame. Exits 1 when it stopped at a failure. Each
// command runs in a subshell of this one (a fork, not a new sh: a trip holds dozens), with no
// positional parameters and none of this script's variables or functions, as `sh -c` would give it.
const SCRIPT = `${TAKE}
one() { ( _c=$1; set --; unset b stopbelow code gnu n; unset -f take feed one; eval "unset _c; $_c" ); }
b=$1 stopbelow=$2; shift 2
while [ $# -ge 3 ]; do
  printf '%s %s begin\\n' "$b" "$1"; printf '%s %s begin\\n' "$b" "$1" >&2
  feed "$3" one "$2"
  code=$?
  printf '\\n%s %s end %s\\n' "$b" "$1" "$code"; printf '\\n%s %s end\\n' "$b" "$1" >&2
  if [ "$code" -ne 0 ] && [ "$1" -lt "$stopbelow" ]; then exit 1; fi
  shift 3
done`;

// The trip: $1 "stop" or "all", then pairs (bytes of the run's stdin, the run's command line). A run
// that cannot start (sudo refused) takes its bytes all the same, so the runs after it find theirs.
const TRIP = `${TAKE}
stop=$1; shift
while [ $# -ge 2 ]; do
  feed "$1" sh -c "$2"
  if [ $? -ne 0 ] && [ "$stop" = stop ]; then exit 1; fi
  shift 2
done`;

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
    withBecome(shScript(SCRIPT, [token, stopAtFailure ? stopBelow : 0, ...r.args]), r, loginUser),
  );
  const stdin = cmds.map((c) => c.stdin ?? '').join('');
  // One user (most trips): its run is the trip, without the two shells that hand out each run's input.
  if (runs.length === 1) return { command: lines[0], stdin };
  return {
    command: shScript(TRIP, [stopAtFailure ? 'stop' : 'all', ...runs.flatMap((r, i) => [r.bytes, lines[i]])]),
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
