// ping: proves the host can be logged in to and runs a shell (Ansible's proves it runs Python; ours
// needs none). One read, batched with the next tasks' reads; never changes anything.
import type { Module, Plan } from './types.js';

interface PingArgs {
  data?: string | number;
}

export const ping: Module<PingArgs, 'ping'> = {
  readOnly: true,
  schema: {
    type: 'object',
    properties: { data: { type: ['string', 'number'] } },
    additionalProperties: false,
  },

  reads: () => ({ ping: { command: 'echo pong' } }),

  plan(args, _ctx, read): Plan {
    const r = read.ping;
    if (r.code !== 0 || r.stdout.trim() !== 'pong')
      return {
        changed: false,
        steps: [],
        failed: `the host's shell did not answer: ${r.stderr.trim() || `exit ${r.code}`}`,
      };
    const data = String(args.data ?? 'pong');
    // As Ansible documents: `data: crash` makes the module fail (Ansible's raises an exception: its
    // result says so in these words, with the traceback as module_stderr).
    if (data === 'crash')
      return {
        changed: false,
        steps: [],
        failed: 'MODULE FAILURE\nSee stdout/stderr for the exact error',
        result: { rc: 1, module_stdout: '', module_stderr: 'Exception: boom\n' },
      };
    return { changed: false, steps: [], result: { ping: data } };
  },
};
