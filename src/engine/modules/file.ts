// file: make a path a directory, a (touched) file, or absent, with owner/group/mode.
// One read: the path (following a symlink to its target, as Ansible's follow=yes) and, for
// state=directory, each ancestor — so the directories mkdir will create get the attributes too.
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import type { FileDiff, Module, Plan, Step } from './types.js';
import type { RunResult } from '../connection/types.js';
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
    const fail = (msg: string): Plan => ({
      changed: false,
      steps: [],
      failed: msg,
      result: { path, state: before === 'file' || before === 'directory' ? before : 'absent' },
    });

    if (state === 'absent') {
      if (path === '/') return fail('refusing to remove /');
      if (!own.exists) return { changed: false, steps: [], result: { path, state: 'absent' } };
      const was = { path, state: kindOf(own) };
      return {
        changed: true,
        steps: [{ describe: `remove ${path}`, command: shScript('rm -rf -- "$1"', [path]) }],
        diff: [fieldsDiff(path, was, { path, state: 'absent' })!],
        result: { path, state: 'absent', diff: { before: was, after: { path, state: 'absent' } } },
      };
    }

    if (dangling) return fail(`${path} is a symlink to a missing target (${real})`);

    // As Ansible's file module: the path's owner, group, mode and size as they end up, under `path`
    // (`dest` for touch), with its diff of what it changed. Known from the read when nothing changes;
    // otherwise from a stat after the steps, in their round trip.
    const key = state === 'touch' ? 'dest' : 'path';
    const factsOf = (f: FileFacts) => ({
      uid: f.uid,
      gid: f.gid,
      owner: f.owner,
      group: f.group,
      mode: f.mode,
      size: f.size,
    });
    const statAfter: Step = {
      describe: `stat ${path}`,
      command: shScript(`stat -c 'after=%u|%g|%U|%G|%a|%s' -- "$1"`, [real]),
    };
    const finish = (outputs: RunResult[]) => {
      const m = /^after=(\d+)\|(\d+)\|([^|]*)\|([^|]*)\|([0-7]+)\|(\d+)$/m.exec(
        outputs[outputs.length - 1]?.stdout ?? '',
      );
      if (!m) return {};
      return { uid: +m[1], gid: +m[2], owner: m[3], group: m[4], mode: m[5].padStart(4, '0'), size: +m[6] };
    };
    const fixAttrs = (kind: string): Plan => {
      const changes = attrChanges(target, want);
      const steps = attrSteps(real, changes);
      const d = attrDiff(path, target, changes);
      const modeDiff = changes.mode ? { mode: target.mode } : {};
      const result = {
        [key]: path,
        ...factsOf(target),
        ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
        state: kind,
        diff: {
          before: { path, ...modeDiff, ...(state === 'touch' ? { state: before } : {}) },
          after: {
            path,
            ...(changes.mode ? { mode: changes.mode } : {}),
            ...(state === 'touch' ? { state: 'touch' } : {}),
          },
        },
      };
      return { changed: steps.length > 0, steps, diff: d ? [d] : [], result };
    };
    const created = (kind: string, steps: Step[]): Plan => {
      // Ansible shows the mode a new path had before its chmod: the default's.
      const fresh = kind === 'directory' ? '0755' : '0644';
      const m = want.mode ? { mode: fresh } : {};
      return {
        changed: true,
        steps: [...steps, statAfter],
        diff: [fieldsDiff(path, { path, state: 'absent' }, { path, state: kind, ...attrLines(want) }) as FileDiff],
        result: {
          [key]: path,
          state: kind === 'touch' ? 'file' : kind,
          ...attrLines(want),
          diff: {
            before: { path, state: 'absent', ...m },
            after: { path, state: kind, ...(want.mode ? { mode: want.mode } : {}) },
          },
        },
        finish,
      };
    };

    switch (state) {
      case 'file':
        if (!target.exists) return fail(`file (${path}) is absent, cannot continue`);
        if (target.type !== 'file') return fail(`file (${path}) is ${before}, cannot continue`);
        return fixAttrs('file');

      case 'touch':
        if (target.exists) return fixAttrs(before === 'directory' ? 'directory' : 'file');
        return created('touch', [
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
