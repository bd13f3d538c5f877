// Several read-only commands in one round trip: one exec, and at most one sudo per become user,
// instead of one exec (and one sudo) per command. Each command's exit code, stdout and stderr come
// back exactly, so a batched read is indistinguishable from running it alone.
import { randomBytes } from 'node:crypto';
import { withBecome } from './become.js';
import { shScript } from './quote.js';
import type { Connection, RunResult } from './types.js';

export interface ReadRequest {
  command: string;
  become: boolean;
  becomeUser?: string;
}

/** Same key ⇔ same command as the same user: the identity of a cached read. */
export function readKey(r: ReadRequest): string {
  return `${r.become ? (r.becomeUser ?? 'root') : ''}\0${r.command}`;
}

// $1: a boundary token; then pairs of (index, command). Each command's output is framed on stdout
// and on stderr by "<token> <index> begin" and "<token> <index> end [<exit code>]" lines, as MIME
// parts are: the token is random per batch, so no output can fake a frame. No temp files, and no
// process per read beyond the read itself.
const BATCH_SCRIPT = `b=$1; shift
while [ $# -ge 2 ]; do
  printf '%s %s begin\\n' "$b" "$1"; printf '%s %s begin\\n' "$b" "$1" >&2
  sh -c "$2" </dev/null; code=$?
  printf '\\n%s %s end %s\\n' "$b" "$1" "$code"; printf '\\n%s %s end\\n' "$b" "$1" >&2
  shift 2
done`;

/** sshd hands the whole line to the login shell as one argument, which Linux caps at 128 KiB. */
export const MAX_BATCH_BYTES = 96 * 1024;

/** The command line that runs `reqs` framed by `token`: one call of the batch script per user (one sudo per become user). */
export function batchCommand(reqs: ReadonlyArray<ReadRequest>, token: string): string {
  const groups = new Map<string, { become: boolean; becomeUser?: string; args: (string | number)[] }>();
  reqs.forEach((r, i) => {
    const key = r.become ? (r.becomeUser ?? 'root') : '';
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { become: r.become, becomeUser: r.becomeUser, args: [] }));
    g.args.push(i, r.command);
  });
  // Groups run one after another; a group that can't start (sudo refused) just leaves its reads out.
  return [...groups.values()].map((g) => withBecome(shScript(BATCH_SCRIPT, [token, ...g.args]), g)).join('; ');
}

/** Each framed part of one stream, by index. */
function parts(stream: string, token: string, withCode: boolean): Map<number, { text: string; code?: number }> {
  const out = new Map<number, { text: string; code?: number }>();
  const frame = new RegExp(`${token} (\\d+) begin\\n([\\s\\S]*?)\\n${token} \\1 end${withCode ? ' (\\d+)' : ''}\\n`, 'g');
  for (const m of stream.matchAll(frame)) out.set(Number(m[1]), { text: m[2], code: withCode ? Number(m[3]) : undefined });
  return out;
}

/** The batch's output → result i, or undefined where command i did not report (its group failed). */
export function parseBatch(stdout: string, stderr: string, count: number, token: string): (RunResult | undefined)[] {
  const outs = parts(stdout, token, true);
  const errs = parts(stderr, token, false);
  return Array.from({ length: count }, (_, i) => {
    const o = outs.get(i);
    const e = errs.get(i);
    return o && e ? { code: o.code!, stdout: o.text, stderr: e.text } : undefined;
  });
}

/** Run the reads in one exec; a read that did not come back is undefined (the caller reads it alone). */
export async function readBatch(conn: Connection, reqs: ReadonlyArray<ReadRequest>): Promise<(RunResult | undefined)[]> {
  if (!reqs.length) return [];
  const token = `relay-play-${randomBytes(16).toString('hex')}`;
  const r = await conn.run(batchCommand(reqs, token));
  return parseBatch(r.stdout, r.stderr, reqs.length, token);
}
