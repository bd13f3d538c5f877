// File facts and atomic writes, shared by every module that manages a file.
import { shFile } from '../../util/sh-file.js';
import { shq, shScript } from '../../util/quote.js';
import type { RunResult } from '../../connection/types.js';
import { readOutput, type FileDiff, type Read, type Step } from '../types.js';
import { modeText } from './modes.js';

export interface FileFacts {
  exists: boolean;
  type?: 'file' | 'directory' | 'link' | 'other';
  mode?: string; // octal, 4 digits: "0644"
  owner?: string;
  group?: string;
  size?: number;
  /** Numeric owner and group, when the read gave them. */
  uid?: number;
  gid?: number;
  /** Text content, when asked for and the path is a regular file. */
  content?: string;
  /** The same content as bytes (for files that are not text). */
  bytes?: Buffer;
}

// One round trip: stat (and optionally the content, base64) of one path.
const FACT_SCRIPT = () => shFile('engine/modules/lib/file-facts.sh');

export function parseFileFacts(stdout: string): FileFacts {
  const [head, body = ''] = stdout.split('\n');
  if (head === 'absent') return { exists: false };
  const [kind, mode, owner, group, size, uid, gid] = head.split('|');
  const type =
    kind === 'directory'
      ? 'directory'
      : kind === 'symbolic link'
        ? 'link'
        : kind.startsWith('regular')
          ? 'file'
          : 'other';
  const facts: FileFacts = { exists: true, type, mode: mode.padStart(4, '0'), owner, group, size: Number(size) };
  if (uid !== undefined) Object.assign(facts, { uid: Number(uid), gid: Number(gid) });
  if (body) {
    facts.bytes = Buffer.from(body.trim(), 'base64');
    facts.content = facts.bytes.toString('utf8');
  } else if (type === 'file' && Number(size) === 0) {
    facts.content = '';
    facts.bytes = Buffer.alloc(0);
  }
  return facts;
}

/** The read of one path's facts (and its content, with `content`). */
export const fileFactsRead = (path: string, opts: { content?: boolean } = {}): Read => ({
  command: shScript(FACT_SCRIPT(), [path, opts.content ? 'content' : '']),
});

/** fileFactsRead's result as FileFacts. */
export function fileFactsOf(r: RunResult, path: string, opts: { content?: boolean } = {}): FileFacts {
  const facts = parseFileFacts(readOutput(r, path));
  if (opts.content && facts.type === 'file' && facts.content === undefined) facts.content = '';
  return facts;
}

export interface Attrs {
  owner?: string;
  group?: string;
  mode?: string;
}

/** Which of the wanted attributes differ from the facts. */
export function attrChanges(facts: FileFacts, want: Attrs): Attrs {
  const out: Attrs = {};
  if (want.owner !== undefined && facts.owner !== want.owner) out.owner = want.owner;
  if (want.group !== undefined && facts.group !== want.group) out.group = want.group;
  if (want.mode !== undefined && facts.mode !== want.mode) out.mode = want.mode;
  return out;
}

// Temp file in the destination's directory, attributes set on it, then rename: readers never see
// a half-written file, and the final file never exists with the wrong owner or mode. With a backup
// ($7), the file as it was is copied aside first (Ansible's name: DEST.PID.DATE~) and its path printed.
// Every write of a first apply runs this on a small host: no process it can do without.
const WRITE_SCRIPT = () => shFile('engine/modules/lib/write-file.sh');

export interface WriteOptions {
  /** A command with %s for the temp file (as Ansible's); the file is put in place only if it succeeds. */
  validate?: string;
  /** Keep the old file as DEST.PID.DATE~ (its path comes back as backup_file=...). */
  backup?: boolean;
  /** The content is this file on the host (copy's remote_src), read there: `content` only gives its size. */
  fromFile?: string;
}

/** Write content (text, or bytes) atomically. */
export function writeFileStep(
  path: string,
  content: string | Buffer,
  attrs: Attrs,
  validateOrOpts?: string | WriteOptions,
): Step {
  const opts: WriteOptions = typeof validateOrOpts === 'string' ? { validate: validateOrOpts } : (validateOrOpts ?? {});
  const { validate } = opts;
  if (validate && !validate.includes('%s')) throw new Error('validate must contain %s (the temp file)');
  // Bytes that are not UTF-8 text travel base64-encoded (stdin is text) and are decoded on the host.
  const binary = typeof content !== 'string';
  const bytes = binary ? content.length : Buffer.byteLength(content, 'utf8');
  const step: Step = {
    describe: `write ${path}`,
    // The temp path reaches the validate command through the environment, never spliced into it.
    command: shScript(WRITE_SCRIPT(), [
      path,
      attrs.owner ?? '',
      attrs.group ?? '',
      attrs.mode ?? '',
      validate?.split('%s').join('"$VALIDATE_TMP"') ?? '',
      bytes,
      opts.backup ? 'backup' : '',
      binary && !opts.fromFile ? 'base64' : '',
    ]),
    stdin: binary ? content.toString('base64') : content,
  };
  if (opts.fromFile === undefined) return step;
  return { describe: step.describe, command: `${step.command} < ${shq(opts.fromFile)}` };
}

/** The numeric and named owner and group, and the mode (as Ansible shows it), a write step printed for the file it wrote. */
export function writtenOf(
  stdout: string,
): { uid: number; gid: number; owner: string; group: string; mode: string } | undefined {
  const m = /^written=(\d+)\|(\d+)\|([^|]*)\|([^|]*)\|([0-7]+)$/m.exec(stdout);
  return m
    ? { uid: Number(m[1]), gid: Number(m[2]), owner: m[3], group: m[4], mode: modeText(parseInt(m[5], 8)) }
    : undefined;
}

/** The backup_file a write step printed, if any. */
export function backupFileOf(stdout: string): string | undefined {
  return /^backup_file=(.*)$/m.exec(stdout)?.[1];
}

/** chown/chmod an existing path in place. */
export function attrSteps(path: string, changes: Attrs): Step[] {
  const steps: Step[] = [];
  if (changes.owner !== undefined || changes.group !== undefined) {
    const spec = `${changes.owner ?? ''}${changes.group !== undefined ? `:${changes.group}` : ''}`;
    steps.push({ describe: `chown ${spec} ${path}`, command: shScript('chown -h -- "$1" "$2"', [spec, path]) });
  }
  if (changes.mode !== undefined) {
    steps.push({
      describe: `chmod ${changes.mode} ${path}`,
      command: shScript('chmod -- "$1" "$2"', [changes.mode, path]),
    });
  }
  return steps;
}

/** Ansible-style diff entry for content, with attribute changes in the headers. */
export function contentDiff(path: string, before: string, after: string): FileDiff {
  return { before_header: path, after_header: path, before, after };
}

export function attrDiff(path: string, facts: FileFacts, changes: Attrs): FileDiff | undefined {
  const keys = Object.keys(changes) as (keyof Attrs)[];
  if (!keys.length) return undefined;
  const line = (src: Attrs | FileFacts) => keys.map((k) => `${k}: ${src[k] ?? '(none)'}`).join('\n') + '\n';
  return {
    before_header: `${path} (attributes)`,
    after_header: `${path} (attributes)`,
    before: facts.exists ? line(facts) : '',
    after: line(changes),
  };
}
