// replace: every match of a Python regular expression (multiline) in a file replaced, optionally only
// between `after` and `before`, computed in memory exactly like Ansible's module and written atomically
// only when the content differs. One read (the file, through a symlink), one write.
import type { Module, Plan } from './types.js';
import { pyExpand, pyRegex } from '../util/pyre.js';
import {
  attrProps,
  boolArg,
  modeString,
  type BoolArg,
  othersRefused,
  unsafeWritesArg,
  fileWriteRefused,
} from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { planText, textFileRead, textFileOf } from './lib/text-file.js';

interface ReplaceArgs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  regexp: string;
  replace?: string;
  after?: string;
  before?: string;
  backup?: BoolArg;
  validate?: string;
  encoding?: string;
  owner?: string;
  group?: string;
  mode?: string | number;
}

const pathOf = (a: ReplaceArgs) => (a.path ?? a.dest ?? a.destfile ?? a.name)!;

/** Python's re.subn(pattern, repl, text) with `re` compiled MULTILINE: the new text and the count. */
export function pySubn(pattern: string, repl: string, text: string): { text: string; count: number } {
  const re = pyRegex(pattern, 'regexp', { multiline: true });
  const g = new RegExp(re.source, `${re.flags}g`);
  let out = '';
  let last = 0;
  let count = 0;
  for (const m of text.matchAll(g)) {
    out += text.slice(last, m.index) + pyExpand(repl, m as RegExpExecArray);
    last = m.index + m[0].length;
    count++;
  }
  return { text: out + text.slice(last), count };
}

export const replace: Module<ReplaceArgs, 'file'> = {
  refused: {
    ...fileWriteRefused,
    ...othersRefused,
  },
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      unsafe_writes: unsafeWritesArg,
      dest: { type: 'string', minLength: 1 },
      destfile: { type: 'string', minLength: 1 },
      name: { type: 'string', minLength: 1 },
      regexp: { type: 'string' },
      replace: { type: 'string' },
      after: { type: 'string' },
      before: { type: 'string' },
      backup: boolArg,
      validate: { type: 'string' },
      encoding: { type: 'string', pattern: '^(?:[Uu][Tt][Ff]-?8|[Aa][Ss][Cc][Ii][Ii])$' },
      ...attrProps,
    },
    required: ['regexp'],
    oneOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['destfile'] }, { required: ['name'] }],
    additionalProperties: false,
  },

  reads: (args) => ({ file: textFileRead(pathOf(args)) }),

  plan(args, _ctx, read): Plan {
    const path = pathOf(args);
    const file = textFileOf(read.file, path);
    const { facts } = file;
    if (facts.exists && facts.type === 'directory')
      return { changed: false, steps: [], failed: `Path ${path} is a directory !`, result: { rc: 256 } };
    if (!facts.exists)
      return { changed: false, steps: [], failed: `Path ${path} does not exist !`, result: { rc: 257 } };
    const contents = facts.content ?? '';

    // The section replaced in: between `after` and `before` (Python's re.DOTALL, the first match).
    let section = contents;
    let span: [number, number] | undefined;
    let pattern = '';
    if (args.after && args.before) pattern = `${args.after}(?P<subsection>.*?)${args.before}`;
    else if (args.after) pattern = `${args.after}(?P<subsection>.*)`;
    else if (args.before) pattern = `(?P<subsection>.*)${args.before}`;
    if (pattern) {
      const re = pyRegex(pattern, 'after/before', { dotall: true });
      const dotall = new RegExp(re.source, `${re.flags}d`);
      const m = dotall.exec(contents);
      if (!m)
        return {
          changed: false,
          steps: [],
          msg: `Pattern for before/after params did not match the given file: ${pattern}`,
          result: { rc: 0 },
        };
      section = m.groups!.subsection;
      span = m.indices!.groups!.subsection;
    }

    const sub = pySubn(args.regexp, args.replace ?? '', section);
    const changed = sub.count > 0 && sub.text !== section;
    const after = changed
      ? span
        ? contents.slice(0, span[0]) + sub.text + contents.slice(span[1])
        : sub.text
      : undefined;
    return planText({
      path,
      file,
      after,
      want: { owner: args.owner, group: args.group, mode: modeString(args.mode) },
      validate: args.validate,
      backup: toBool(args.backup, false) ? 'backup_file' : undefined,
      msg: changed ? `${sub.count} replacements made` : undefined,
      result: { rc: 0, msg: '' },
    });
  },
};
