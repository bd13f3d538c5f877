// wait_for_connection: log in to the host again, by the way the run reaches it (an away device's route
// too), until a shell answers, as Ansible's action resets its connection and pings until the ping module
// answers: `delay` first, then tries `sleep` seconds apart until `timeout` (from after the delay), each
// login given `connect_timeout`. Returns `elapsed` (whole seconds, from before the delay). Skipped in
// check mode, as Ansible's.
import type { ConfirmContext, Module, Plan } from './types.js';
import { sleep as sleepMs, within } from './lib/wait.js';

interface WaitForConnectionArgs {
  delay?: number;
  sleep?: number;
  timeout?: number;
  connect_timeout?: number;
}

/** One try: a new login by the host's usual path, then a shell that answers. */
async function attempt(ctx: ConfirmContext, connectTimeout: number): Promise<void> {
  await within(ctx.reconnect(Date.now()), connectTimeout, 'the connection');
  const r = await within(ctx.run('echo pong'), connectTimeout, 'the ping');
  if (r.code !== 0 || r.stdout.trim() !== 'pong') throw new Error('ping test failed');
}

export const wait_for_connection: Module<WaitForConnectionArgs> = {
  schema: {
    type: 'object',
    properties: {
      delay: { type: 'integer' },
      sleep: { type: 'integer' },
      timeout: { type: 'integer' },
      connect_timeout: { type: 'integer' },
    },
    additionalProperties: false,
  },

  plan(args, ctx): Plan {
    if (ctx.check) return { changed: false, skipped: true, steps: [] };
    const delay = args.delay ?? 0;
    const pause = args.sleep ?? 1;
    const timeout = args.timeout ?? 600;
    const connectTimeout = args.connect_timeout ?? 5;
    return {
      changed: false,
      steps: [],
      async confirm(cctx) {
        const start = Date.now();
        if (delay > 0) await sleepMs(delay * 1000);
        const end = Date.now() + timeout * 1000;
        let error: unknown;
        let up = false;
        while (Date.now() < end) {
          try {
            await attempt(cctx, connectTimeout);
            up = true;
            break;
          } catch (e) {
            error = e;
            await sleepMs(pause * 1000);
          }
        }
        const elapsed = Math.floor((Date.now() - start) / 1000);
        if (up) return { result: { elapsed } };
        const why = error instanceof Error ? error.message : String(error);
        return { failed: `timed out waiting for ping module test: ${why}`, result: { elapsed } };
      },
    };
  },
};
