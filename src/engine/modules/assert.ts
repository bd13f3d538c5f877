// assert / fail: check conditions (Ansible's expression syntax, like `when:`) and fail the task when
// one is false. Never read the host, never change anything; the same in check mode.
import { truthy } from '../template/expr.js';
import type { Module, Plan } from './types.js';
import { boolArg } from './lib/schema.js';

interface AssertArgs {
  that: string | string[] | boolean;
  fail_msg?: unknown;
  msg?: unknown;
  success_msg?: unknown;
  quiet?: boolean | string;
}

export const assert: Module<AssertArgs> = {
  schema: {
    type: 'object',
    properties: {
      that: {
        anyOf: [
          { type: ['string', 'boolean'] },
          { type: 'array', items: { type: ['string', 'boolean'] }, minItems: 1 },
        ],
      },
      fail_msg: {},
      msg: {},
      success_msg: {},
      quiet: boolArg,
    },
    required: ['that'],
    not: { required: ['fail_msg', 'msg'] },
    additionalProperties: false,
  },

  async plan(args, ctx): Promise<Plan> {
    const conditions = (Array.isArray(args.that) ? args.that : [args.that]).map((c) =>
      typeof c === 'boolean' ? (c ? 'true' : 'false') : c,
    );
    for (const assertion of conditions) {
      if (!truthy(ctx.evaluate(assertion))) {
        // The message as given (a list or a dict stays one), as Ansible's result has it.
        const msg = args.fail_msg ?? args.msg ?? 'Assertion failed';
        return {
          changed: false,
          steps: [],
          failed: typeof msg === 'string' ? msg : JSON.stringify(msg),
          result: { assertion, evaluated_to: false, msg },
        };
      }
    }
    return { changed: false, steps: [], msg: String(args.success_msg ?? 'All assertions passed') };
  },
};

export const fail: Module<{ msg?: unknown }> = {
  schema: { type: 'object', properties: { msg: {} }, additionalProperties: false },
  async plan(args): Promise<Plan> {
    const msg = args.msg ?? 'Failed as requested from task';
    return { changed: false, steps: [], failed: typeof msg === 'string' ? msg : JSON.stringify(msg), result: { msg } };
  },
};
