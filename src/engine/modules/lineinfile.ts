// lineinfile: ensure one line is present (or lines matching are absent), computed in memory exactly
// like Ansible's module (regexp replaces the last match; else insertafter/insertbefore; else EOF),
// written atomically only when the content differs.
import type { Module, Plan } from './types.js';
import { pyExpand, pyRegex, searchLine } from '../util/pyre.js';
import {
  boolArg,
  onePathOrDestfile,
  destfileProp,
  foldAliases,
  textEditProps,
  type BoolArg,
  othersRefused,
  fileWriteRefused,
} from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { editAttrs, editedPath, planText, textEditReads, textFileOf, splitLines } from './lib/text-file.js';

interface LineArgs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  line?: string;
  value?: string;
  regexp?: string;
  regex?: string;
  search_string?: string;
  state?: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  create?: BoolArg;
  backrefs?: BoolArg;
  firstmatch?: BoolArg;
  owner?: string;
  group?: string;
  mode?: string | number;
  validate?: string;
  backup?: BoolArg;
}

const stripEol = (l: string) => l.replace(/[\r\n]+$/, '');

export interface LineEdit {
  lines: string[];
  changed: boolean;
  msg: string;
  found?: number;
}

/** Ansible's present(): returns the new lines. `lines` keep their "\n". */
export function linePresent(
  input: string[],
  o: {
    line: string;
    regexp?: RegExp;
    search?: string;
    insertafter?: string;
    insertbefore?: string;
    backrefs?: boolean;
    firstmatch?: boolean;
  },
): LineEdit {
  const lines = [...input];
  const { line, insertafter, insertbefore } = o;
  let insRe: RegExp | undefined;
  if (insertafter !== undefined && insertafter !== 'BOF' && insertafter !== 'EOF')
    insRe = pyRegex(insertafter, 'insertafter');
  else if (insertbefore !== undefined && insertbefore !== 'BOF') insRe = pyRegex(insertbefore, 'insertbefore');

  // index[0]: the line matched by regexp/search_string (or the exact line); index[1]: insertion point.
  const index = [-1, -1];
  let match: RegExpExecArray | null = null;
  let searchFound = false;

  if (o.regexp) {
    for (let i = 0; i < lines.length; i++) {
      const m = searchLine(o.regexp, lines[i]);
      if (m) {
        index[0] = i;
        match = m;
        if (o.firstmatch) break;
      }
    }
  }
  if (o.search !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].includes(o.search)) {
        index[0] = i;
        searchFound = true;
        if (o.firstmatch) break;
      }
    }
  }
  if (!match && !searchFound) {
    for (let i = 0; i < lines.length; i++) {
      if (stripEol(lines[i]) === line) {
        index[0] = i;
      } else if (insRe && searchLine(insRe, lines[i])) {
        if (insertafter !== undefined) {
          index[1] = i + 1;
          if (o.firstmatch) break;
        }
        if (insertbefore !== undefined) {
          index[1] = i;
          if (o.firstmatch) break;
        }
      }
    }
  }

  const nl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  const lastNeedsNl = () => lines.length > 0 && !/[\r\n]$/.test(lines[lines.length - 1]);

  if (index[0] !== -1) {
    const newLine = nl(o.backrefs && match ? pyExpand(line, match) : line);
    if (lines[index[0]] !== newLine) {
      lines[index[0]] = newLine;
      return { lines, changed: true, msg: 'line replaced' };
    }
    return { lines, changed: false, msg: '' };
  }
  if (o.backrefs) return { lines, changed: false, msg: '' }; // nothing to expand the backrefs from
  if (insertbefore === 'BOF' || insertafter === 'BOF') {
    lines.unshift(`${line}\n`);
    return { lines, changed: true, msg: 'line added' };
  }
  if (insertafter === 'EOF' || index[1] === -1) {
    if (lastNeedsNl()) lines.push('\n');
    lines.push(`${line}\n`);
    return { lines, changed: true, msg: 'line added' };
  }
  if (insertafter !== undefined) {
    // Don't insert the line if it already follows the anchor.
    if (lines.length === index[1]) {
      if (stripEol(lines[index[1] - 1]) !== line) {
        if (lastNeedsNl()) lines[lines.length - 1] += '\n';
        lines.push(`${line}\n`);
        return { lines, changed: true, msg: 'line added' };
      }
      return { lines, changed: false, msg: '' };
    }
    if (stripEol(lines[index[1]]) !== line) {
      lines.splice(index[1], 0, `${line}\n`);
      return { lines, changed: true, msg: 'line added' };
    }
    return { lines, changed: false, msg: '' };
  }
  lines.splice(index[1], 0, `${line}\n`);
  return { lines, changed: true, msg: 'line added' };
}

/** Ansible's absent(): drop every line matching regexp / containing search_string / equal to line. */
export function lineAbsent(input: string[], o: { line?: string; regexp?: RegExp; search?: string }): LineEdit {
  let found = 0;
  const lines = input.filter((l) => {
    const hit = o.regexp
      ? searchLine(o.regexp, l) !== null
      : o.search !== undefined
        ? l.includes(o.search)
        : stripEol(l) === o.line;
    if (hit) found++;
    return !hit;
  });
  return { lines, changed: found > 0, msg: found ? `${found} line(s) removed` : '', found };
}

export const lineinfile: Module<LineArgs, 'file'> = {
  refused: {
    ...fileWriteRefused,
    ...othersRefused,
  },
  schema: {
    type: 'object',
    properties: {
      ...textEditProps,
      ...destfileProp,
      line: { type: 'string' },
      value: { type: 'string' },
      regexp: { type: 'string', minLength: 1 },
      regex: { type: 'string', minLength: 1 },
      search_string: { type: 'string', minLength: 1 },
      backrefs: boolArg,
      firstmatch: boolArg,
    },
    oneOf: onePathOrDestfile,
    allOf: [
      { not: { required: ['insertafter', 'insertbefore'] } },
      { not: { required: ['regexp', 'search_string'] } },
      { not: { required: ['regex', 'search_string'] } },
      {
        if: { properties: { state: { const: 'absent' } }, required: ['state'] },
        then: {
          anyOf: ['line', 'value', 'regexp', 'regex', 'search_string'].map((k) => ({ required: [k] })),
        },
        else: { anyOf: [{ required: ['line'] }, { required: ['value'] }] },
      },
    ],
    additionalProperties: false,
  },

  reads: textEditReads,

  plan(given, ctx, read): Plan {
    const { args, warnings } = foldAliases(given, { regex: 'regexp', value: 'line' });
    const path = editedPath(args);
    const present = (args.state ?? 'present') === 'present';
    const regexp = args.regexp !== undefined ? pyRegex(args.regexp) : undefined;
    const backrefs = toBool(args.backrefs, false);
    const file = textFileOf(read.file, path);
    const { facts } = file;
    // Ansible's checks, in its order, with its rc and msg.
    if (facts.type === 'directory')
      return { changed: false, steps: [], failed: `Path ${path} is a directory !`, result: { rc: 256 } };
    if (present && backrefs && !regexp)
      return { changed: false, steps: [], failed: 'regexp is required with backrefs=true' };
    if (facts.exists && facts.type !== 'file')
      return { changed: false, steps: [], failed: `${path} is a ${facts.type}, not a regular file` };
    if (!facts.exists) {
      if (!present) return { changed: false, steps: [], msg: 'file not present', result: { msg: 'file not present' } };
      if (!toBool(args.create, false))
        return { changed: false, steps: [], failed: `Destination ${path} does not exist !`, result: { rc: 257 } };
    }

    const before = facts.content ?? '';
    const lines = splitLines(before);
    const edit = present
      ? linePresent(lines, {
          line: args.line!,
          regexp,
          search: args.search_string,
          insertafter: args.insertafter,
          insertbefore: args.insertbefore,
          backrefs,
          firstmatch: toBool(args.firstmatch, false),
        })
      : lineAbsent(lines, { line: args.line, regexp, search: args.search_string });
    const after = edit.lines.join('');
    // Ansible's lineinfile says `backup` ("" when none was made), and `found` when removing.
    const result: Record<string, unknown> = { backup: '' };
    if (edit.found !== undefined) result.found = edit.found;
    if (warnings.length) result.warnings = warnings;
    return planText({
      path,
      file,
      after: edit.changed ? after : undefined,
      want: editAttrs(args, file),
      validate: args.validate,
      backup: toBool(args.backup, false) ? 'backup' : undefined,
      msg: edit.msg,
      result,
      edit: { diffMode: Boolean(ctx.diff), check: ctx.check },
    });
  },
};
