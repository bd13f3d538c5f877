// stat: facts about a path, with Ansible's fields (exists, path, mode, isdir/isreg/islnk/..., uid,
// gid, pw_name, gr_name, size, inode, dev, nlink, atime/mtime/ctime, the permission bits, readable/
// writeable/executable for the task's user, lnk_source/lnk_target, checksum). Not following a
// symlink unless `follow: true`, as Ansible. One read; never changes anything.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { Module, Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';

interface StatArgs {
  path: string;
  follow?: BoolArg;
  get_checksum?: BoolArg;
  checksum_algorithm?: 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
  get_mime?: BoolArg;
  get_attributes?: BoolArg;
}

const SCRIPT = () => shFile('engine/modules/stat.sh');

const KINDS: Record<string, string> = {
  directory: 'isdir',
  'symbolic link': 'islnk',
  'character special file': 'ischr',
  'block special file': 'isblk',
  fifo: 'isfifo',
  socket: 'issock',
};

export const stat: Module<StatArgs, 'stat'> = {
  readOnly: true,
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      follow: boolArg,
      get_checksum: boolArg,
      checksum_algorithm: { enum: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] },
      get_mime: boolArg,
      get_attributes: boolArg,
    },
    required: ['path'],
    additionalProperties: false,
  },

  reads(args) {
    const sum = toBool(args.get_checksum, true) ? (args.checksum_algorithm ?? 'sha1') : '';
    return { stat: { command: shScript(SCRIPT(), [args.path, sum, toBool(args.follow, false) ? 'follow' : '']) } };
  },

  plan(args, _ctx, read): Plan {
    const r = read.stat;
    if (r.code !== 0)
      return { changed: false, steps: [], failed: `cannot stat ${args.path}: ${r.stderr.trim() || `exit ${r.code}`}` };
    const [head, ...rest] = r.stdout.split('\n');
    if (head === 'absent') return { changed: false, steps: [], result: { stat: { exists: false } } };
    const [kind, mode, owner, group, size, uid, gid, mtime, atime, ctime, inode, dev, nlink] = head.split('|');
    const bits = parseInt(mode, 8);
    const stat: Record<string, unknown> = {
      exists: true,
      path: args.path,
      mode: mode.padStart(4, '0'),
      isdir: false,
      ischr: false,
      isblk: false,
      isreg: kind.startsWith('regular'),
      isfifo: false,
      islnk: false,
      issock: false,
      uid: Number(uid),
      gid: Number(gid),
      pw_name: owner,
      gr_name: group,
      size: Number(size),
      inode: Number(inode),
      dev: Number(dev),
      nlink: Number(nlink),
      atime: Number(atime),
      mtime: Number(mtime),
      ctime: Number(ctime),
      isuid: (bits & 0o4000) !== 0,
      isgid: (bits & 0o2000) !== 0,
    };
    if (KINDS[kind]) stat[KINDS[kind]] = true;
    const perm = ['xoth', 'woth', 'roth', 'xgrp', 'wgrp', 'rgrp', 'xusr', 'wusr', 'rusr'];
    perm.forEach((name, i) => (stat[name] = (bits & (1 << i)) !== 0));
    const b64 = (v: string) => Buffer.from(v, 'base64').toString('utf8').replace(/\n$/, '');
    for (const line of rest) {
      if (line.startsWith('link=')) stat.lnk_target = b64(line.slice(5));
      if (line.startsWith('source=')) stat.lnk_source = b64(line.slice(7));
      if (line.startsWith('access='))
        Object.assign(stat, {
          readable: line.slice(7).includes('r'),
          writeable: line.slice(7).includes('w'),
          executable: line.slice(7).includes('x'),
        });
      if (line.startsWith('sum=')) stat.checksum = line.slice(4);
    }
    return { changed: false, steps: [], result: { stat } };
  },
};
