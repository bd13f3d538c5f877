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

export interface TextFile {
  /** The path written to: the symlink's target when the path is a symlink (as Ansible follows it). */
  real: string;
  parentExists: boolean;
  facts: FileFacts;
}

// One round trip: resolve a symlink, whether the parent directory exists, then stat + content.
const SCRIPT = () => shFile('engine/modules/lib/text-file.sh');

/** The read of a text file to edit (SCRIPT()). */
export const textFileRead = (path: string): Read => ({ command: shScript(SCRIPT(), [path]) });

/** The path a text-file edit (lineinfile, blockinfile) names: `path`, or its aliases `dest` and `name`. */
export const editedPath = (args: { path?: string; dest?: string; name?: string }): string =>
  (args.path ?? args.dest ?? args.name)!;

/** What a text-file edit reads: the file (see textFileRead). */
export const textEditReads = (args: { path?: string; dest?: string; name?: string }): Reads<'file'> => ({
  file: textFileRead(editedPath(args)),
});

/** textFileRead's result. */
export function textFileOf(r: RunResult, path: string): TextFile {
  const out = readOutput(r, path);
  const nl1 = out.indexOf('\n');
  const nl2 = out.indexOf('\n', nl1 + 1);
  const real = Buffer.from(out.slice(0, nl1), 'base64').toString('utf8') || path;
  const parentExists = out.slice(nl1 + 1, nl2) === 'parent';
  const facts = parseFileFacts(out.slice(nl2 + 1));
  if (facts.type === 'file' && facts.content === undefined) facts.content = '';
  return { real, parentExists, facts };
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
}

/** The plan that makes the file hold `after` with the wanted attributes. */
export function planText(o: TextPlanOpts): Plan {
  const { facts, real } = o.file;
  const diff: FileDiff[] = [...(o.diff ?? [])];
  const pre = o.before ?? [];
  const result = { ...o.result };
  const contentChanged = o.after !== undefined && (!facts.exists || facts.content !== o.after);
  if (contentChanged) {
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
  const attrMsg = Object.keys(changes).length ? 'ownership, perms or SE linux context changed' : undefined;
  return {
    changed: steps.length > 0,
    steps,
    diff,
    result,
    msg: [o.msg, attrMsg].filter(Boolean).join(' and ') || undefined,
  };
}
