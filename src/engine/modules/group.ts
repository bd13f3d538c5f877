// group: a local group via groupadd/groupmod/groupdel, as Ansible's (gid, system, non_unique). One read
// (its group(5) entry); in check mode a group to create or remove reports only `changed`, as Ansible's.
import { shFile } from '../util/sh-file.js';
import { shellJoin, shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { fieldsDiff } from './lib/state-diff.js';

interface GroupArgs {
  name: string;
  state?: 'present' | 'absent';
  gid?: number | string;
  system?: BoolArg;
  local?: BoolArg;
  non_unique?: BoolArg;
}

const SCRIPT = () => shFile('engine/modules/group.sh');

/** "name:x:gid:members" → its gid, or undefined for "absent". */
function gidOf(r: RunResult, name: string): number | undefined {
  if (r.code !== 0) throw new Error(`cannot look up group ${name}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const line = r.stdout.trim().split('\n')[0];
  return line === 'absent' ? undefined : Number(line.split(':')[2]);
}

export const group: Module<GroupArgs, 'group'> = {
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, pattern: '^[^:\\n]*$' },
      state: { enum: ['present', 'absent'] },
      gid: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 },
      system: boolArg,
      local: boolArg,
      non_unique: boolArg,
    },
    required: ['name'],
    additionalProperties: false,
  },

  reads: (args) => ({ group: { command: shScript(SCRIPT(), [args.name]) } }),

  plan(args, ctx, read): Plan {
    const { name } = args;
    const present = (args.state ?? 'present') === 'present';
    if (toBool(args.local, false))
      return {
        changed: false,
        steps: [],
        failed:
          'local: true needs lgroupadd/lgroupmod/lgroupdel (libuser), which Debian does not ship; relay-play refuses it',
        result: { name },
      };
    const gid = args.gid === undefined ? undefined : Number(args.gid);
    const nonUnique = toBool(args.non_unique, false);
    if (nonUnique && gid === undefined)
      return { changed: false, steps: [], failed: 'non_unique needs gid', result: { name } };
    const system = toBool(args.system, false);
    const have = gidOf(read.group, name);
    const fail = (outputs: RunResult[]) => {
      const out = outputs[outputs.length - 1];
      // As Ansible's module: its fail_json says nothing of changed, so the task changed nothing.
      return out && out.code !== 0 ? { failed: true, changed: false, msg: out.stderr } : {};
    };
    // The group's entry after the change, for its gid.
    const after = (outputs: RunResult[]) => {
      const out = outputs[outputs.length - 1];
      const line = out?.stdout.trim().split('\n').pop() ?? '';
      return out?.code === 0 && line.includes(':') ? { gid: Number(line.split(':')[2]) } : {};
    };

    if (!present) {
      if (have === undefined) return { changed: false, steps: [], result: { name, state: 'absent' } };
      const diff = fieldsDiff(`group ${name}`, { state: 'present', gid: have }, { state: 'absent' });
      if (ctx.check) return { changed: true, steps: [], diff: [diff!], result: {} };
      return {
        changed: true,
        steps: [{ describe: `groupdel ${name}`, command: shellJoin(['groupdel', '--', name]) }],
        acceptNonZero: true,
        diff: [diff!],
        result: { name, state: 'absent' },
        finish: fail,
      };
    }

    if (have === undefined) {
      const argv = ['groupadd'];
      if (gid !== undefined) argv.push('-g', String(gid));
      if (nonUnique) argv.push('-o');
      if (system) argv.push('-r');
      const diff = fieldsDiff(`group ${name}`, { state: 'absent' }, { state: 'present', gid });
      if (ctx.check) return { changed: true, steps: [], diff: [diff!], result: {} };
      return {
        changed: true,
        steps: [
          {
            describe: `groupadd ${name}`,
            command: `${shellJoin([...argv, '--', name])} && ${shellJoin(['getent', 'group', '--', name])}`,
          },
        ],
        acceptNonZero: true,
        diff: [diff!],
        result: { name, state: 'present', system },
        finish: (outputs) => ({ ...after(outputs), ...fail(outputs) }),
      };
    }

    const result = { name, state: 'present', system, gid: have };
    if (gid === undefined || gid === have) return { changed: false, steps: [], result };
    const diff = fieldsDiff(`group ${name}`, { gid: have }, { gid });
    const argv = ['groupmod', '-g', String(gid), ...(nonUnique ? ['-o'] : []), '--', name];
    return {
      changed: true,
      steps: [
        {
          describe: `groupmod ${name}`,
          command: `${shellJoin(argv)} && ${shellJoin(['getent', 'group', '--', name])}`,
        },
      ],
      acceptNonZero: true,
      diff: [diff!],
      result,
      finish: (outputs) => ({ ...after(outputs), ...fail(outputs) }),
    };
  },
};
