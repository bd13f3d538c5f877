// find: files under directories by name (glob or Python regex), type, age, size and content, as Ansible's
// module finds them — in the order Python's os.walk visits them (each directory's files, then its
// directories, in directory order; then below each of those), with os.lstat's fields. One read (one
// `find -printf` per path); a second one only for `contains` (the content of the files that pass the
// other filters, matched here with Python's re). Never changes anything.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { pyRegex } from '../util/pyre.js';
import { readOutput, type Module, type Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';

type List = string | string[];

interface FindArgs {
  paths?: List;
  path?: List;
  name?: List;
  patterns?: List;
  pattern?: List;
  excludes?: List;
  exclude?: List;
  contains?: string;
  read_whole_file?: BoolArg;
  file_type?: 'any' | 'directory' | 'file' | 'link';
  age?: string | number;
  age_stamp?: 'atime' | 'ctime' | 'mtime';
  size?: string | number;
  recurse?: BoolArg;
  hidden?: BoolArg;
  follow?: BoolArg;
  get_checksum?: BoolArg;
  use_regex?: BoolArg;
  depth?: number;
}

const SCRIPT = () => shFile('engine/modules/find.sh');

const listArg = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

/** Ansible's list type: a string is split on commas. */
const list = (v: List | undefined): string[] =>
  v === undefined
    ? []
    : Array.isArray(v)
      ? v.map(String)
      : String(v)
          .split(',')
          .map((s) => s.trim());

/** Python's fnmatch.fnmatch on Linux (case-sensitive): *, ?, [seq], [!seq]. */
export function fnmatch(name: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) re += '\\[';
      else {
        let body = pattern.slice(i + 1, j).replace(/[\\\][]/g, '\\$&');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        re += `[${body}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`).test(name);
}

interface Entry {
  depth: number;
  type: string; // find's %y: f d l s p c b
  target: string; // %Y
  mode: number;
  uid: number;
  gid: number;
  user: string;
  group: string;
  size: number;
  inode: number;
  dev: number;
  nlink: number;
  atime: number;
  mtime: number;
  ctime: number;
  rel: string;
}

function parseEntry(line: string): Entry {
  const f = line.split('\t');
  const rel = f.slice(15).join('\t');
  const n = (i: number) => Number(f[i]);
  const named = (name: string, id: string) => (name === id ? '' : name);
  return {
    depth: n(0),
    type: f[1],
    target: f[2],
    mode: parseInt(f[3], 8),
    uid: n(4),
    gid: n(5),
    user: named(f[6], f[4]),
    group: named(f[7], f[5]),
    size: n(8),
    inode: n(9),
    dev: n(10),
    nlink: n(11),
    atime: n(12),
    mtime: n(13),
    ctime: n(14),
    rel,
  };
}

function statinfo(e: Entry): Record<string, unknown> {
  const m = e.mode;
  return {
    mode: (m & 0o7777).toString(8).padStart(4, '0'),
    isdir: e.type === 'd',
    ischr: e.type === 'c',
    isblk: e.type === 'b',
    isreg: e.type === 'f',
    isfifo: e.type === 'p',
    islnk: e.type === 'l',
    issock: e.type === 's',
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    inode: e.inode,
    dev: e.dev,
    nlink: e.nlink,
    atime: e.atime,
    mtime: e.mtime,
    ctime: e.ctime,
    gr_name: e.group,
    pw_name: e.user,
    wusr: (m & 0o200) !== 0,
    rusr: (m & 0o400) !== 0,
    xusr: (m & 0o100) !== 0,
    wgrp: (m & 0o020) !== 0,
    rgrp: (m & 0o040) !== 0,
    xgrp: (m & 0o010) !== 0,
    woth: (m & 0o002) !== 0,
    roth: (m & 0o004) !== 0,
    xoth: (m & 0o001) !== 0,
    isuid: (m & 0o4000) !== 0,
    isgid: (m & 0o2000) !== 0,
  };
}

/** Python's os.path.normpath for absolute and relative paths. */
function normpath(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !abs) out.push(part);
  }
  const s = out.join('/');
  return abs ? `/${s}` : s || '.';
}

const parseAmount = (v: string | number | undefined, units: Record<string, number>, re: RegExp) => {
  if (v === undefined) return { value: undefined };
  const m = re.exec(String(v).toLowerCase());
  return m ? { value: Number(m[1]) * (units[m[2] ?? ''] ?? 1) } : { bad: true };
};

interface Walked {
  now: number;
  paths: { path: string; dir: boolean; entries: Entry[]; sums: Map<string, string> }[];
}

function parseWalk(out: string): Walked {
  const [now, ...rest] = out.split('\n');
  const records = rest.join('\n').split('\0');
  const paths: Walked['paths'] = [];
  for (const r of records) {
    if (r.startsWith('path\t')) paths.push({ path: r.slice(5), dir: false, entries: [], sums: new Map() });
    else if (r === 'dir') paths[paths.length - 1].dir = true;
    else if (r === 'notdir' || r === '') continue;
    else if (r.startsWith('sum\t')) {
      const [, sum, ...rel] = r.split('\t');
      paths[paths.length - 1].sums.set(rel.join('\t').replace(/^\/+/, ''), sum);
    } else paths[paths.length - 1].entries.push(parseEntry(r));
  }
  return { now: Number(now), paths };
}

/** What Ansible's find lists, from a walk: in os.walk's order, filtered. `content` answers `contains`. */
function select(
  args: FindArgs,
  walked: Walked,
  content?: Map<string, string>,
): { files: Record<string, unknown>[]; examined: number; skipped: Record<string, string>; candidates: string[] } {
  const useRegex = toBool(args.use_regex, false);
  let patterns = list(args.patterns ?? args.pattern);
  if (!patterns.length) patterns = [useRegex ? '.*' : '*'];
  const excludes = list(args.excludes ?? args.exclude);
  const matchOne = (name: string, p: string) => (useRegex ? pyRegex(p).exec(name)?.index === 0 : fnmatch(name, p));
  const pfilter = (name: string) =>
    patterns.some((p) => matchOne(name, p)) && !(excludes.length && excludes.some((e) => matchOne(name, e)));
  const age = parseAmount(args.age, { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }, /^(-?\d+)(s|m|h|d|w)?$/).value;
  const size = parseAmount(
    args.size,
    { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 },
    /^(-?\d+)(b|k|m|g|t)?$/,
  ).value;
  const stamp = args.age_stamp ?? 'mtime';
  const agefilter = (e: Entry) =>
    age === undefined || (age >= 0 ? walked.now - e[stamp] >= Math.abs(age) : walked.now - e[stamp] <= Math.abs(age));
  const sizefilter = (e: Entry) => size === undefined || (size >= 0 ? e.size >= size : e.size <= -size);
  const fileType = args.file_type ?? 'file';
  const hidden = toBool(args.hidden, false);
  const recurse = toBool(args.recurse, false);
  const follow = toBool(args.follow, false);
  const getSum = toBool(args.get_checksum, false);
  const depthMax = args.depth || undefined;

  const files: Record<string, unknown>[] = [];
  const candidates: string[] = [];
  const skipped: Record<string, string> = {};
  let examined = 0;
  for (const top of walked.paths) {
    if (!top.dir) {
      skipped[top.path] = `'${top.path}' is not a directory`;
      continue;
    }
    // The tree, each directory's entries in the order find read them.
    const children = new Map<string, Entry[]>();
    for (const e of top.entries) {
      const parent = e.rel.includes('/') ? e.rel.slice(0, e.rel.lastIndexOf('/')) : '';
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent)!.push(e);
    }
    const wpath = top.path.replace(/\/+$/, '') + '/';
    const walk = (relDir: string, root: string): boolean => {
      const kids = children.get(relDir) ?? [];
      const isDir = (e: Entry) => e.type === 'd' || (e.type === 'l' && e.target === 'd');
      const dirs = kids.filter(isDir);
      const ordered = [...kids.filter((e) => !isDir(e)), ...dirs];
      examined += kids.length;
      let descend = [...dirs];
      for (const e of ordered) {
        const name = e.rel.slice(e.rel.lastIndexOf('/') + 1);
        const fsname = normpath(`${root}/${name}`);
        if (depthMax) {
          const depth = fsname.split('/').length - wpath.split('/').length + 1;
          if (depth > depthMax) {
            descend = [];
            continue;
          }
        }
        if (name.startsWith('.') && !hidden) continue;
        const r = (): Record<string, unknown> => ({ path: fsname, ...statinfo(e) });
        const base = pfilter(name) && agefilter(e);
        if (fileType === 'any') {
          if (!base) continue;
          const x = r();
          if (e.type === 'f' && getSum) x.checksum = top.sums.get(e.rel);
          if (e.type !== 'f' || sizefilter(e)) files.push(x);
        } else if (e.type === 'd' && fileType === 'directory') {
          if (base) files.push(r());
        } else if (e.type === 'f' && fileType === 'file') {
          if (!base || !sizefilter(e)) continue;
          if (args.contains !== undefined) {
            candidates.push(fsname);
            if (!content) continue;
            const text = content.get(fsname);
            if (text === undefined || !contains(text, args.contains, toBool(args.read_whole_file, false))) continue;
          }
          const x = r();
          if (getSum) x.checksum = top.sums.get(e.rel);
          files.push(x);
        } else if (e.type === 'l' && fileType === 'link') {
          if (base) files.push(r());
        }
      }
      if (!recurse) return false;
      for (const d of descend) {
        if (d.type === 'l' && !follow) continue;
        const name = d.rel.slice(d.rel.lastIndexOf('/') + 1);
        walk(d.rel, `${root.replace(/\/+$/, '')}/${name}`);
      }
      return true;
    };
    walk('', top.path);
  }
  return { files, examined, skipped, candidates };
}

/** Python: any line (with its newline) re.match-es the pattern, or the whole text re.search-es it. */
function contains(text: string, pattern: string, whole: boolean): boolean {
  const re = pyRegex(pattern);
  if (whole) return re.test(text);
  return (text.match(/[^\n]*\n|[^\n]+$/g) ?? []).some((line) => re.exec(line)?.index === 0);
}

export const find: Module<FindArgs, 'walk' | 'content'> = {
  readOnly: true,
  schema: {
    type: 'object',
    properties: {
      paths: listArg,
      path: listArg,
      name: listArg,
      patterns: listArg,
      pattern: listArg,
      excludes: listArg,
      exclude: listArg,
      contains: { type: 'string' },
      read_whole_file: boolArg,
      file_type: { enum: ['any', 'directory', 'file', 'link'] },
      age: { type: ['string', 'integer'] },
      age_stamp: { enum: ['atime', 'ctime', 'mtime'] },
      size: { type: ['string', 'integer'] },
      recurse: boolArg,
      hidden: boolArg,
      follow: boolArg,
      get_checksum: boolArg,
      use_regex: boolArg,
      depth: { type: 'integer' },
    },
    oneOf: [{ required: ['paths'] }, { required: ['path'] }, { required: ['name'] }],
    not: { anyOf: [{ required: ['patterns', 'pattern'] }, { required: ['excludes', 'exclude'] }] },
    additionalProperties: false,
  },

  reads(args, _ctx, got) {
    const paths = list(args.paths ?? args.path ?? args.name);
    const walk = {
      command: shScript(SCRIPT(), [
        toBool(args.follow, false) ? '-L' : '',
        toBool(args.get_checksum, false) ? 'sum' : '',
        ...paths,
      ]),
    };
    if (args.contains === undefined || !got.walk) return { walk };
    const { candidates } = select(args, parseWalk(readOutput(got.walk, 'the directories')));
    return {
      walk,
      content: {
        command: shScript('for f; do printf "%s\\0" "$(base64 -w0 < "$f" 2>/dev/null)"; done', candidates),
      },
    };
  },

  plan(args, _ctx, read): Plan {
    for (const [what, v, re] of [
      ['age', args.age, /^(-?\d+)(s|m|h|d|w)?$/],
      ['size', args.size, /^(-?\d+)(b|k|m|g|t)?$/],
    ] as const)
      if (v !== undefined && !re.test(String(v).toLowerCase()))
        return { changed: false, steps: [], failed: `failed to process ${what}`, result: { [what]: v } };
    const walked = parseWalk(readOutput(read.walk, 'the directories'));
    let content: Map<string, string> | undefined;
    if (args.contains !== undefined) {
      const { candidates } = select(args, walked);
      const bodies = (read.content ? readOutput(read.content, 'the files') : '').split('\0');
      content = new Map(candidates.map((c, i) => [c, Buffer.from(bodies[i] ?? '', 'base64').toString('utf8')]));
    }
    const { files, examined, skipped } = select(args, walked, content);
    const warnings = Object.entries(skipped).map(
      ([p, why]) => `Skipped '${p}' path due to this access issue: ${why}\n`,
    );
    return {
      changed: false,
      steps: [],
      result: {
        files,
        msg: warnings.length ? 'Not all paths examined, check warnings for details' : 'All paths examined',
        matched: files.length,
        examined,
        skipped_paths: skipped,
        ...(warnings.length ? { warnings } : {}),
      },
    };
  },
};
