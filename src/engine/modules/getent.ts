// getent: look up an account (or any NSS database entry); read-only, works in check mode.
import { shellJoin } from '../util/quote.js';
import type { Module } from './types.js';

interface GetentArgs {
  database: string;
  key: string;
  fail_key?: boolean;
}

export const getent: Module<GetentArgs, 'entry'> = {
  readOnly: true,
  schema: {
    type: 'object',
    properties: {
      database: { type: 'string', enum: ['passwd', 'group', 'hosts', 'services', 'shadow'] },
      key: { type: 'string', minLength: 1 },
      fail_key: { type: 'boolean' },
    },
    required: ['database', 'key'],
    additionalProperties: false,
  },
  reads: (args) => ({ entry: { command: shellJoin(['getent', args.database, args.key]) } }),
  plan(args, ctx, read) {
    const r = read.entry;
    if (r.code === 2) {
      if (args.fail_key === false) return { changed: false, steps: [], result: { found: false } };
      return { changed: false, steps: [], failed: `no ${args.database} entry "${args.key}" on ${ctx.host}` };
    }
    if (r.code !== 0)
      return { changed: false, steps: [], failed: `getent ${args.database} failed: ${r.stderr.trim()}` };
    const fields = r.stdout.split('\n')[0].split(':');
    const result: Record<string, unknown> = {
      found: true,
      fields,
      [`getent_${args.database}`]: { [args.key]: fields.slice(1) },
    };
    if (args.database === 'passwd')
      Object.assign(result, {
        name: fields[0],
        uid: Number(fields[2]),
        gid: Number(fields[3]),
        home: fields[5],
        shell: fields[6],
      });
    return { changed: false, steps: [], result };
  },
};
