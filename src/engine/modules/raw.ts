// raw: a command line run as it is by a shell on the host (`/bin/sh -c TEXT`, or `executable -c TEXT`),
// with no module machinery at all — what Ansible uses to bootstrap hosts without Python. As Ansible's,
// it runs on a terminal (so its output ends lines with CRLF and carries stderr too), always reports
// changed, and does not run in check mode.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import { terminalResult } from './lib/terminal.js';
import type { Module, Plan } from './types.js';

interface RawArgs {
  _raw?: string;
  executable?: string;
}

const SCRIPT = () => shFile('engine/modules/raw.sh');

export const raw: Module<RawArgs> = {
  freeForm: true,
  schema: {
    type: 'object',
    properties: {
      _raw: { type: 'string' },
      executable: { type: 'string', minLength: 1 },
    },
    required: ['_raw'],
    additionalProperties: false,
  },

  plan(args, ctx): Plan {
    const text = args._raw ?? '';
    if (!text.trim()) return { changed: false, steps: [], failed: 'no command given' };
    if (ctx.check) return { changed: false, skipped: true, steps: [], result: {} };
    return {
      changed: true,
      steps: [{ describe: `raw: ${text}`, command: shScript(SCRIPT(), [text, args.executable ?? '/bin/sh']) }],
      acceptNonZero: true,
      finish(outputs: RunResult[]) {
        return terminalResult(outputs[0] ?? { code: 255, stdout: '', stderr: 'the command did not run' });
      },
    };
  },
};
