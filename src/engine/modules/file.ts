// file: every state of Ansible's file module (file, directory, touch, absent, link, hard), recurse,
// follow, times, octal and symbolic modes, attributes — planned from one read (file.sh) of the path,
// what it resolves to, the link's src, the names to resolve and, for recurse, the tree below it.
// Results as Ansible's: what the module returns, then the path's facts as its exit_json adds them.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { toBool } from '../util/bool.js';
import type { FileDiff, Module, Plan, Step } from './types.js';
import type { RunResult } from '../connection/types.js';
import { boolArg, modeArg, pathAliasProps, onePathAlias, type BoolArg, selinuxRefused } from './lib/schema.js';
import { modeFor, modeText, parseModeArg, type ModeArg } from './lib/modes.js';
import { strptime } from './lib/strptime.js';

type State = 'file' | 'directory' | 'absent' | 'touch' | 'link' | 'hard';

interface FileArgs {
  path?: string;
  dest?: string;
  name?: string;
  state?: State;
  owner?: string;
  group?: string;
  mode?: string | number;
  src?: string;
  force?: BoolArg;
  follow?: BoolArg;
  recurse?: BoolArg;
  access_time?: string;
  access_time_format?: string;
  modification_time?: string;
  modification_time_format?: string;
  attributes?: string;
  attr?: string;
  unsafe_writes?: BoolArg;
}

const SCRIPT = () => shFile('engine/modules/file.sh');
/** The fields file.sh's find -printf gives for each object (its F). */
const F = '%y\\t%Y\\t%m\\t%U\\t%G\\t%u\\t%g\\t%s\\t%n\\t%i\\t%D\\t%A@\\t%T@';

/** "/a//b/" → "/a/b" (the root stays "/"). */
export function normPath(p: string): string {
  const s = p.replace(/\/+/g, '/');
  return s.length > 1 ? s.replace(/\/$/, '') : s;
}

/** Every proper ancestor, outermost first: "/a/b/c" → ["/a", "/a/b"]; "a/b" → ["a"]. */
export function ancestors(p: string): string[] {
  const parts = p.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (prefix !== '' && prefix !== '.') out.push(prefix);
  }
  return out;
}

/** One filesystem object as find -printf saw it (lstat's, but for `ttype`: the type it resolves to). */
export interface Obj {
  type: string; // f d l ...
  ttype: string;
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  nlink: number;
  ino: string;
  dev: string;
  atime: string;
  mtime: string;
  link?: string;
  /** A path this task makes: not there to read yet. */
  fresh?: boolean;
}

function parseObj(f: string[]): Obj | null {
  if (f[0] === 'absent') return null;
  return {
    type: f[0],
    ttype: f[1],
    mode: parseInt(f[2], 8),
    uid: +f[3],
    gid: +f[4],
    owner: f[5],
    group: f[6],
    size: +f[7],
    nlink: +f[8],
    ino: f[9],
    dev: f[10],
    atime: f[11],
    mtime: f[12],
  };
}

/** Ansible's get_state. */
const stateOf = (o: Obj | null | undefined) =>
  !o ? 'absent' : o.type === 'l' ? 'link' : o.type === 'd' ? 'directory' : o.nlink > 1 ? 'hard' : 'file';

interface Entry {
  rel: string;
  obj: Obj;
  /** With follow, what a link in the tree points to (null: nothing). */
  target?: Obj | null;
}

interface Host {
  umask: number;
  /** Who the module runs as: what a path it makes belongs to. */
  me?: { uid: number; gid: number };
  path: string;
  self: Obj | null;
  real?: string;
  target?: Obj | null;
  srcx?: { exists: boolean; abs: string; obj: Obj | null };
  full: boolean;
  hardSrc?: Obj | null;
  uid?: string;
  gid?: string;
  mt?: string;
  at?: string;
  attr?: string;
  anc: string[];
  tree: Entry[];
}

/** file.sh's records. */
export function parseHost(stdout: string): Host {
  const recs = stdout.split('\0').filter((r) => r !== '');
  const h: Host = { umask: 0o022, path: '', self: null, full: false, anc: [], tree: [] };
  let last: Obj | null = null;
  const links: Entry[] = [];
  let lt = 0;
  for (const rec of recs) {
    const [tag, ...f] = rec.split('\t');
    const rest = (n: number) => f.slice(n).join('\t');
    switch (tag) {
      case 'umask':
        h.umask = parseInt(f[0], 8);
        break;
      case 'me':
        h.me = { uid: +f[0], gid: +f[1] };
        break;
      case 'path':
        h.path = rest(0);
        break;
      case 's':
        h.self = last = parseObj(f);
        break;
      case 'l':
        if (last) last.link = rest(0);
        break;
      case 'real':
        h.real = rest(0);
        break;
      case 't':
        h.target = last = parseObj(f);
        break;
      case 'srcx':
        h.srcx =
          f[0] === '1'
            ? { exists: true, abs: f.slice(14).join('\t'), obj: parseObj(f.slice(1)) }
            : { exists: false, abs: rest(1), obj: null };
        last = null;
        break;
      case 'full':
        h.full = true;
        break;
      case 'x':
        h.hardSrc = last = parseObj(f);
        break;
      case 'uid':
        h.uid = f[0];
        break;
      case 'gid':
        h.gid = f[0];
        break;
      case 'mt':
        h.mt = f[0];
        break;
      case 'at':
        h.at = f[0];
        break;
      case 'attr':
        h.attr = f[0] ?? '';
        break;
      case 'anc':
        h.anc.push(f[0]);
        break;
      case 'e': {
        const obj = parseObj(f)!;
        const e: Entry = { rel: f.slice(13).join('\t'), obj };
        h.tree.push(e);
        if (obj.type === 'l') links.push(e);
        last = obj;
        break;
      }
      case 'lt':
        if (links[lt]) links[lt].target = parseObj(f);
        lt++;
        break;
    }
  }
  return h;
}

/** What Ansible's exit_json adds for a result's path: its lstat facts, when it exists (followed). */
function pathInfo(o: Obj | null | undefined, exists: boolean): Record<string, unknown> {
  if (!o || !exists) return {};
  return {
    uid: o.uid,
    gid: o.gid,
    owner: o.owner,
    group: o.group,
    mode: modeText(o.mode),
    state: stateOf(o),
    size: o.size,
  };
}

type Diff = { before: Record<string, unknown>; after: Record<string, unknown> };

/** Ansible's initial_diff. */
function initialDiff(path: string, state: string, prev: string): Diff {
  const d: Diff = { before: { path }, after: { path } };
  if (prev !== state) {
    d.before.state = prev;
    d.after.state = state;
  }
  return d;
}

/** Python's os.walk(top) listing, as absent's path_content: directories and files, top-down. */
function walkList(top: string, tree: Entry[]): { directories: string[]; files: string[] } {
  const kids = new Map<string, Entry[]>();
  for (const e of tree) {
    const parent = e.rel.includes('/') ? e.rel.slice(0, e.rel.lastIndexOf('/')) : '';
    kids.set(parent, [...(kids.get(parent) ?? []), e]);
  }
  const out = { directories: [] as string[], files: [] as string[] };
  const walk = (rel: string) => {
    const list = kids.get(rel) ?? [];
    const isDir = (e: Entry) => e.obj.type === 'd' || (e.obj.type === 'l' && e.obj.ttype === 'd');
    for (const e of list) (isDir(e) ? out.directories : out.files).push(`${top}/${e.rel}`);
    for (const e of list) if (e.obj.type === 'd') walk(e.rel);
  };
  walk('');
  return out;
}

type Stamp = { epoch: string } | 'now' | undefined;

/** Seconds since the epoch of find's %T@ ("1672574400.0000000000") equal to a whole second. */
const sameTime = (t: string, epoch: string) => /^(\d+)(?:\.0*)?$/.exec(t)?.[1] === epoch;

const sh = (script: string, args: (string | number)[], describe: string): Step => ({
  describe,
  command: shScript(script, args),
});

/** What the wanted owner, group, mode, attributes and times do to objects, as Ansible's set_*_if_different. */
class Attrs {
  steps: Step[] = [];
  changed = false;
  constructor(
    private readonly want: {
      owner?: string;
      group?: string;
      uid?: number;
      gid?: number;
      mode?: ModeArg;
      attributes?: string;
      mt: Stamp;
      at: Stamp;
    },
    private readonly host: Host,
    private readonly check: boolean,
  ) {}

  /**
   * Owner, group, mode and attributes of `o` at `where`. `deref`: `where` is a link the changes go
   * through (to `o`, what it points to); `o` a link itself otherwise gets no mode (Linux has no lchmod).
   */
  apply(where: string, o: Obj, diff?: Diff, deref = false): void {
    const w = this.want;
    const set = (k: string, before: unknown, after: unknown) => {
      if (!diff) return;
      diff.before[k] = before;
      diff.after[k] = after;
    };
    const owner = w.uid !== undefined && o.uid !== w.uid;
    const group = w.gid !== undefined && o.gid !== w.gid;
    if (owner) set('owner', o.uid, w.uid);
    if (group) set('group', o.gid, w.gid);
    if (owner || group) {
      this.changed = true;
      const spec = `${owner ? w.owner : ''}${group ? `:${w.group}` : ''}`;
      this.steps.push(sh(`chown ${deref ? '' : '-h '}-- "$1" "$2"`, [spec, where], `chown ${spec} ${where}`));
    }
    if (w.mode) {
      const m = modeFor(w.mode, o.mode, o.type === 'd', this.host.umask);
      if (m !== (o.mode & 0o7777)) {
        set('mode', modeText(o.mode & 0o7777), modeText(m));
        if (o.type === 'l' && !deref) {
          // Ansible tries, and puts the target's mode back: a change only in check mode.
          if (this.check) this.changed = true;
        } else {
          this.changed = true;
          this.steps.push(
            sh('chmod -- "$1" "$2"', [m.toString(8).padStart(4, '0'), where], `chmod ${modeText(m)} ${where}`),
          );
        }
      }
    }
    if (w.attributes !== undefined && diff) {
      const op = /^[-+]/.test(w.attributes) ? w.attributes[0] : '=';
      const flags = op === '=' ? w.attributes : w.attributes.slice(1);
      const have = this.host.attr;
      if (o.fresh) {
        // Made by this task: its flags are the filesystem's, known once it is there.
        const cmd = '[ "$(lsattr -d "$2" | cut -d" " -f1 | tr -d -)" = "$3" ] || chattr "$1" "$2"';
        this.steps.push(sh(cmd, [`${op}${flags}`, where, flags], `chattr ${op}${flags} ${where}`));
      } else if ((have ?? '') !== flags || op === '-') {
        set('attributes', have ?? null, `${op}${flags}`);
        this.changed = true;
        // chattr takes no "--": its flags start with - or +.
        this.steps.push(sh('chattr "$1" "$2"', [`${op}${flags}`, where], `chattr ${op}${flags} ${where}`));
      }
    }
  }

  /** Access and modification times of `o` (the object `where` resolves to), as update_timestamp_for_file. */
  times(where: string, o: Obj | null | undefined, diff?: Diff): void {
    const { mt, at } = this.want;
    if (!mt && !at) return;
    if (!o) return;
    const touch = (flag: string, s: Stamp) =>
      s === 'now'
        ? sh(`touch -c ${flag} -- "$1"`.replace('  ', ' '), [where], `touch ${where}`)
        : sh(`touch -c ${flag} -d "@$1" -- "$2"`.replace('  ', ' '), [s!.epoch, where], `touch ${where}`);
    const now = Date.now() / 1000;
    const entries: [Stamp, string, string][] = [
      [mt, o.mtime, 'mtime'],
      [at, o.atime, 'atime'],
    ];
    const due = entries.filter(([s, prev]) => s && (s === 'now' || !sameTime(prev, s.epoch)));
    for (const [s, prev, key] of due) {
      if (!diff) continue;
      diff.before[key] = Number(prev);
      diff.after[key] = s === 'now' ? now : Number((s as { epoch: string }).epoch);
    }
    if (!due.length) return;
    this.changed = true;
    const same = due.length === 2 && JSON.stringify(due[0][0]) === JSON.stringify(due[1][0]);
    if (same) this.steps.push(touch('', due[0][0]));
    else for (const [s, , key] of due) this.steps.push(touch(key === 'mtime' ? '-m' : '-a', s));
  }
}

const fileDiffOf = (path: string, d: Diff): FileDiff[] => {
  const render = (o: Record<string, unknown>) =>
    Object.entries(o)
      .filter(([k]) => k !== 'atime' && k !== 'mtime')
      .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`)
      .join('');
  const [before, after] = [render(d.before), render(d.after)];
  return before === after ? [] : [{ before_header: path, after_header: path, before, after }];
};

/** The path the arguments name (normalised). */
const pathOf = (args: FileArgs) => normPath((args.path ?? args.dest ?? args.name)!);

/** Ansible's timestamps: `preserve` (undefined), `now`, or a date read with its format. */
function stampArg(v: string | undefined, format: string | undefined, state: State | undefined): string | undefined {
  const t = v ?? (state === 'touch' ? 'now' : 'preserve');
  if (t === 'preserve' || t === 'now') return t;
  return strptime(t, format ?? '%Y%m%d%H%M.%S');
}

export const file: Module<FileArgs, 'stat'> = {
  refused: {
    ...selinuxRefused,
  },
  schema: {
    type: 'object',
    properties: {
      ...pathAliasProps,
      state: { enum: ['file', 'directory', 'absent', 'touch', 'link', 'hard'] },
      owner: { type: 'string', minLength: 1 },
      group: { type: 'string', minLength: 1 },
      mode: modeArg,
      src: { type: 'string', minLength: 1 },
      force: boolArg,
      follow: boolArg,
      recurse: boolArg,
      access_time: { type: 'string' },
      access_time_format: { type: 'string' },
      modification_time: { type: 'string' },
      modification_time_format: { type: 'string' },
      attributes: { type: 'string' },
      attr: { type: 'string' },
      unsafe_writes: boolArg,
    },
    oneOf: onePathAlias,
    additionalProperties: false,
  },

  reads(args) {
    const path = pathOf(args);
    const follow = toBool(args.follow, true);
    const recurse = toBool(args.recurse, false);
    const kind = args.state === 'link' || args.state === 'hard' ? args.state : '';
    const into = args.state === 'hard' && args.src ? args.src.replace(/\/+$/, '').split('/').pop()! : '';
    const tree = recurse || (args.state === 'absent' && path !== '/') ? 'tree' : '';
    const stamp = (v: string | undefined, f: string | undefined) => {
      try {
        const s = stampArg(v, f, args.state);
        return s === 'now' || s === 'preserve' ? '' : s!;
      } catch {
        return ''; // plan says why
      }
    };
    const attributes = args.attributes ?? args.attr;
    return {
      stat: {
        command: shScript(SCRIPT(), [
          path,
          follow ? 'follow' : '',
          into,
          kind,
          args.src ?? '',
          tree,
          args.owner && !/^\d+$/.test(args.owner) ? args.owner : '',
          args.group && !/^\d+$/.test(args.group) ? args.group : '',
          stamp(args.modification_time, args.modification_time_format),
          stamp(args.access_time, args.access_time_format),
          attributes !== undefined ? 'attr' : '',
          ...(args.state === 'directory' || args.state === undefined
            ? ancestors(path)
            : kind && path.includes('/')
              ? [path.slice(0, path.lastIndexOf('/')) || '/']
              : []),
        ]),
      },
    };
  },

  plan(args, ctx, read): Plan {
    const r = read.stat;
    if (r.code !== 0) throw new Error(`cannot stat ${pathOf(args)}: ${r.stderr.trim() || `exit ${r.code}`}`);
    const host = parseHost(r.stdout);
    const check = ctx.check;
    const follow = toBool(args.follow, true);
    const force = toBool(args.force, false);
    const recurse = toBool(args.recurse, false);
    let path = host.path || pathOf(args);
    const self = host.self;
    let prev = stateOf(self);
    const state: State = args.state ?? (prev !== 'absent' ? (prev as State) : recurse ? 'directory' : 'file');
    /** The object `path` resolves to (itself when not a link), and whether it exists. */
    const resolved = self?.type === 'l' ? host.target : self;

    // Whether an object exists as Python's os.path.exists sees it: a link, when what it points to does.
    const existsOf = (o: Obj | null | undefined) => (o === self ? Boolean(resolved) : Boolean(o));
    const failWith = (msg: string, fields: Record<string, unknown>, info?: Obj | null): Plan => ({
      changed: false,
      steps: [],
      failed: msg,
      result: { ...fields, ...pathInfo(info, existsOf(info)) },
    });
    if (recurse && state !== 'directory')
      return failWith("recurse option requires state to be 'directory'", { path }, self);
    if (args.src !== undefined && state !== 'link' && state !== 'hard')
      return failWith("src option requires state to be 'link' or 'hard'", { path }, self);

    // Arguments read here that Ansible reads on the host, failing there with these messages.
    let mode: ModeArg | undefined;
    try {
      mode = parseModeArg(args.mode);
    } catch (e) {
      if (typeof args.mode === 'number') throw e;
      return failWith('mode must be in octal or symbolic form', { path, details: (e as Error).message }, self);
    }
    const stamps: Record<'mt' | 'at', Stamp> = { mt: undefined, at: undefined };
    for (const [k, v, f] of [
      ['mt', args.modification_time, args.modification_time_format],
      ['at', args.access_time, args.access_time_format],
    ] as const) {
      let s: string | undefined;
      try {
        s = stampArg(v, f, state);
      } catch (e) {
        const t = v!;
        const fmt = f ?? '%Y%m%d%H%M.%S';
        return failWith(
          `Error while obtaining timestamp for time ${t} using format ${fmt}: ${(e as Error).message}`,
          {},
          undefined,
        );
      }
      if (s === 'now') stamps[k] = 'now';
      else if (s !== 'preserve') {
        const epoch = host[k];
        if (!epoch) throw new Error(`cannot turn ${s} into a time on ${ctx.host}`);
        stamps[k] = { epoch };
      }
    }
    const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
    const uid = args.owner === undefined ? undefined : (num(args.owner) ?? num(host.uid));
    const gid = args.group === undefined ? undefined : (num(args.group) ?? num(host.gid));
    const attrs = new Attrs(
      {
        owner: args.owner,
        group: args.group,
        uid,
        gid,
        mode,
        attributes: args.attributes ?? args.attr,
        mt: stamps.mt,
        at: stamps.at,
      },
      host,
      check,
    );
    // In check mode an earlier task of the run may be the one that makes the user or group (relay-play's
    // `apply --check` on fresh hosts): the path would be chowned to it, not a failure.
    if (args.owner !== undefined && uid === undefined && !check)
      return failWith(`chown failed: failed to look up user ${args.owner}`, { path }, self);
    if (args.group !== undefined && gid === undefined && !check)
      return failWith(`chgrp failed: failed to look up group ${args.group}`, { path }, self);

    /** The result: the module's fields, then the facts of the path it names (after the steps, once applied). */
    const done = (fields: Record<string, unknown>, diff: Diff | undefined, extra: Partial<Plan> = {}): Plan => {
      const key = (fields.dest ?? fields.path) as string;
      const steps = attrs.steps;
      const { changed: c, ...rest } = fields;
      const changed = Boolean(c);
      const result: Record<string, unknown> = { ...rest, ...(diff ? { diff } : {}) };
      const plan: Plan = { changed, steps, diff: diff ? fileDiffOf(path, diff) : [], result, ...extra };
      const infoNow = () => {
        const o = key !== host.path && key === host.real ? host.target : self;
        return pathInfo(o, existsOf(o));
      };
      if (check || !steps.length || state === 'absent') {
        if (state !== 'absent' || check) Object.assign(result, infoNow());
        return plan;
      }
      steps.push(
        sh(
          `if [ -e "$1" ]; then find "$1" -maxdepth 0 -printf "s\\t${F}\\0"; else printf 's\\tabsent\\0'; fi`,
          [key.startsWith('-') ? `./${key}` : key],
          `stat ${key}`,
        ),
      );
      plan.finish = (outputs: RunResult[]) => {
        const out = outputs[outputs.length - 1]?.stdout ?? '';
        const o = parseObj(out.replace(/\0$/, '').split('\t').slice(1));
        return pathInfo(o, Boolean(o));
      };
      return plan;
    };

    switch (state) {
      case 'absent': {
        if (path === '/') return failWith('refusing to remove /', { path });
        if (!self) return done({ path, changed: false, state: 'absent' }, undefined);
        const diff = initialDiff(path, 'absent', prev);
        if (prev === 'directory') diff.before.path_content = walkList(path, host.tree);
        attrs.steps.push(sh(prev === 'directory' ? 'rm -rf -- "$1"' : 'rm -f -- "$1"', [path], `remove ${path}`));
        return done({ path, changed: true, diff: undefined, state: 'absent' }, diff);
      }

      case 'touch': {
        const diff = initialDiff(path, 'touch', prev);
        if (!self) {
          if (check) return { changed: true, steps: [], result: { dest: path }, diff: fileDiffOf(path, diff) };
          attrs.steps.push(sh(': >> "$1"', [path], `touch ${path}`));
          const fresh = newObj(host, 'f');
          attrs.apply(path, fresh, diff);
          attrs.times(path, fresh, diff);
          return done({ dest: path, changed: true }, diff);
        }
        const where = follow && self.type === 'l' ? host.real! : path;
        const o = follow && self.type === 'l' ? host.target : self;
        if (!o) return failWith(`${path} is a symlink to a missing target (${host.real})`, { dest: path });
        attrs.apply(where, o, diff);
        attrs.times(where, resolved, diff);
        return done({ dest: path, changed: attrs.changed }, diff);
      }

      case 'file': {
        if (follow && prev === 'link') {
          path = host.real || path;
          prev = stateOf(host.target);
        }
        const o = path === host.real ? host.target : self;
        if (prev !== 'file' && prev !== 'hard')
          return failWith(`file (${path}) is ${prev}, cannot continue`, { path, state: prev }, o);
        const diff = initialDiff(path, 'file', prev);
        attrs.apply(path, o!, diff);
        attrs.times(path, o, diff);
        return done({ path, changed: attrs.changed }, diff);
      }

      case 'directory': {
        if (follow && prev === 'link') {
          path = host.real || path;
          prev = stateOf(host.target);
        }
        const o = path === host.real ? host.target : self;
        const diff = initialDiff(path, 'directory', prev);
        if (prev === 'absent') {
          if (check) return done({ path, changed: true }, diff);
          const anc = ancestors(path);
          const blocked = anc.findIndex((_, i) => host.anc[i] === 'f');
          if (blocked >= 0) {
            const at = [...anc, path][blocked + 1];
            return failWith(`There was an issue creating ${at} as requested: [Errno 20] Not a directory: '${at}'`, {
              path,
            });
          }
          // As Ansible: every directory this creates gets the owner, group and mode.
          const missing = [...anc.filter((_, i) => host.anc[i] === '-'), path];
          attrs.steps.push(sh('mkdir -p -- "$1"', [path], `mkdir -p ${path}`));
          const fresh = newObj(host, 'd');
          for (const d of missing) attrs.apply(d, fresh, diff);
          attrs.times(path, fresh, diff);
          return done({ path, changed: true }, diff);
        }
        if (prev !== 'directory') return failWith(`${path} already exists as a ${prev}`, { path }, o);
        attrs.apply(path, o!, diff);
        attrs.times(path, o, diff);
        if (recurse) {
          for (const e of host.tree) {
            const at = `${path}/${e.rel}`;
            attrs.apply(at, e.obj);
            attrs.times(at, e.obj.type === 'l' ? e.target : e.obj);
            if (follow && e.target) {
              attrs.apply(at, e.target, undefined, true);
              attrs.times(at, e.target);
            }
          }
        }
        return done({ path, changed: attrs.changed }, diff);
      }

      case 'link': {
        let src = args.src;
        if (src === undefined && follow && self?.type === 'l' && host.target) src = self.link;
        const srcx = host.srcx;
        if (!force && args.src !== undefined && srcx && !srcx.exists)
          return failWith(
            `src file does not exist, use "force=yes" if you really want to create the link: ${srcx.abs}`,
            { path, src },
            self,
          );
        if (prev === 'directory') {
          if (!force) return failWith(`refusing to convert from directory to symlink for ${path}`, { path }, self);
          if (host.full) return failWith(`the directory ${path} is not empty, refusing to convert it`, { path }, self);
        } else if ((prev === 'file' || prev === 'hard') && !force)
          return failWith(`refusing to convert from ${prev} to symlink for ${path}`, { path }, self);
        const diff = initialDiff(path, 'link', prev);
        let changed = false;
        if (prev !== 'link') {
          if (src === undefined) return failWith('src is required for creating new symlinks', {});
          changed = true;
        } else if (src !== undefined && self!.link !== src) {
          diff.before.src = self!.link;
          diff.after.src = src;
          changed = true;
        }
        if (changed && prev === 'absent' && host.anc[0] === '-')
          return failWith(`Error while linking: ${noDir(src!, path)}`, { path });
        if (changed)
          attrs.steps.push(
            sh(
              'if [ -d "$2" ] && [ ! -L "$2" ]; then rmdir -- "$2" || exit 1; fi; ln -sfn -- "$1" "$2"',
              [src!, path],
              `ln -s ${src} ${path}`,
            ),
          );
        attrs.changed = changed;
        // What the link points to once made: src's object (or what it pointed to already).
        const linked = changed ? (check ? undefined : (srcx?.obj ?? null)) : resolved;
        const exists = check ? Boolean(resolved) : Boolean(linked);
        if (check && !resolved) return done({ dest: path, src: src ?? null, changed }, diff);
        const warnings: string[] = [];
        if (check) {
          // Nothing made: Ansible looks at the path as it is.
          if (follow && self?.type === 'l') attrs.apply(path, resolved!, diff, true);
          else if (self) attrs.apply(path, self, diff);
          attrs.times(path, resolved, diff);
        } else if (follow && !exists) {
          warnings.push(
            'Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this.',
          );
        } else if (follow) {
          attrs.apply(path, linked!, diff, true);
          attrs.times(path, linked, diff);
        } else {
          attrs.apply(path, changed ? newLink(host, src!) : self!, diff);
          attrs.times(path, linked, diff);
        }
        const plan = done({ dest: path, src: src ?? null, changed: attrs.changed }, diff);
        if (warnings.length) plan.result = { ...plan.result, warnings };
        return plan;
      }

      case 'hard': {
        const src = args.src;
        if (prev !== 'hard' && src === undefined) return failWith('src is required for creating new hardlinks', {});
        const x = host.hardSrc;
        if (src !== undefined && !x) return failWith('src does not exist', { dest: path, src }, self);
        const diff = initialDiff(path, 'hard', prev);
        let changed = false;
        const same = (o: Obj | null | undefined) => Boolean(o && x && o.ino === x.ino && o.dev === x.dev);
        if (prev === 'absent') changed = true;
        else if (prev === 'link') {
          if (self!.link !== src) {
            diff.before.src = self!.link;
            diff.after.src = src;
            changed = true;
          }
        } else if (prev === 'hard') {
          if (src !== undefined && !same(self)) {
            changed = true;
            if (!force)
              return failWith('Cannot link, different hard link exists at destination', { dest: path, src }, self);
          }
        } else if (prev === 'file') {
          changed = true;
          if (!force) return failWith(`Cannot link, ${prev} exists at destination`, { dest: path, src }, self);
        } else if (prev === 'directory') {
          if (same(self)) return done({ path, changed: false }, undefined);
          if (!force)
            return failWith('Cannot link: different hard link exists at destination', { dest: path, src }, self);
          return failWith(`Error while replacing: [Errno 21] Is a directory: '${path}'`, { path }, self);
        }
        if (changed && prev === 'absent' && host.anc[0] === '-')
          return failWith(`Error while linking: ${noDir(src!, path)}`, { path });
        if (changed) attrs.steps.push(sh('ln -fn -- "$1" "$2"', [src!, path], `ln ${src} ${path}`));
        attrs.changed = changed;
        if (check && !resolved) return done({ dest: path, src: src ?? null, changed }, diff);
        const o = check ? (follow && self?.type === 'l' ? host.target : self) : changed ? x : resolved;
        if (o) {
          attrs.apply(path, o, diff, Boolean(check && follow && self?.type === 'l'));
          attrs.times(path, o, diff);
        }
        return done({ dest: path, src: src ?? null, changed: attrs.changed }, diff);
      }
    }
  },
};

/** Python's OSError text for a link made in a directory that is not there. */
const noDir = (src: string, path: string) => `[Errno 2] No such file or directory: b'${src}' -> b'${path}'`;

/** A path this creates, as the host makes it: its user's, mode 0666/0777 less the umask. */
function newObj(host: Host, type: 'f' | 'd'): Obj {
  const mode = (type === 'd' ? 0o777 : 0o666) & ~host.umask;
  const me = host.me ?? { uid: -1, gid: -1 };
  const none = { owner: '', group: '', size: 0, nlink: 1, ino: '', dev: '', atime: '0', mtime: '0' };
  return { ...none, ...me, type, ttype: type, mode, fresh: true };
}

/** A link this makes (follow: false): lstat's mode 0777. */
function newLink(host: Host, src: string): Obj {
  return { ...newObj(host, 'f'), type: 'l', mode: 0o777, size: src.length };
}
