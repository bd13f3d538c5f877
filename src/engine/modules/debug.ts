// debug: print a message or a variable's value. Never changes anything, reads nothing.
import type { Module, Plan } from './types.js';
import { parseKv } from '../util/words.js';
import { asTemplated } from '../template/values.js';

interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity?: number;
  _raw?: string;
}

export const debug: Module<DebugArgs> = {
  schema: {
    type: 'object',
    properties: {
      msg: {},
      var: { type: 'string', minLength: 1 },
      verbosity: { type: 'integer', minimum: 0 },
      _raw: { type: 'string' },
    },
    not: { required: ['msg', 'var'] },
    additionalProperties: false,
  },
  freeForm: true,

  async plan(args, ctx): Promise<Plan> {
    let a: DebugArgs = args;
    if (args._raw !== undefined) {
      try {
        const kv = parseKv(args._raw);
        a = { ...(kv.msg !== undefined ? { msg: kv.msg } : {}), ...(kv.var !== undefined ? { var: kv.var } : {}) };
      } catch (e) {
        return { changed: false, steps: [], failed: `debug: ${(e as Error).message}` };
      }
    }
    if (a.var !== undefined) {
      let value: unknown;
      try {
        // Ansible templates "{{ var }}": a date (or a list holding one) is shown as that text.
        value = asTemplated(ctx.evaluate(a.var));
      } catch {
        value = 'VARIABLE IS NOT DEFINED!';
      }
      return { changed: false, steps: [], result: { [a.var]: value } };
    }
    return { changed: false, steps: [], result: { msg: a.msg ?? 'Hello world!' } };
  },
};
