// Text files edited in memory (lineinfile, blockinfile, authorized_key): read once, compute the new
// content, write atomically only when it differs, otherwise fix attributes in place.
import { shFile } from '../../util/sh-file.js';
import { shScript } from '../../util/quote.js';
import { readOutput, type FileDiff, type Plan, type Read, type Reads, type Step } from '../types.js';
import {
  attrChanges,
  attrDiff,
  attrSteps,
  backupFileOf,
  contentDiff,
  parseFileFacts,
  writeFileStep,
  type Attrs,
  type FileFacts,
} from './files.js';
import type { RunResult } from '../../connection/types.js';
import { modeFor, modeText, parseModeArg } from './modes.js';

export interface TextFile {
  /** The path written to: the symlink's target when the path is a symlink (as Ansible follows it). */
  real: string;
  parentExists: boolean;
  facts: FileFacts;
  /** The host's umask for the edit, when read. */
  umask?: number;
  /** A missing file: the owner, group and mode it gets when it is created (the task's user, its umask). */
  created?: FileFacts;
}

// One round trip: resolve a symlink, whether the parent directory exists, umask (and id when the file
// is missing), then stat + content.
const SCRIPT = () => shFile('engine/modules/lib/text-file.sh');

/** The read of a text file to edit (SCRIPT()). */
export const textFileRead = (path: string): Read => ({ command: shScript(SCRIPT(), [path]) });

/** The path a text-file edit (lineinfile, blockinfile) names: `path`, or its aliases `dest` and `name`. */
export const editedPath = (args: { path?: string; dest?: string; destfile?: string; name?: string }): string =>
  (args.path ?? args.dest ?? args.destfile ?? args.name)!;

/** What a text-file edit reads: the file (see textFileRead). */
export const textEditReads = (args: {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
}): Reads<'file'> => ({
  file: textFileRead(editedPath(args)),
});

/** textFileRead's result. */
export function textFileOf(r: RunResult, path: string): TextFile {
  const out = readOutput(r, path);
  const nl1 = out.indexOf('\n');
  const nl2 = out.indexOf('\n', nl1 + 1);
  const nl3 = out.indexOf('\n', nl2 + 1);
  const real = Buffer.from(out.slice(0, nl1), 'base64').toString('utf8') || path;
  const parentExists = out.slice(nl1 + 1, nl2) === 'parent';
  const [mask, id = ''] = out.slice(nl2 + 1, nl3).split(/ (.*)/);
  const umask = parseInt(mask, 8) || 0o022;
  const facts = parseFileFacts(out.slice(nl3 + 1));
  if (facts.type === 'file' && facts.content === undefined) facts.content = '';
  const file: TextFile = { real, parentExists, facts, umask };
  // `id`: uid=N(NAME) gid=N(NAME) ... — a name is left out for an id without one.
  const who = /uid=(\d+)(?:\(([^)]*)\))? gid=(\d+)(?:\(([^)]*)\))?/.exec(id);
  if (!facts.exists && who) {
    file.created = {
      exists: true,
      type: 'file',
      // As Ansible's atomic_move makes a new file: 0666 less the umask.
      mode: (0o666 & ~umask).toString(8).padStart(4, '0'),
      uid: Number(who[1]),
      owner: who[2] ?? who[1],
      gid: Number(who[3]),
      group: who[4] ?? who[3],
    };
  }
  return file;
}

/** Split into lines that keep their "\n" (the last one may lack it). */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const j = text.indexOf('\n', i);
    if (j < 0) {
      out.push(text.slice(i));
      break;
    }
    out.push(text.slice(i, j + 1));
    i = j + 1;
  }
  return out;
}

export interface TextPlanOpts {
  /** Shown in diffs and results. */
  path: string;
  file: TextFile;
  /** New content; undefined = leave the content alone (attributes may still be fixed). */
  after: string | undefined;
  want: Attrs;
  validate?: string;
  /** Keep the file as it was beside it; its path comes back under this result key (Ansible: lineinfile "backup", blockinfile "backup_file"). */
  backup?: string;
  msg?: string;
  result?: Record<string, unknown>;
  /** Extra steps before the write (e.g. creating a directory). */
  before?: Step[];
  diff?: FileDiff[];
  /**
   * Report as Ansible's lineinfile and blockinfile do: `msg` always (with "and ownership, perms or SE
   * linux context changed" when attributes change too), and their `diff`, in diff mode (`diffMode`) with
   * the contents.
   */
  edit?: { diffMode: boolean; check: boolean };
}

/**
 * The owner, group and mode an edit wants: a symbolic mode (`u=rw,g=r`) worked out from the file's
 * mode now (or a new file's), as Ansible's modules do.
 */
export function editAttrs(args: { owner?: string; group?: string; mode?: string | number }, file: TextFile): Attrs {
  const arg = parseModeArg(args.mode);
  const had = file.facts.exists ? file.facts : file.created;
  const prev = parseInt(had?.mode ?? '0', 8);
  const mode =
    arg &&
    modeFor(arg, prev, false, file.umask ?? 0o022)
      .toString(8)
      .padStart(4, '0');
  return { owner: args.owner, group: args.group, mode };
}

const ATTR_MSG = 'ownership, perms or SE linux context changed';

const contentChanges = (o: TextPlanOpts) =>
  o.after !== undefined && (!o.file.facts.exists || o.file.facts.content !== o.after);

/** An attribute as Ansible's diff of file attributes gives it: uid and gid numbers, the mode "0%03o". */
function attrValue(key: keyof Attrs, from: Attrs & { uid?: number; gid?: number }): unknown {
  if (key === 'mode') return modeText(parseInt(from.mode!, 8));
  const id = key === 'owner' ? from.uid : from.gid;
  const name = from[key]!;
  return id ?? (/^\d+$/.test(name) ? Number(name) : name);
}

/** Ansible's lineinfile/blockinfile msg and diff for an edit (TextPlanOpts.edit). */
function editReport(o: TextPlanOpts, edit: { diffMode: boolean; check: boolean }): { msg: string; diff: unknown } {
  const { facts, created } = o.file;
  const before = facts.content ?? '';
  const header = `${o.path} (content)`;
  const content = {
    before: edit.diffMode ? before : '',
    after: edit.diffMode ? (contentChanges(o) ? o.after! : before) : '',
    before_header: header,
    after_header: header,
  };
  // In check mode a file not there yet has no attributes to compare: Ansible stops at its content.
  if (!facts.exists && edit.check) return { msg: o.msg ?? '', diff: content };
  const had = facts.exists ? facts : created;
  const changes = had ? attrChanges(had, o.want) : {};
  const keys = Object.keys(changes) as (keyof Attrs)[];
  const attrs: Record<string, unknown> = {};
  if (had && keys.length) {
    attrs.before = Object.fromEntries(keys.map((k) => [k, attrValue(k, had)]));
    attrs.after = Object.fromEntries(keys.map((k) => [k, attrValue(k, changes)]));
  }
  attrs.before_header = attrs.after_header = `${o.path} (file attributes)`;
  const msg = [o.msg, keys.length ? ATTR_MSG : ''].filter(Boolean).join(' and ');
  return { msg, diff: [content, attrs] };
}

/** The plan that makes the file hold `after` with the wanted attributes. */
export function planText(o: TextPlanOpts): Plan {
  const plan = planContent(o);
  if (!o.edit) return plan;
  const { msg, diff } = editReport(o, o.edit);
  return { ...plan, msg: msg || undefined, result: { ...plan.result, msg, diff } };
}

function planContent(o: TextPlanOpts): Plan {
  const { facts, real } = o.file;
  const diff: FileDiff[] = [...(o.diff ?? [])];
  const pre = o.before ?? [];
  const result = { ...o.result };
  if (contentChanges(o)) {
    diff.push(contentDiff(o.path, facts.content ?? '', o.after!));
    const ad = facts.exists ? attrDiff(o.path, facts, attrChanges(facts, o.want)) : undefined;
    if (ad) diff.push(ad);
    const mkParent: Step[] = o.file.parentExists
      ? []
      : [{ describe: `mkdir -p parent of ${o.path}`, command: shScript('mkdir -p -- "$(dirname -- "$1")"', [real]) }];
    const backup = Boolean(o.backup) && facts.exists;
    const write = writeFileStep(real, o.after!, o.want, { validate: o.validate, backup });
    const steps = [...pre, ...mkParent, write];
    const finish = backup
      ? (outputs: RunResult[]) => ({ [o.backup!]: backupFileOf(outputs[steps.indexOf(write)]?.stdout ?? '') })
      : undefined;
    return { changed: true, steps, diff, result, msg: o.msg, finish };
  }
  if (!facts.exists) return { changed: pre.length > 0, steps: pre, diff, result, msg: o.msg };
  const changes = attrChanges(facts, o.want);
  const ad = attrDiff(o.path, facts, changes);
  if (ad) diff.push(ad);
  const steps = [...pre, ...attrSteps(real, changes)];
  const attrMsg = Object.keys(changes).length ? ATTR_MSG : undefined;
  return {
    changed: steps.length > 0,
    steps,
    diff,
    result,
    msg: [o.msg, attrMsg].filter(Boolean).join(' and ') || undefined,
  };
}
