// Applying a plan's steps in as few round trips as possible: consecutive steps travel in one exec
// (src/connection/batch.ts) that stops at the first failing step, exactly as running them one by
// one would. On a first apply most tasks have several steps (mkdir, chown, ssh-keygen, …).
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
      // One step (or one too big for a command line, e.g. a large file's content): as it is.
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
      for (let n = i + k; n < end; n++) {
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
