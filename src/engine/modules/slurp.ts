// slurp: a file's content, base64-encoded, read in one round trip. Never changes anything.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { Module, Plan } from './types.js';

interface SlurpArgs {
  src?: string;
  path?: string;
}

const SCRIPT = () => shFile('engine/modules/slurp.sh');

export const slurp: Module<SlurpArgs, 'file'> = {
  readOnly: true,
  schema: {
    type: 'object',
    properties: { src: { type: 'string', minLength: 1 }, path: { type: 'string', minLength: 1 } },
    oneOf: [{ required: ['src'] }, { required: ['path'] }],
    additionalProperties: false,
  },

  reads: (args) => ({ file: { command: shScript(SCRIPT(), [(args.src ?? args.path)!]) } }),

  plan(args, _ctx, read): Plan {
    const src = (args.src ?? args.path)!;
    const r = read.file;
    if (r.code !== 0)
      return { changed: false, steps: [], failed: `unable to slurp ${src}: ${r.stderr.trim() || `exit ${r.code}`}` };
    const nl = r.stdout.indexOf('\n');
    const head = nl < 0 ? r.stdout : r.stdout.slice(0, nl);
    if (head === 'absent') return { changed: false, steps: [], failed: `file not found: ${src}` };
    if (head === 'directory')
      return { changed: false, steps: [], failed: `source is a directory and must be a file: ${src}` };
    return {
      changed: false,
      steps: [],
      result: { content: r.stdout.slice(nl + 1).trim(), encoding: 'base64', source: src },
    };
  },
};
