// pause: wait a number of seconds or minutes, here on the controller, as Ansible's pause action does.
// relay-play never stops a run to ask: a pause with no duration (Ansible's waits for Enter, or goes on
// at once with a warning when its standard input is not a terminal) is refused. A prompt with a
// duration is shown and the pause is timed. Check mode pauses too, as Ansible's does.
import { strftime } from '../template/pyfmt.js';
import type { Module, Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';

interface PauseArgs {
  seconds?: number;
  minutes?: number;
  prompt?: string;
  echo?: BoolArg;
}

/** Python's str(datetime.now()): local time to the microsecond. */
function pyNow(ms: number): string {
  const s = ms / 1000;
  return `${strftime('%Y-%m-%d %H:%M:%S', s, false)}.${String(Math.round((ms % 1000) * 1000)).padStart(6, '0')}`;
}

/** Python's repr of round(x, 2): "2.0", "2.01". */
export function pyRound2(x: number): string {
  const r = Math.round(x * 100) / 100;
  return Number.isInteger(r) ? `${r}.0` : String(r);
}

/** How long to wait, in whole seconds (Ansible's int() of the argument; under 1 is 1); undefined: none given. */
export function pauseSeconds(args: PauseArgs): number | undefined {
  if (args.minutes !== undefined) return Math.max(1, Math.trunc(args.minutes) * 60);
  if (args.seconds !== undefined) return Math.max(1, Math.trunc(args.seconds));
  return undefined;
}

export const pause: Module<PauseArgs> = {
  schema: {
    type: 'object',
    properties: {
      seconds: { type: 'number' },
      minutes: { type: 'number' },
      prompt: { type: 'string' },
      echo: boolArg,
    },
    not: { required: ['minutes', 'seconds'] },
    additionalProperties: false,
  },

  async plan(args): Promise<Plan> {
    const echo = toBool(args.echo, true);
    const seconds = pauseSeconds(args);
    if (seconds === undefined)
      return {
        changed: false,
        steps: [],
        failed: `pause without seconds or minutes waits for input${args.prompt ? ` ("${args.prompt}")` : ''}; relay-play never stops a run to ask: give seconds or minutes`,
      };
    const t0 = Date.now();
    const start = pyNow(t0);
    await new Promise((res) => setTimeout(res, seconds * 1000));
    const t1 = Date.now();
    const took = (t1 - t0) / 1000;
    const unit = args.minutes !== undefined ? 'minutes' : 'seconds';
    return {
      changed: false,
      steps: [],
      result: {
        rc: 0,
        stderr: '',
        stdout: `Paused for ${pyRound2(unit === 'minutes' ? took / 60 : took)} ${unit}`,
        start,
        stop: pyNow(t1),
        delta: Math.trunc(took),
        echo,
        user_input: '',
      },
    };
  },
};
