import type { FileDiff } from '../modules/types.js';

export type Status = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface TaskResult {
  status: Status;
  /** What `register` stores and --json shows (already censored for no_log). */
  result: Record<string, unknown>;
  diff: FileDiff[];
  msg?: string;
  /** Failed, but ignore_errors: the host goes on. */
  ignored?: boolean;
  /** A handler's pending marker went in the same round trip as its steps (src/engine/runner/pending.ts). */
  pendingCleared?: boolean;
  /** The task's own `diff:` keyword: show (or hide) its diff whatever --diff says. */
  showDiff?: boolean;
}

/** As Ansible: a task that failed may have changed something (a command that ran and failed did). */
export const changedOf = (r: TaskResult): boolean =>
  r.status === 'changed' || (r.status === 'failed' && r.result.changed === true);

/**
 * What `register` keeps of a result, as Ansible's task executor completes it: `failed: false` on a
 * task that did not fail, `skipped: false` on a loop's whole result, `changed: false` on a skipped
 * task. Its callback leaves these out of what it prints (--json does too).
 */
export function registeredResult(r: TaskResult, loop: boolean): Record<string, unknown> {
  if (r.status === 'unreachable' || 'censored' in r.result) return r.result;
  if (r.status === 'skipped') return { changed: false, ...r.result };
  if (loop) return 'skipped' in r.result ? r.result : { ...r.result, skipped: false };
  return 'failed' in r.result ? r.result : { ...r.result, failed: false };
}

export const NO_LOG_MESSAGE =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

export function censor(r: TaskResult): TaskResult {
  return {
    status: r.status,
    result: { censored: NO_LOG_MESSAGE, changed: changedOf(r) },
    diff: [],
    msg: r.status === 'failed' ? NO_LOG_MESSAGE : undefined,
    ignored: r.ignored,
    showDiff: r.showDiff,
  };
}
