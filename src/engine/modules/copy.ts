// copy: put `content`, a local `src` file (found in the role's files/ first) or, with `remote_src`, a
// file on the host at `dest`, atomically, with owner/group/mode; text or bytes (a .deb) alike. As
// Ansible's copy: a `dest` that is a directory, or ends in "/", gets the file inside it (created
// first when it ends in "/"); a local `src` directory is copied recursively — itself with its name,
// or only what is in it when `src` ends in "/".
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Facts, FileDiff, Module, Plan, Reads, Step } from './types.js';
import { boolArg, modeString, type BoolArg, fileWriteRefused } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import {
  attrChanges,
  attrSteps,
  contentDiff,
  fileFactsOf,
  fileFactsRead,
  parseFileFacts,
  writeFileStep,
  type Attrs,
} from './lib/files.js';
import {
  managedFileProps,
  planFileContent,
  umaskOf,
  umaskRead,
  wantedMode,
  sha1,
  textOrBytes,
  type ManagedFileArgs,
  type Target,
} from './lib/managed-file.js';
import { planRemoteDir, remoteDirRead } from './copy/remote-dir.js';

interface CopyArgs extends ManagedFileArgs {
  content?: string;
  src?: string;
  remote_src?: BoolArg;
  directory_mode?: string | number;
  local_follow?: BoolArg;
  follow?: BoolArg;
  checksum?: string;
  decrypt?: BoolArg;
  unsafe_writes?: BoolArg;
}

type Names = 'dest' | 'inside' | 'tree' | 'src' | 'rdir' | 'umask';

const TREE_SCRIPT = () => shFile('engine/modules/copy/tree.sh');
const srcIsDir = (r: RunResult | undefined) => r?.code === 0 && parseFileFacts(r.stdout).type === 'directory';

/** The file name a copy into a directory gets: the source's own. */
const inside = (dest: string, src: string) => posix.join(dest, basename(src.replace(/\/+$/, '')));

/**
 * A local directory's entries, recursively: directories and files by path relative to it, links
 * followed (local_follow) or, with `follow` false, kept as links: their paths and what they point to.
 */
function walk(dir: string, follow = true, rel = ''): { dirs: string[]; files: string[]; links: [string, string][] } {
  const out = { dirs: [] as string[], files: [] as string[], links: [] as [string, string][] };
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (!follow && lstatSync(join(dir, r)).isSymbolicLink()) out.links.push([r, readlinkSync(join(dir, r))]);
    else if (statSync(join(dir, r)).isDirectory()) {
      out.dirs.push(r);
      const sub = walk(dir, follow, r);
      out.dirs.push(...sub.dirs);
      out.files.push(...sub.files);
      out.links.push(...sub.links);
    } else out.files.push(r);
  }
  return out;
}

const isLocalDir = (path: string) => statSync(path).isDirectory();

interface Entry {
  type: string;
  mode: string;
  owner: string;
  group: string;
  sha1?: string;
  /** A link's text. */
  link?: string;
}

/** tree.sh's output: the destination's own facts and what is below it, by relative path. */
function parseTree(stdout: string): { own: ReturnType<typeof parseFileFacts>; entries: Map<string, Entry> } {
  const nl = stdout.indexOf('\n');
  const own = parseFileFacts(nl < 0 ? stdout : stdout.slice(0, nl));
  const entries = new Map<string, Entry>();
  if (nl < 0) return { own, entries };
  const sums = new Map<string, string>();
  let last: Entry | undefined;
  for (const rec of stdout.slice(nl + 1).split('\0')) {
    const sum = /^([0-9a-f]{40}) {2}\.\/([\s\S]*)$/.exec(rec);
    if (sum) sums.set(sum[2], sum[1]);
    else if (rec.startsWith('link|') && last) last.link = rec.slice(5);
    else if (rec) {
      const [type, mode, owner, group, ...path] = rec.split('|');
      last = { type, mode: mode.padStart(4, '0'), owner, group };
      entries.set(path.join('|'), last);
    }
  }
  for (const [p, s] of sums) {
    const e = entries.get(p);
    if (e) e.sha1 = s;
  }
  return { own, entries };
}

/** A local directory copied to `base` on the host: the directories and files that differ, nothing else. */
function planTree(args: CopyArgs, localDir: string, base: string, r: RunResult, umask: number): Plan {
  if (r.code !== 0) throw new Error(`cannot read ${base}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const { own, entries } = parseTree(r.stdout);
  const result = { dest: args.dest.endsWith('/') ? args.dest : `${args.dest}/`, src: localDir };
  if (own.exists && own.type !== 'directory')
    return { changed: false, steps: [], failed: `${base} exists and is not a directory`, result };
  // A file's wanted attributes: a symbolic mode is worked out from its mode now (a new file's: none).
  const want = (prev?: string): Attrs => ({
    owner: args.owner,
    group: args.group,
    mode: wantedMode(args.mode, prev, umask),
  });
  const dirWant: Attrs = { owner: args.owner, group: args.group, mode: modeString(args.directory_mode) };
  const force = toBool(args.force, true);
  const steps: Step[] = [];
  const diff: FileDiff[] = [];
  const mkdir = (path: string) => {
    steps.push({ describe: `mkdir -p ${path}`, command: shScript('mkdir -p -- "$1"', [path]) });
    steps.push(...attrSteps(path, dirWant));
    diff.push({ before_header: path, after_header: path, before: '', after: '(directory)\n' });
  };
  if (!own.exists) mkdir(base);
  const { dirs, files, links } = walk(localDir, toBool(args.local_follow, true));
  for (const d of dirs) {
    const e = entries.get(d);
    const path = posix.join(base, d);
    if (!e) mkdir(path);
    else if (e.type !== 'd')
      return { changed: false, steps: [], failed: `${path} exists and is not a directory`, result };
  }
  for (const f of files) {
    const e = entries.get(f);
    const path = posix.join(base, f);
    if (e && e.type !== 'f')
      return { changed: false, steps: [], failed: `${path} exists and is not a regular file`, result };
    const content = textOrBytes(readFileSync(join(localDir, f)));
    if (!e || (e.sha1 !== sha1(content) && force)) {
      steps.push(writeFileStep(path, content, want(e?.mode)));
      diff.push(contentDiff(path, e ? '(changed)\n' : '', typeof content === 'string' ? content : '(binary)\n'));
    } else
      steps.push(
        ...attrSteps(path, attrChanges({ exists: true, mode: e.mode, owner: e.owner, group: e.group }, want(e.mode))),
      );
  }
  // local_follow: false — a link stays a link (Ansible's file module, state=link, force=true).
  for (const [l, text] of links) {
    const e = entries.get(l);
    const path = posix.join(base, l);
    if (e?.type === 'l' && e.link === text) continue;
    if (e?.type === 'd' && [...entries.keys()].some((k) => k.startsWith(`${l}/`)))
      return {
        changed: false,
        steps: [],
        failed: `the directory ${path} is not empty, refusing to convert it`,
        result,
      };
    steps.push({
      describe: `ln -s ${text} ${path}`,
      command: shScript('if [ -d "$2" ] && [ ! -L "$2" ]; then rmdir -- "$2" || exit 1; fi; ln -sfn -- "$1" "$2"', [
        text,
        path,
      ]),
    });
    diff.push({ before_header: path, after_header: path, before: e ? `(${e.type})\n` : '', after: `-> ${text}\n` });
  }
  return { changed: steps.length > 0, steps, diff, result };
}

/** remote_src: the host's file `src`, compared as read, written by write-file.sh from the file itself on the host. */
function planRemote(
  args: CopyArgs,
  target: Target,
  srcRead: RunResult,
  read: Facts<'dest'> & { umask?: RunResult },
): Plan {
  const src = fileFactsOf(srcRead, args.src!);
  if (!src.exists) return { changed: false, steps: [], failed: `Source ${args.src} not found` };
  return planFileContent(args, textOrBytes(src.bytes ?? Buffer.alloc(0)), read, { ...target, fromFile: args.src });
}

export const copy: Module<CopyArgs, Names> = {
  refused: {
    ...fileWriteRefused,
  },
  schema: {
    type: 'object',
    properties: {
      content: { type: 'string' },
      src: { type: 'string', minLength: 1 },
      remote_src: boolArg,
      directory_mode: { type: ['string', 'integer'] },
      local_follow: boolArg,
      follow: boolArg,
      checksum: { type: 'string' },
      decrypt: boolArg,
      unsafe_writes: boolArg,
      ...managedFileProps,
    },
    required: ['dest'],
    oneOf: [{ required: ['content'] }, { required: ['src'] }],
    additionalProperties: false,
  },

  reads(args, ctx, got) {
    const remote = toBool(args.remote_src, false);
    if (args.src !== undefined && !remote && isLocalDir(ctx.resolveLocal(args.src, 'files'))) {
      const base = args.src.endsWith('/') ? args.dest : inside(args.dest, args.src);
      return { tree: { command: shScript(TREE_SCRIPT(), [base]) }, ...umaskRead(args.mode) };
    }
    const reads: Reads<Names> = { dest: fileFactsRead(args.dest, { content: true }), ...umaskRead(args.mode) };
    if (remote) reads.src = fileFactsRead(args.src!, { content: true });
    // A directory on the host: its tree and where it goes, read once the first read says it is one.
    if (remote && srcIsDir(got.src)) reads.rdir = remoteDirRead(args.src!, args.dest, args.owner, args.group);
    // Into a directory: the file inside it, once the first read says dest is one (or it ends in "/").
    const d = got.dest && got.dest.code === 0 ? parseFileFacts(got.dest.stdout) : undefined;
    if (args.src !== undefined && (args.dest.endsWith('/') || d?.type === 'directory'))
      reads.inside = fileFactsRead(inside(args.dest, args.src), { content: true });
    return reads;
  },

  plan(args, ctx, facts) {
    const remote = toBool(args.remote_src, false);
    const dest = fileFactsOf(facts.dest ?? { code: 0, stdout: 'absent', stderr: '' }, args.dest);
    if (args.content !== undefined) {
      if (args.dest.endsWith('/') || dest.type === 'directory')
        return { changed: false, steps: [], failed: 'can not use content with a dir as dest', result: { diff: [] } };
      return planFileContent(
        args,
        args.content,
        { dest: facts.dest, umask: facts.umask },
        { path: args.dest, check: ctx.check },
      );
    }
    const srcPath = remote ? args.src! : ctx.resolveLocal(args.src!, 'files');
    if (facts.tree) {
      const base = args.src!.endsWith('/') ? args.dest : inside(args.dest, args.src!);
      return planTree(args, srcPath, base, facts.tree, umaskOf(facts.umask));
    }
    let target: Target = { path: args.dest, check: ctx.check };
    let read = facts.dest;
    if (args.dest.endsWith('/') || dest.type === 'directory') {
      const path = inside(args.dest, args.src!);
      read = facts.inside;
      target = dest.exists
        ? { path, check: ctx.check }
        : { path, check: ctx.check, mkdir: { path: args.dest, mode: modeString(args.directory_mode) } };
    }
    if (remote && srcIsDir(facts.src)) return planRemoteDir(args, facts.rdir, ctx.check);
    if (remote) return planRemote(args, target, facts.src, { dest: read, umask: facts.umask });
    return planFileContent(args, textOrBytes(readFileSync(srcPath)), { dest: read, umask: facts.umask }, target);
  },
};
