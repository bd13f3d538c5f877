// relay_tunnel's plan without a host: a relay that failed in this run leaves the tunnel as it is, after
// the one read the task makes first (so that read can be sent before the relay's plays run).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relay_tunnel } from '../../src/modules/relay_tunnel.js';
import { cannedCtx, planWith } from './modules/fake-host.js';

const ARGS = { src: 'relay-tunnel.service.hbs', relay_host_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' };

describe('relay_tunnel', () => {
  for (const ready of [false, 'False', 'no']) {
    it(`relay_ready ${JSON.stringify(ready)}: skipped after its read, nothing changed`, async () => {
      const ctx = cannedCtx('unit=absent\npin=absent\nactive=inactive\nenabled=disabled\n');
      const p = await planWith(relay_tunnel, { ...ARGS, relay_ready: ready } as never, ctx);
      assert.equal(p.skipped, true);
      assert.equal(p.changed, false);
      assert.deepEqual(p.steps, []);
      assert.match(p.msg ?? '', /relay failed in this run/);
      assert.equal(ctx.reads.length, 1);
    });
  }
});
