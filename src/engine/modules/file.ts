// file: make a path a directory, a (touched) file, or absent, with owner/group/mode.
// One read: the path (following a symlink to its target, as Ansible's follow=yes) and, for
// state=directory, each ancestor — so the directories mkdir will create get the attributes too.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { FileDiff, Module, Plan, Step } from './types.js';
import { attrChanges, attrDiff, attrSteps, parseFileFacts, type Attrs, type FileFacts } from './lib/files.js';
import { attrProps, modeString, onePathAlias, pathAliasProps } from './lib/schema.js';
import { fieldsDiff } from './lib/state-diff.js';

type State = 'file' | 'directory' | 'absent' | 'touch';

interface FileArgs {
  path?: string;
  dest?: string;
  name?: string;
  state?: State;
  owner?: string;
  group?: string;
  mode?: string | number;
}

const SCRIPT = () => shFile('engine/modules/file.sh');

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

const kindOf = (f: FileFacts): string => (!f.exists ? 'absent' : f.type === 'other' ? 'other' : f.type!);
const attrLines = (a: Attrs) => ({ owner: a.owner, group: a.group, mode: a.mode });

/** The path (normalised), the state wanted, and the ancestors a directory's creation must look at. */
function wanted(args: FileArgs): { path: string; state: State; anc: string[] } {
  const path = normPath((args.path ?? args.dest ?? args.name)!);
  const state: State = args.state ?? 'file';
  return { path, state, anc: state === 'directory' ? ancestors(path) : [] };
}

export const file: Module<FileArgs, 'stat'> = {
  schema: {
    type: 'object',
    properties: {
      ...pathAliasProps,
      state: { enum: ['file', 'directory', 'absent', 'touch'] },
      ...attrProps,
    },
    oneOf: onePathAlias,
    additionalProperties: false,
  },

  reads(args) {
    const { path, anc } = wanted(args);
    return { stat: { command: shScript(SCRIPT(), [path, ...anc]) } };
  },

  plan(args, _ctx, read): Plan {
    const { path, state, anc } = wanted(args);
    const want: Attrs = { owner: args.owner, group: args.group, mode: modeString(args.mode) };
    const r = read.stat;
    if (r.code !== 0) throw new Error(`cannot stat ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
    const out = r.stdout.split('\n');
    if (out[out.length - 1] === '') out.pop();
    const own = parseFileFacts(out[0]);
    let target = own;
    let real = path;
    let dangling = false;
    if (own.type === 'link') {
      real = Buffer.from(out[1] ?? '', 'base64').toString('utf8') || path;
      target = parseFileFacts(out[2] ?? 'absent');
      dangling = !target.exists;
    }
    const ancState = out.slice(out.length - anc.length);

    const before = kindOf(target);
    const result = (after: Record<string, unknown>) => ({ path, state, ...after });
    const fail = (msg: string): Plan => ({ changed: false, steps: [], failed: msg, result: { path, state } });

    if (state === 'absent') {
      if (path === '/') return fail('refusing to remove /');
      if (!own.exists) return { changed: false, steps: [], result: result({}) };
      return {
        changed: true,
        steps: [{ describe: `remove ${path}`, command: shScript('rm -rf -- "$1"', [path]) }],
        diff: [fieldsDiff(path, { path, state: kindOf(own) }, { path, state: 'absent' })!],
        result: result({}),
      };
    }

    if (dangling) return fail(`${path} is a symlink to a missing target (${real})`);

    const attrsAfter = (f: FileFacts): Attrs => ({
      owner: want.owner ?? f.owner,
      group: want.group ?? f.group,
      mode: want.mode ?? f.mode,
    });
    const fixAttrs = (kind: string): Plan => {
      const changes = attrChanges(target, want);
      const steps = attrSteps(real, changes);
      const d = attrDiff(path, target, changes);
      return {
        changed: steps.length > 0,
        steps,
        diff: d ? [d] : [],
        result: result({ ...attrsAfter(target), state: kind }),
      };
    };
    const created = (kind: string, steps: Step[]): Plan => ({
      changed: true,
      steps,
      diff: [fieldsDiff(path, { path, state: 'absent' }, { path, state: kind, ...attrLines(want) }) as FileDiff],
      result: result({ ...attrLines(want) }),
    });

    switch (state) {
      case 'file':
        if (!target.exists) return fail(`file (${path}) is absent, cannot continue`);
        if (target.type !== 'file') return fail(`file (${path}) is ${before}, cannot continue`);
        return fixAttrs('file');

      case 'touch':
        if (target.exists) return fixAttrs(before === 'directory' ? 'directory' : 'file');
        return created('file', [
          { describe: `touch ${path}`, command: shScript('touch -- "$1"', [real]) },
          ...attrSteps(real, want),
        ]);

      case 'directory': {
        if (target.exists) {
          if (target.type !== 'directory') return fail(`${path} already exists as a ${before}, not a directory`);
          return fixAttrs('directory');
        }
        const blocked = anc.findIndex((_, i) => ancState[i] === 'f');
        if (blocked >= 0) return fail(`cannot create ${path}: ${anc[blocked]} exists and is not a directory`);
        // As Ansible: every directory this creates gets the owner/group/mode.
        const missing = [...anc.filter((_, i) => ancState[i] === '-'), real];
        return created('directory', [
          { describe: `mkdir -p ${path}`, command: shScript('mkdir -p -- "$1"', [real]) },
          ...missing.flatMap((d) => attrSteps(d, want)),
        ]);
      }
    }
  },
};
