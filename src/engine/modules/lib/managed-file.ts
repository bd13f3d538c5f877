// The plan shared by copy and template: make `dest` hold `content` with the wanted attributes, and
// return what Ansible's copy/template return (dest, checksum as SHA-1, size, mode, owner, group, state,
// backup_file).
import { createHash } from 'node:crypto';
import type { RunResult } from '../../connection/types.js';
import { boolArg, type BoolArg } from './schema.js';
import { modeFor, modeText, parseModeArg } from './modes.js';
import { toBool } from '../../util/bool.js';
import type { Facts, FileDiff, Plan, Reads } from '../types.js';
import { shScript } from '../../util/quote.js';
import {
  attrChanges,
  attrDiff,
  attrSteps,
  backupFileOf,
  writtenOf,
  contentDiff,
  fileFactsOf,
  fileFactsRead,
  writeFileStep,
  type Attrs,
} from './files.js';

export interface ManagedFileArgs {
  dest: string;
  owner?: string;
  group?: string;
  mode?: string | number;
  validate?: string;
  backup?: BoolArg;
  /** false: leave an existing file's content alone (attributes are still managed). */
  force?: BoolArg;
}

export const managedFileProps = {
  dest: { type: 'string', minLength: 1 },
  owner: { type: 'string' },
  group: { type: 'string' },
  mode: { type: ['string', 'integer'] },
  validate: { type: 'string' },
  backup: boolArg,
  force: boolArg,
};

export const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex');

/** Text when the bytes are UTF-8, else the bytes themselves (a .deb, an image). */
export function textOrBytes(bytes: Buffer): string | Buffer {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : bytes;
}

/** The host's umask, read beside a file when a symbolic mode may need it (umaskOf). */
export const umaskRead = (mode: unknown): Reads<'umask'> => {
  const arg = badSymbolicMode(mode) === undefined ? parseModeArg(mode) : undefined;
  return arg && 'symbolic' in arg ? { umask: { command: 'umask' } } : {};
};

/** Why a text mode is neither octal nor symbolic (the file module's `details`), if it is not. */
export function badSymbolicMode(mode: unknown): string | undefined {
  if (typeof mode !== 'string') return undefined;
  try {
    parseModeArg(mode);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const BAD_MODE = 'mode must be in octal or symbolic form';

/** umaskRead's answer (Debian's 022 when there was none). */
export const umaskOf = (r: RunResult | undefined): number =>
  r?.code === 0 && /^[0-7]+$/.test(r.stdout.trim()) ? parseInt(r.stdout.trim(), 8) : 0o022;

/**
 * The mode (4 octal digits) a file gets from a mode argument, octal or symbolic: a symbolic mode is
 * worked out from the file's mode `prev` ("0644"), or for a new file from the 0666 less the umask that
 * Ansible's atomic_move gives it first.
 */
export function wantedMode(mode: unknown, prev: string | undefined, umask: number): string | undefined {
  const arg = parseModeArg(mode);
  if (!arg) return undefined;
  const before = prev === undefined ? 0o666 & ~umask : parseInt(prev, 8);
  return modeFor(arg, before, false, umask).toString(8).padStart(4, '0');
}

/** A mode as Ansible's results show a file's ("0%03o": 0644, 01777). */
export const shownMode = (mode: string): string => modeText(parseInt(mode, 8));

/**
 * What copy and template read: `dest`, with its content (and the umask for a symbolic mode). A
 * template's read needs none of the variables its text does, so a run can fetch it before they are
 * known (src/engine/runner/early-reads.ts).
 */
export const managedFileReads = (args: ManagedFileArgs): Reads<'dest' | 'umask'> => ({
  dest: fileFactsRead(args.dest, { content: true }),
  ...umaskRead(args.mode),
});

export const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** Where to put the file, when it is not `args.dest` itself (copy into a directory), and what to make first. */
export interface Target {
  path: string;
  /** A directory to create first (a dest ending in "/" that is not there yet), with this mode. */
  mkdir?: { path: string; mode?: string };
  /** The content is this file on the host (remote_src): the write reads it there. */
  fromFile?: string;
  /** Check mode: a content sent from here that would change says only that (as Ansible's copy action). */
  check?: boolean;
}

/**
 * The plan that makes `dest` (or `target.path`) hold `content`, from the read of that path's facts with
 * its content. Results as Ansible's copy and template return them: the copy module's fields when the
 * content is written (checksum, md5sum, the owner, group and mode the file got), the file module's when
 * it is not (path, and its diff of the attributes).
 */
export function planFileContent(
  args: ManagedFileArgs,
  content: string | Buffer,
  read: Facts<'dest'> & { umask?: RunResult },
  target: Target = { path: args.dest },
): Plan {
  const dest = target.path;
  const facts = fileFactsOf(read.dest, dest, { content: true });
  // As Ansible's: a mode that is not one is found only once the content is in place (file module's stage).
  const badMode = badSymbolicMode(args.mode);
  const mode = badMode ? undefined : wantedMode(args.mode, facts.exists ? facts.mode : undefined, umaskOf(read.umask));
  const want: Attrs = { owner: args.owner, group: args.group, mode };
  if (facts.exists && facts.type !== 'file')
    return { changed: false, steps: [], failed: `${dest} exists and is not a regular file (${facts.type})` };
  const binary = typeof content !== 'string';
  const same = facts.exists && (binary ? Boolean(facts.bytes?.equals(content)) : facts.content === content);
  // force: false leaves a file that is there alone, attributes too (as Ansible's copy action).
  if (facts.exists && !same && !toBool(args.force, true)) return { changed: false, steps: [], result: { dest } };
  const contentChanged = !same;
  const attrs = facts.exists ? attrChanges(facts, want) : want;
  const diff: FileDiff[] = [];
  if (contentChanged) {
    const shown = (b: string | Buffer | undefined) =>
      typeof b === 'string' ? b : `(binary, ${b?.length ?? 0} bytes, sha1 ${sha1(b ?? '')})\n`;
    diff.push(
      contentDiff(
        dest,
        binary ? (facts.exists ? shown(facts.bytes) : '') : (facts.content ?? ''),
        binary ? shown(content) : content,
      ),
    );
  }
  const ad = facts.exists ? attrDiff(dest, facts, attrs) : undefined;
  if (ad) diff.push(ad);

  const mkdir = target.mkdir
    ? [
        {
          describe: `mkdir -p ${target.mkdir.path}`,
          command: shScript('mkdir -p -- "$1"', [target.mkdir.path]),
        },
        ...(target.mkdir.mode ? attrSteps(target.mkdir.path, { mode: target.mkdir.mode }) : []),
      ]
    : [];
  // Ansible's copy action (template's too) stops there, before sending the content.
  if (contentChanged && target.check && target.fromFile === undefined)
    return { changed: true, steps: [], diff, result: { diff: [] } };
  const size = binary ? content.length : Buffer.byteLength(content);
  // Ansible's failure then: the file's facts, its checksum and why, with nothing said changed.
  const badModeResult = (stat: Record<string, unknown>) => ({
    changed: false,
    failed: true,
    msg: BAD_MODE,
    details: badMode,
    path: dest,
    checksum: sha1(content),
    size,
    state: 'file',
    diff: [],
    ...stat,
  });
  if (badMode && !contentChanged) {
    const { uid, gid, owner, group } = facts;
    return {
      changed: false,
      steps: [],
      failed: BAD_MODE,
      result: badModeResult({ uid, gid, owner, group, mode: shownMode(facts.mode!) }),
    };
  }
  if (contentChanged && badMode) {
    return {
      changed: false,
      steps: [...mkdir, writeFileStep(dest, content, want, { validate: args.validate, fromFile: target.fromFile })],
      diff,
      result: {},
      finish: (outputs: RunResult[]) => badModeResult({ ...writtenOf(outputs[outputs.length - 1]?.stdout ?? '') }),
    };
  }
  if (contentChanged) {
    const backup = toBool(args.backup, false) && facts.exists;
    const result: Record<string, unknown> = {
      dest,
      checksum: sha1(content),
      md5sum: md5(content),
      size,
      state: 'file',
      mode: shownMode(want.mode ?? facts.mode ?? (0o666 & ~umaskOf(read.umask)).toString(8)),
      owner: want.owner ?? facts.owner,
      group: want.group ?? facts.group,
      ...(facts.uid !== undefined && !want.owner ? { uid: facts.uid } : {}),
      ...(facts.gid !== undefined && !want.group ? { gid: facts.gid } : {}),
      // Ansible's copy module returns an empty diff, but not for a remote_src copy.
      ...(target.fromFile === undefined ? { diff: [] } : {}),
    };
    return {
      changed: true,
      steps: [
        ...mkdir,
        writeFileStep(dest, content, want, { validate: args.validate, backup, fromFile: target.fromFile }),
      ],
      diff,
      result,
      finish: (outputs: RunResult[]) => {
        const out = outputs[outputs.length - 1]?.stdout ?? '';
        const b = backup ? backupFileOf(out) : undefined;
        return {
          ...writtenOf(out),
          ...(b ? { backup_file: b } : {}),
          ...(target.fromFile ? { src: target.fromFile } : {}),
        };
      },
    };
  }
  const steps = attrSteps(dest, attrs);
  // As Ansible's file module (which copy hands an unchanged file to): the attributes it changed, before and after.
  const changedKeys = Object.keys(attrs) as (keyof Attrs)[];
  const fileDiff = {
    before: { path: dest, ...(attrs.mode ? { mode: shownMode(facts.mode!) } : {}) },
    after: { path: dest, ...(attrs.mode ? { mode: shownMode(attrs.mode) } : {}) },
  };
  // The file as it is then: in check mode, as it is now.
  const now: Attrs = target.check ? {} : want;
  const changing = target.check ? [] : changedKeys;
  const result: Record<string, unknown> = {
    dest,
    path: dest,
    checksum: sha1(facts.bytes ?? facts.content ?? ''),
    size: facts.size,
    state: 'file',
    mode: shownMode(now.mode ?? facts.mode!),
    owner: now.owner ?? facts.owner,
    group: now.group ?? facts.group,
    ...(facts.uid !== undefined && !changing.includes('owner') ? { uid: facts.uid } : {}),
    ...(facts.gid !== undefined && !changing.includes('group') ? { gid: facts.gid } : {}),
    diff: fileDiff,
  };
  return { changed: steps.length > 0, steps, diff, result };
}
