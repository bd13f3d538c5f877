// The plan shared by copy and template: make `dest` hold `content` with the wanted attributes, and
// return what Ansible's copy/template return (dest, checksum as SHA-1, size, mode, owner, group, state,
// backup_file).
import { createHash } from 'node:crypto';
import type { RunResult } from '../../connection/types.js';
import { boolArg, modeString, type BoolArg } from './schema.js';
import { toBool } from '../../util/bool.js';
import type { Facts, FileDiff, Plan, Reads } from '../types.js';
import {
  attrChanges,
  attrDiff,
  attrSteps,
  backupFileOf,
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

/**
 * What copy and template read: `dest`, with its content. A template's read needs none of the variables
 * its text does, so a run can fetch it before they are known (src/engine/runner/early-reads.ts).
 */
export const managedFileReads = (args: ManagedFileArgs): Reads<'dest'> => ({
  dest: fileFactsRead(args.dest, { content: true }),
});

/** The plan that makes `dest` hold `content`, from managedFileReads' result. */
export function planFileContent(args: ManagedFileArgs, content: string | Buffer, read: Facts<'dest'>): Plan {
  const want: Attrs = { owner: args.owner, group: args.group, mode: modeString(args.mode) };
  const facts = fileFactsOf(read.dest, args.dest, { content: true });
  if (facts.exists && facts.type !== 'file')
    return { changed: false, steps: [], failed: `${args.dest} exists and is not a regular file (${facts.type})` };
  const binary = typeof content !== 'string';
  const same = facts.exists && (binary ? Boolean(facts.bytes?.equals(content)) : facts.content === content);
  const contentChanged = !same && !(facts.exists && !toBool(args.force, true));
  const attrs = facts.exists ? attrChanges(facts, want) : want;
  const result: Record<string, unknown> = {
    dest: args.dest,
    checksum: sha1(contentChanged || !facts.exists ? content : (facts.bytes ?? facts.content ?? '')),
    size: contentChanged ? (binary ? content.length : Buffer.byteLength(content)) : facts.size,
    state: 'file',
    mode: want.mode ?? facts.mode ?? '0644',
    owner: want.owner ?? facts.owner,
    group: want.group ?? facts.group,
  };
  const diff: FileDiff[] = [];
  if (contentChanged) {
    const shown = (b: string | Buffer | undefined) =>
      typeof b === 'string' ? b : `(binary, ${b?.length ?? 0} bytes, sha1 ${sha1(b ?? '')})\n`;
    diff.push(
      contentDiff(
        args.dest,
        binary ? (facts.exists ? shown(facts.bytes) : '') : (facts.content ?? ''),
        binary ? shown(content) : content,
      ),
    );
  }
  const ad = facts.exists ? attrDiff(args.dest, facts, attrs) : undefined;
  if (ad) diff.push(ad);

  if (contentChanged) {
    const backup = toBool(args.backup, false) && facts.exists;
    return {
      changed: true,
      steps: [writeFileStep(args.dest, content, want, { validate: args.validate, backup })],
      diff,
      result,
      finish: (outputs: RunResult[]) => {
        const b = backup ? backupFileOf(outputs[0]?.stdout ?? '') : undefined;
        return b ? { backup_file: b } : {};
      },
    };
  }
  const steps = attrSteps(args.dest, attrs);
  return { changed: steps.length > 0, steps, diff, result };
}
