// A module planned outside a playbook, on one connection: its reads fetched (in one trip), its plan
// returned, nothing applied. For a command that wants a module's decision without running a play.
import { readBatch } from '../connection/batch.js';
import type { Connection } from '../connection/types.js';
import type { Module, Plan, PlanContext } from '../modules/types.js';
import { gather } from './execute.js';

export async function planOn<A>(
  conn: Connection,
  mod: Module<A>,
  args: A,
  opts: { become: boolean; check?: boolean },
): Promise<Plan> {
  const none = (what: string) => () => {
    throw new Error(`${what} is not available outside a playbook`);
  };
  const ctx: PlanContext = {
    host: conn.host,
    check: opts.check ?? true,
    become: opts.become,
    via: conn.via,
    resolveLocal: none('a local file'),
    render: none('rendering'),
    renderHandlebars: none('rendering'),
    evaluate: none('evaluating'),
  };
  const record = args as Record<string, unknown>;
  const facts = await gather(mod as Module, record, ctx, { become: opts.become }, async (reqs) => {
    const out = await readBatch(conn, reqs);
    return out.map((r, i) => {
      if (!r) throw new Error(`${reqs[i].command.slice(0, 40)}...: no answer`);
      return r;
    });
  });
  return mod.plan(args, ctx, facts);
}
