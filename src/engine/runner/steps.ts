// Applying a plan's steps in as few round trips as possible: consecutive steps travel in one exec
// (src/engine/connection/batch.ts) that stops at the first failing step, exactly as running them one by
// one would. On a first apply most tasks have several steps (mkdir, chown, ssh-keygen, …). Their
// inputs (file contents) travel on the exec's stdin, so a big file shares the trip like any step.
import {
  MAX_TRIP_BYTES,
  runAlone,
  runInOneTrip,
  tripSize,
  type OneCommand,
  type ReadRequest,
  type TripResult,
} from '../connection/batch.js';
import type { Connection, RunResult } from '../connection/types.js';

const UNFINISHED: RunResult = {
  code: 255,
  stdout: '',
  stderr: 'the step did not finish (its shell or the connection ended)',
};

/** Outputs of the steps that ran, in order; with stopAtFailure the last one is the failure, if any. */
export async function applySteps(conn: Connection, steps: OneCommand[], stopAtFailure: boolean): Promise<RunResult[]> {
  const outputs: RunResult[] = [];
  let i = 0;
  while (i < steps.length) {
    let end = i;
    for (let bytes = 0; end < steps.length && bytes + tripSize(steps[end]) <= MAX_TRIP_BYTES; end++)
      bytes += tripSize(steps[end]);
    if (end - i <= 1) {
      // One step (or one whose command alone is too long to share a command line): as it is.
      const r = await runAlone(conn, steps[i++]);
      outputs.push(r);
      if (stopAtFailure && r.code !== 0) return outputs;
      continue;
    }
    const trip = await runInOneTrip(conn, steps.slice(i, end), { stopAtFailure });
    const settled = await settle(conn, steps.slice(i, end), trip, stopAtFailure);
    outputs.push(...settled.outputs);
    if (settled.stop) return outputs;
    i = end;
  }
  return outputs;
}

/**
 * The steps, and then — in the same trip, once every step has succeeded — `reads`: what the tasks after
 * them will read, as the host is after these steps. `read` is undefined when the reads did not come
 * along (a step failed, or it would not all fit in one trip): the tasks then read for themselves.
 */
export async function applyStepsThenRead(
  conn: Connection,
  steps: OneCommand[],
  stopAtFailure: boolean,
  reads: ReadRequest[],
): Promise<{ outputs: RunResult[]; read?: (RunResult | undefined)[] }> {
  const size = [...steps, ...reads].reduce((n, c) => n + tripSize(c), 0);
  if (!reads.length || steps.length < 1 || size > MAX_TRIP_BYTES)
    return { outputs: await applySteps(conn, steps, stopAtFailure) };
  const trip = await runInOneTrip(conn, [...steps, ...reads], { stopAtFailure, stopBelow: steps.length });
  const settled = await settle(
    conn,
    steps,
    { results: trip.results.slice(0, steps.length), began: trip.began },
    stopAtFailure,
  );
  const complete =
    settled.outputs.length === steps.length && !settled.stop && trip.results.slice(0, steps.length).every((r) => r);
  return { outputs: settled.outputs, read: complete ? trip.results.slice(steps.length) : undefined };
}

/** What one trip of `steps` did; a step that never started is run alone, one that started never twice. */
async function settle(
  conn: Connection,
  steps: OneCommand[],
  trip: TripResult,
  stopAtFailure: boolean,
): Promise<{ outputs: RunResult[]; stop: boolean }> {
  const outputs: RunResult[] = [];
  const failed = (r: RunResult) => stopAtFailure && r.code !== 0;
  for (let k = 0; k < steps.length; k++) {
    const r = trip.results[k];
    if (r) {
      outputs.push(r);
      if (failed(r)) return { outputs, stop: true };
      continue;
    }
    // Started and never finished: the shell or the connection ended under it. Never run it twice.
    if (trip.began.has(k)) return { outputs: [...outputs, UNFINISHED], stop: true };
    // Never started (e.g. sudo refused): go on one by one from here, so the error is the real one.
    // Without stopping at failures, a later run of the trip may have run all the same: never twice.
    for (let n = k; n < steps.length; n++) {
      if (trip.began.has(n)) {
        const done = trip.results[n];
        outputs.push(done ?? UNFINISHED);
        if (!done || failed(done)) return { outputs, stop: true };
        continue;
      }
      const rr = await runAlone(conn, steps[n]);
      outputs.push(rr);
      if (failed(rr)) return { outputs, stop: true };
    }
    return { outputs, stop: false };
  }
  return { outputs, stop: false };
}
