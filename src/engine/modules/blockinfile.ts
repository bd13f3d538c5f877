// blockinfile: a block of lines between BEGIN/END marker lines, replaced in place or inserted at
// insertafter/insertbefore. Lines outside the markers are never changed (at most the line the block is
// appended after gains its missing newline).
import type { Module, Plan } from './types.js';
import { pyRegex, searchLine } from '../util/pyre.js';
import { onePathOrDestfile, destfileProp, textEditProps, type BoolArg, fileWriteRefused } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { editAttrs, editedPath, planText, textEditReads, textFileOf, splitLines } from './lib/text-file.js';

interface BlockArgs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  block?: string;
  content?: string;
  marker?: string;
  marker_begin?: string;
  marker_end?: string;
  state?: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  create?: BoolArg;
  owner?: string;
  group?: string;
  mode?: string | number;
  validate?: string;
  backup?: BoolArg;
}

const stripEol = (l: string) => l.replace(/\r?\n$/, '');

export interface BlockEdit {
  text: string;
  msg: string;
}

/** The new content. `original` undefined = the file does not exist. */
export function editBlock(
  original: string | undefined,
  o: { block: string; present: boolean; begin: string; end: string; insertafter?: string; insertbefore?: string },
): BlockEdit {
  const lines = splitLines(original ?? '');
  let block = o.block;
  let blockLines: string[] = [];
  if (o.present && block) {
    if (!block.endsWith('\n')) block += '\n';
    blockLines = [`${o.begin}\n`, ...splitLines(block), `${o.end}\n`];
  }

  // The last BEGIN that is followed by an END: only a complete pair is ever replaced, so no line
  // outside a pair of markers can be removed.
  let open = -1;
  let pair: [number, number] | undefined;
  lines.forEach((l, i) => {
    const s = stripEol(l);
    if (s === o.begin) open = i;
    else if (s === o.end && open >= 0) {
      pair = [open, i];
      open = -1;
    }
  });

  let n0: number;
  if (pair) {
    const [b, e] = pair;
    // Keep a file that ends at the END marker without a newline as it is.
    if (blockLines.length && !lines[e].endsWith('\n')) blockLines[blockLines.length - 1] = o.end;
    lines.splice(b, e - b + 1);
    n0 = b;
  } else {
    const { insertafter, insertbefore } = o;
    const after = insertbefore === undefined && insertafter === undefined ? 'EOF' : insertafter;
    let re: RegExp | undefined;
    if (after !== undefined && after !== 'EOF') re = pyRegex(after, 'insertafter');
    else if (insertbefore !== undefined && insertbefore !== 'BOF') re = pyRegex(insertbefore, 'insertbefore');
    if (re) {
      let hit = -1;
      lines.forEach((l, i) => {
        if (searchLine(re!, l)) hit = i;
      });
      n0 = hit < 0 ? lines.length : after !== undefined ? hit + 1 : hit;
    } else if (insertbefore !== undefined) {
      n0 = 0; // BOF
    } else {
      n0 = lines.length; // EOF
    }
  }

  if (blockLines.length && n0 > 0 && !lines[n0 - 1].endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...blockLines);
  const text = lines.join('');

  let msg = '';
  if (original === text) msg = '';
  else if (original === undefined) msg = 'File created';
  else if (!blockLines.length) msg = 'Block removed';
  else msg = 'Block inserted';
  return { text, msg };
}

export const blockinfile: Module<BlockArgs, 'file'> = {
  refused: {
    ...fileWriteRefused,
  },
  schema: {
    type: 'object',
    properties: {
      ...textEditProps,
      ...destfileProp,
      block: { type: 'string' },
      content: { type: 'string' },
      marker: { type: 'string', minLength: 1 },
      marker_begin: { type: 'string', minLength: 1 },
      marker_end: { type: 'string', minLength: 1 },
    },
    oneOf: onePathOrDestfile,
    allOf: [{ not: { required: ['insertafter', 'insertbefore'] } }, { not: { required: ['block', 'content'] } }],
    additionalProperties: false,
  },

  reads: textEditReads,

  plan(args, ctx, read): Plan {
    const path = editedPath(args);
    const present = (args.state ?? 'present') === 'present';
    const marker = args.marker ?? '# {mark} ANSIBLE MANAGED BLOCK';
    const begin = marker.split('{mark}').join(args.marker_begin ?? 'BEGIN');
    const end = marker.split('{mark}').join(args.marker_end ?? 'END');
    if (begin === end)
      return {
        changed: false,
        steps: [],
        failed: `the BEGIN and END markers are the same line ("${begin}"): put {mark} in marker`,
      };
    if (/[\r\n]/.test(begin + end)) return { changed: false, steps: [], failed: 'markers must be single lines' };

    const file = textFileOf(read.file, path);
    const { facts } = file;
    // Ansible's checks, in its order (a missing file without create fails, whatever the state), with its rc.
    if (facts.type === 'directory')
      return { changed: false, steps: [], failed: `Path ${path} is a directory !`, result: { rc: 256 } };
    if (facts.exists && facts.type !== 'file')
      return { changed: false, steps: [], failed: `${path} is a ${facts.type}, not a regular file` };
    if (!facts.exists) {
      if (!toBool(args.create, false))
        return { changed: false, steps: [], failed: `Path ${path} does not exist !`, result: { rc: 257 } };
      const msg = `File ${path} not present`;
      if (!present) return { changed: false, steps: [], msg, result: { msg } };
    }

    const edit = editBlock(facts.exists ? (facts.content ?? '') : undefined, {
      block: args.block ?? args.content ?? '',
      present,
      begin,
      end,
      insertafter: args.insertafter,
      insertbefore: args.insertbefore,
    });
    const unchanged = facts.exists && edit.text === facts.content;
    return planText({
      path,
      file,
      after: unchanged ? undefined : edit.text,
      want: editAttrs(args, file),
      validate: args.validate,
      backup: toBool(args.backup, false) ? 'backup_file' : undefined,
      msg: edit.msg,
      edit: { diffMode: Boolean(ctx.diff), check: ctx.check },
    });
  },
};
