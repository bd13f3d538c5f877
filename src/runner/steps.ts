// Applying a plan's steps in as few round trips as possible: consecutive steps travel in one exec
// (src/connection/batch.ts) that stops at the first failing step, exactly as running them one by
// one would. On a first apply most tasks have several steps (mkdir, chown, ssh-keygen, …). Their
// inputs (file contents) travel on the exec's stdin, so a big file shares the trip like any step.
import { MAX_TRIP_BYTES, runAlone, runInOneTrip, tripSize, type OneCommand } from '../connection/batch.js';
import type { Connection, RunResult } from '../connection/types.js';

/** Outputs of the steps that ran, in order; with stopAtFailure the last one is the failure, if any. */
export async function applySteps(conn: Connection, steps: OneCommand[], stopAtFailure: boolean): Promise<RunResult[]> {
  const outputs: RunResult[] = [];
  const alone = (s: OneCommand) => runAlone(conn, s);
  const failed = (r: RunResult) => stopAtFailure && r.code !== 0;
  let i = 0;
  while (i < steps.length) {
    let end = i;
    for (let bytes = 0; end < steps.length && bytes + tripSize(steps[end]) <= MAX_TRIP_BYTES; end++) bytes += tripSize(steps[end]);
    if (end - i <= 1) {
      // One step (or one whose command alone is too long to share a command line): as it is.
      const r = await alone(steps[i++]);
      outputs.push(r);
      if (failed(r)) return outputs;
      continue;
    }
    const trip = await runInOneTrip(conn, steps.slice(i, end), { stopAtFailure });
    for (let k = 0; k < end - i; k++) {
      const r = trip.results[k];
      if (r) {
        outputs.push(r);
        if (failed(r)) return outputs;
        continue;
      }
      if (trip.began.has(k)) {
        // Started and never finished: the shell or the connection ended under it. Never run it twice.
        outputs.push({ code: 255, stdout: '', stderr: 'the step did not finish (its shell or the connection ended)' });
        return outputs;
      }
      // Never started (e.g. sudo refused): go on one by one from here, so the error is the real one.
      // Without stopping at failures, a later run of the trip may have run all the same: never twice.
      for (let n = i + k; n < end; n++) {
        if (trip.began.has(n - i)) {
          const done = trip.results[n - i];
          outputs.push(done ?? { code: 255, stdout: '', stderr: 'the step did not finish (its shell or the connection ended)' });
          if (!done || failed(done)) return outputs;
          continue;
        }
        const rr = await alone(steps[n]);
        outputs.push(rr);
        if (failed(rr)) return outputs;
      }
      break;
    }
    i = end;
  }
  return outputs;
}
