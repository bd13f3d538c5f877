// relay_fleet_read (relay-play's own module, runs on each relay): this relay's copy of the fleet state and
// its host key, left in its facts (relay_copy) for relay_fleet on every relay to merge (relays.ts). Read
// with relay_fleet's own command, so on the relay that runs both it is read once.
import { type Module, shFile, shScript } from '../../engine/index.js';
import { bareKey } from '../fleet.js';
import type { RelayCopy } from './relay_fleet.js';

interface ReadArgs {
  state_file: string;
  host_key: string;
}

export const relay_fleet_read: Module<ReadArgs, 'state'> = {
  schema: {
    type: 'object',
    properties: { state_file: { type: 'string' }, host_key: { type: 'string' } },
    required: ['state_file', 'host_key'],
    additionalProperties: false,
  },
  providesFacts: ['relay_copy'],
  reads: (args) => ({
    state: { command: shScript(shFile('relay/modules/relay_fleet.sh'), [args.host_key, args.state_file]) },
  }),
  plan(args, ctx, read) {
    const r = read.state;
    const [hostKeyText, state = ''] = r.stdout.split('---relay-play---\n');
    const hostKey = bareKey(hostKeyText);
    if (r.code !== 0 || !hostKey)
      return {
        changed: false,
        steps: [],
        failed: `cannot read the relay's host key ${args.host_key}: ${r.stderr.trim()}`,
      };
    const copy: RelayCopy = { state, host_key: hostKey };
    return { changed: false, steps: [], facts: { [ctx.host]: { relay_copy: copy } } };
  },
};
