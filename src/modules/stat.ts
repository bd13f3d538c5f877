// stat: facts about a path (not following a symlink, as Ansible's follow=no), with the sha1 of a
// regular file computed in the same round trip. Never changes anything.
import { shScript } from '../connection/quote.js';
import type { Module, Plan } from './types.js';
import { boolArg, toBool, type BoolArg } from './lib/schema.js';

interface StatArgs {
  path: string;
  get_checksum?: BoolArg;
}

const SCRIPT = `p=$1
if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo absent; exit 0; fi
stat -c '%F|%a|%U|%G|%s|%u|%g|%Y' -- "$p" || exit 1
if [ -L "$p" ]; then printf 'link=%s\\n' "$(readlink -- "$p" | base64 -w0)"; fi
if [ "$2" = yes ] && [ -f "$p" ] && [ ! -L "$p" ] && [ -r "$p" ]; then printf 'sha1=%s\\n' "$(sha1sum < "$p" | cut -d' ' -f1)"; fi
exit 0`;

export const stat: Module<StatArgs> = {
  schema: {
    type: 'object',
    properties: { path: { type: 'string', minLength: 1 }, get_checksum: boolArg },
    required: ['path'],
    additionalProperties: false,
  },

  async plan(args, ctx): Promise<Plan> {
    const r = await ctx.read(shScript(SCRIPT, [args.path, toBool(args.get_checksum, true) ? 'yes' : 'no']));
    if (r.code !== 0) return { changed: false, steps: [], failed: `cannot stat ${args.path}: ${r.stderr.trim() || `exit ${r.code}`}` };
    const [head, ...rest] = r.stdout.split('\n');
    if (head === 'absent') return { changed: false, steps: [], result: { stat: { exists: false } } };
    const [kind, mode, owner, group, size, uid, gid, mtime] = head.split('|');
    const stat: Record<string, unknown> = {
      exists: true,
      path: args.path,
      isdir: kind === 'directory',
      isreg: kind.startsWith('regular'),
      islnk: kind === 'symbolic link',
      mode: mode.padStart(4, '0'),
      pw_name: owner,
      gr_name: group,
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      mtime: Number(mtime),
    };
    for (const line of rest) {
      if (line.startsWith('link=')) stat.lnk_target = Buffer.from(line.slice(5), 'base64').toString('utf8').replace(/\n$/, '');
      if (line.startsWith('sha1=')) stat.checksum = line.slice(5);
    }
    return { changed: false, steps: [], result: { stat } };
  },
};
