// What raw and script return: a command's output as a terminal shows it (no stripping), each stream
// also as lines.
import type { RunResult } from '../../connection/types.js';

/** Python's str.splitlines() for what a terminal prints. */
export const terminalLines = (s: string): string[] =>
  s === '' ? [] : s.split(/\r\n|\r|\n/).filter((l, i, all) => i < all.length - 1 || l !== '');

/** `rc`, `stdout`, `stderr` and their lines; a non-zero rc fails with Ansible's "non-zero return code". */
export function terminalResult(out: RunResult): Record<string, unknown> {
  const res: Record<string, unknown> = {
    rc: out.code,
    stdout: out.stdout,
    stdout_lines: terminalLines(out.stdout),
    stderr: out.stderr,
    stderr_lines: terminalLines(out.stderr),
  };
  if (out.code !== 0) Object.assign(res, { failed: true, msg: 'non-zero return code' });
  return res;
}
