// set_fact: host variables for the rest of the play. No read, no step, never a change.
// Free-form `set_fact: a=1 b=two` is accepted too (values are then strings, as in Ansible).
import type { Module, Plan } from './types.js';
import { parseKv } from '../util/words.js';
import { boolArg } from './lib/schema.js';

type SetFactArgs = Record<string, unknown>;

const NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

export const set_fact: Module<SetFactArgs> = {
  schema: {
    type: 'object',
    // cacheable is taken as Ansible takes it, and makes no difference: relay-play keeps no fact cache.
    properties: { cacheable: boolArg },
    propertyNames: { pattern: NAME },
    minProperties: 1,
  },
  freeForm: true,

  async plan(args, ctx): Promise<Plan> {
    const { cacheable: _cacheable, _raw, ...given } = args;
    let facts: Record<string, unknown> = given;
    if (typeof _raw === 'string') {
      try {
        facts = { ...parseKv(_raw), ...given };
      } catch (e) {
        return { changed: false, steps: [], failed: `set_fact: ${(e as Error).message}` };
      }
    }
    const bad = Object.keys(facts).find((k) => !new RegExp(NAME).test(k));
    if (bad !== undefined)
      return { changed: false, steps: [], failed: `set_fact: "${bad}" is not a valid variable name` };
    return { changed: false, steps: [], facts: { [ctx.host]: facts }, result: { ansible_facts: facts } };
  },
};
