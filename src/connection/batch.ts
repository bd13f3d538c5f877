// Several read-only commands in one round trip: one exec, and at most one sudo per become user,
// instead of one exec (and one sudo) per command. Each command's exit code, stdout and stderr come
// back exactly, so a batched read is indistinguishable from running it alone.
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

// Arguments: pairs of (index, command). One line per command:
// "RPR <index> <exit code> <stdout base64> <stderr base64>". A scratch dir holds each output
// while it is encoded (shell variables can't hold NUL bytes) and goes when the batch ends.
const BATCH_SCRIPT = `t=$(mktemp -d) || exit 1
trap 'rm -rf -- "$t"' EXIT
while [ $# -ge 2 ]; do
  i=$1 c=$2; shift 2
  sh -c "$c" </dev/null >"$t/o" 2>"$t/e"; code=$? o= e=
  if [ -s "$t/o" ]; then o=$(base64 -w0 <"$t/o"); fi
  if [ -s "$t/e" ]; then e=$(base64 -w0 <"$t/e"); fi
  printf 'RPR %s %s %s %s\\n' "$i" "$code" "$o" "$e"
done`;

/** sshd hands the whole line to the login shell as one argument, which Linux caps at 128 KiB. */
export const MAX_BATCH_BYTES = 96 * 1024;

/** The command line that runs `reqs`: one call of the batch script per user (one sudo per become user). */
export function batchCommand(reqs: ReadonlyArray<ReadRequest>): string {
  const groups = new Map<string, { become: boolean; becomeUser?: string; args: (string | number)[] }>();
  reqs.forEach((r, i) => {
    const key = r.become ? (r.becomeUser ?? 'root') : '';
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { become: r.become, becomeUser: r.becomeUser, args: [] }));
    g.args.push(i, r.command);
  });
  // Groups run one after another; a group that can't start (sudo refused) just leaves its reads out.
  return [...groups.values()].map((g) => withBecome(shScript(BATCH_SCRIPT, g.args), g)).join('; ');
}

/** Parse the batch's output: result i, or undefined where a command did not report (its group failed). */
export function parseBatch(stdout: string, count: number): (RunResult | undefined)[] {
  const out: (RunResult | undefined)[] = new Array(count).fill(undefined);
  for (const line of stdout.split('\n')) {
    const m = /^RPR (\d+) (\d+) ([A-Za-z0-9+/=]*) ([A-Za-z0-9+/=]*)$/.exec(line);
    if (!m) continue;
    const i = Number(m[1]);
    if (i >= count) continue;
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    out[i] = { code: Number(m[2]), stdout: b64(m[3]), stderr: b64(m[4]) };
  }
  return out;
}

/** Run the reads in one exec; a read that did not come back is undefined (the caller reads it alone). */
export async function readBatch(conn: Connection, reqs: ReadonlyArray<ReadRequest>): Promise<(RunResult | undefined)[]> {
  if (!reqs.length) return [];
  const r = await conn.run(batchCommand(reqs));
  return parseBatch(r.stdout, reqs.length);
}
