// stat: facts about a path, with every field Ansible's module returns on Linux (exists, path, mode,
// isdir/isreg/islnk/..., uid, gid, pw_name, gr_name, size, inode, dev, nlink, atime/mtime/ctime,
// blocks, block_size, device_type, the permission bits, readable/writeable/executable for the task's
// user, lnk_source/lnk_target, checksum, md5, mimetype/charset from `file`, version/attr_flags/
// attributes from `lsattr`). Not following a symlink unless `follow: true`, as Ansible. One read.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { Module, Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';

interface StatArgs {
  path?: string;
  dest?: string;
  name?: string;
  follow?: BoolArg;
  get_checksum?: BoolArg;
  get_md5?: BoolArg;
  checksum_algorithm?: Algorithm;
  checksum?: Algorithm;
  checksum_algo?: Algorithm;
  get_mime?: BoolArg;
  mime?: BoolArg;
  mime_type?: BoolArg;
  'mime-type'?: BoolArg;
  get_attributes?: BoolArg;
  attr?: BoolArg;
  attributes?: BoolArg;
}

type Algorithm = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

const SCRIPT = () => shFile('engine/modules/stat.sh');

const KINDS: Record<string, string> = {
  directory: 'isdir',
  'symbolic link': 'islnk',
  'character special file': 'ischr',
  'block special file': 'isblk',
  fifo: 'isfifo',
  socket: 'issock',
};

/** Ansible's names of lsattr's flags (module_utils' FILE_ATTRIBUTES). */
const ATTRIBUTES: Record<string, string> = {
  A: 'noatime',
  a: 'append',
  c: 'compressed',
  C: 'nocow',
  d: 'nodump',
  D: 'dirsync',
  e: 'extents',
  E: 'encrypted',
  h: 'blocksize',
  i: 'immutable',
  I: 'indexed',
  j: 'journalled',
  N: 'inline',
  s: 'zero',
  S: 'synchronous',
  t: 'notail',
  T: 'blockroot',
  u: 'undelete',
  X: 'compressedraw',
  Z: 'compresseddirty',
};

/** The first of an argument's names that is set (Ansible's aliases). */
const first = <T>(...vs: (T | undefined)[]): T | undefined => vs.find((v) => v !== undefined);

const argsOf = (a: StatArgs) => ({
  path: first(a.path, a.dest, a.name)!,
  follow: toBool(a.follow, false),
  checksum: toBool(a.get_checksum, true) ? (first(a.checksum_algorithm, a.checksum, a.checksum_algo) ?? 'sha1') : '',
  md5: toBool(a.get_md5, false),
  mime: toBool(first(a.get_mime, a.mime, a.mime_type, a['mime-type']), true),
  attributes: toBool(first(a.get_attributes, a.attr, a.attributes), true),
});

/** Linux's makedev(major, minor): os.stat's st_rdev. */
const makedev = (major: number, minor: number): number =>
  (minor & 0xff) + (major & 0xfff) * 0x100 + (minor & ~0xff) * 0x1000 + Math.floor(major / 0x1000) * 0x100000000;

/** Python's str.split() (whitespace runs, ends stripped). */
const words = (s: string) => s.split(/\s+/).filter(Boolean);

/** stat's mimetype and charset from `file --mime-type --mime-encoding PATH`, parsed as Ansible does. */
export function mimeOf(out: string | undefined): { mimetype: string; charset: string } {
  const r = { mimetype: 'unknown', charset: 'unknown' };
  if (out === undefined) return r;
  const parts = out.slice(out.lastIndexOf(':') + 1).split(';');
  if (out.lastIndexOf(':') < 0 || parts.length !== 2) return r;
  r.mimetype = parts[0].trim();
  const eq = parts[1].split('=');
  if (eq.length > 1) r.charset = eq[1].trim();
  return r;
}

/** stat's version, attr_flags and attributes from `lsattr -vd PATH`, as Ansible reads them. */
export function attributesOf(out: string | undefined): Record<string, unknown> {
  const r: Record<string, unknown> = { version: null, attributes: [], attr_flags: '' };
  const res = out === undefined ? [] : words(out);
  if (res.length < 2) return r;
  const flags = res[1].replace(/-/g, '').trim();
  return {
    version: res[0].trim(),
    attr_flags: flags,
    attributes: [...flags].filter((f) => f in ATTRIBUTES).map((f) => ATTRIBUTES[f]),
  };
}

export const stat: Module<StatArgs, 'stat'> = {
  readOnly: true,
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      name: { type: 'string', minLength: 1 },
      follow: boolArg,
      get_checksum: boolArg,
      get_md5: boolArg,
      checksum_algorithm: { enum: ALGORITHMS },
      checksum: { enum: ALGORITHMS },
      checksum_algo: { enum: ALGORITHMS },
      get_mime: boolArg,
      mime: boolArg,
      mime_type: boolArg,
      'mime-type': boolArg,
      get_attributes: boolArg,
      attr: boolArg,
      attributes: boolArg,
    },
    oneOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['name'] }],
    additionalProperties: false,
  },

  reads(given) {
    const a = argsOf(given);
    return {
      stat: {
        command: shScript(SCRIPT(), [
          a.path,
          a.checksum,
          a.follow ? 'follow' : '',
          a.md5 ? 'md5' : '',
          a.mime ? 'mime' : '',
          a.attributes ? 'attr' : '',
        ]),
      },
    };
  },

  plan(given, _ctx, read): Plan {
    const args = argsOf(given);
    const r = read.stat;
    if (r.code !== 0)
      return { changed: false, steps: [], failed: `cannot stat ${args.path}: ${r.stderr.trim() || `exit ${r.code}`}` };
    const [head, ...rest] = r.stdout.split('\n');
    if (head === 'absent') return { changed: false, steps: [], result: { stat: { exists: false } } };
    const [
      kind,
      mode,
      owner,
      group,
      size,
      uid,
      gid,
      mtime,
      atime,
      ctime,
      inode,
      dev,
      nlink,
      blocks,
      blksize,
      major,
      minor,
    ] = head.split('|');
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
      // stat prints UNKNOWN for an id without a name, where Ansible leaves the field out.
      ...(owner !== 'UNKNOWN' ? { pw_name: owner } : {}),
      ...(group !== 'UNKNOWN' ? { gr_name: group } : {}),
      size: Number(size),
      inode: Number(inode),
      dev: Number(dev),
      nlink: Number(nlink),
      atime: Number(atime),
      mtime: Number(mtime),
      ctime: Number(ctime),
      isuid: (bits & 0o4000) !== 0,
      isgid: (bits & 0o2000) !== 0,
      blocks: Number(blocks),
      block_size: Number(blksize),
      device_type: makedev(parseInt(major, 16), parseInt(minor, 16)),
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
      if (line.startsWith('md5=')) stat.md5 = line.slice(4);
    }
    const text = (key: string) => {
      const line = rest.find((l) => l.startsWith(`${key}=`));
      return line === undefined ? undefined : Buffer.from(line.slice(key.length + 1), 'base64').toString('utf8');
    };
    if (args.mime) Object.assign(stat, mimeOf(text('mime')));
    if (args.attributes) Object.assign(stat, attributesOf(text('attr')));
    return { changed: false, steps: [], result: { stat } };
  },
};
