// tempfile: a new temporary file or directory, named as Python's tempfile names one (prefix, 8 random
// characters of [a-z0-9_], suffix), created exclusively on the host. As Ansible's, it does not run in
// check mode (it would have nothing to return) and always reports changed.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan } from './types.js';

interface TempfileArgs {
  state?: 'file' | 'directory';
  path?: string;
  prefix?: string;
  suffix?: string;
}

const SCRIPT = () => shFile('engine/modules/tempfile.sh');

export const tempfile: Module<TempfileArgs> = {
  schema: {
    type: 'object',
    properties: {
      state: { enum: ['file', 'directory'] },
      path: { type: 'string', minLength: 1 },
      prefix: { type: 'string', pattern: '^[^/]*$' },
      suffix: { type: 'string', pattern: '^[^/]*$' },
    },
    additionalProperties: false,
  },

  plan(args, ctx): Plan {
    if (ctx.check)
      return { changed: false, skipped: true, steps: [], msg: 'remote module (tempfile) does not support check mode' };
    const state = args.state ?? 'file';
    return {
      changed: true,
      steps: [
        {
          describe: `make a temporary ${state}`,
          command: shScript(SCRIPT(), [state, args.path ?? '', args.prefix ?? 'ansible.', args.suffix ?? '']),
        },
      ],
      acceptNonZero: true,
      finish(outputs: RunResult[]) {
        const out = outputs[0];
        if (!out || out.code !== 0)
          return { failed: true, changed: false, msg: out?.stderr.trim() || 'the temporary file was not made' };
        const [path, st] = out.stdout.split('\n');
        const [uid, gid, owner, group, mode, size] = st.split('|');
        return {
          path,
          uid: Number(uid),
          gid: Number(gid),
          owner,
          group,
          mode: mode.padStart(4, '0'),
          size: Number(size),
          state,
        };
      },
    };
  },
};
