// sysctl: a kernel parameter in a sysctl file (and, with sysctl_set, in the running kernel), exactly as
// ansible.posix.sysctl decides it: the file's lines rewritten the way it rewrites them (stripped, `k=v`,
// a key once), changed when the file's value differs or the running value does, then `sysctl -p FILE`.
// One read (the running value, the file), one step.
import { shFile } from '../util/sh-file.js';
import { shellJoin, shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { ansibleBool, toBool } from '../util/bool.js';
import { contentDiff, fileFactsOf, fileFactsRead } from './lib/files.js';

interface SysctlArgs {
  name?: string;
  key?: string;
  value?: string | number | boolean;
  val?: string | number | boolean;
  state?: 'present' | 'absent';
  reload?: BoolArg;
  sysctl_set?: BoolArg;
  ignoreerrors?: BoolArg;
  sysctl_file?: string;
}

const SCRIPT = () => shFile('engine/modules/sysctl.sh');

/** Ansible's _parse_value: the value as a string, a boolean's spellings as 1 and 0, stripped. */
function parseValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  const b = ansibleBool(s);
  return b === undefined ? s.trim() : b ? '1' : '0';
}

const sameWords = (a: string | undefined, b: string) => {
  if (a === undefined) return false;
  const x = a.split(/\s+/).filter(Boolean);
  const y = b.split(/\s+/).filter(Boolean);
  return x.length === y.length && x.every((w, i) => w === y[i]);
};

/** The file's lines as Ansible rewrites them, and the value it held for `name` (undefined: none). */
export function sysctlLines(
  content: string,
  name: string,
  value: string,
  present: boolean,
): { text: string; had: string | undefined } {
  const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n');
  const values = new Map<string, string>();
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || !line.includes('=')) {
      out.push(line);
      continue;
    }
    const k = line.slice(0, line.indexOf('=')).trim();
    const v = line.slice(line.indexOf('=') + 1).trim();
    values.set(k, v);
    if (seen.has(k)) continue;
    seen.add(k);
    if (k === name) {
      if (present) out.push(`${k}=${value}`);
    } else out.push(`${k}=${v}`);
  }
  if (!seen.has(name) && present) out.push(`${name}=${value}`);
  return { text: out.map((l) => `${l}\n`).join(''), had: values.get(name) };
}

export const sysctl: Module<SysctlArgs, 'proc' | 'file'> = {
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      key: { type: 'string', minLength: 1 },
      value: { type: ['string', 'number', 'boolean'] },
      val: { type: ['string', 'number', 'boolean'] },
      state: { enum: ['present', 'absent'] },
      reload: boolArg,
      sysctl_set: boolArg,
      ignoreerrors: boolArg,
      sysctl_file: { type: 'string', minLength: 1 },
    },
    oneOf: [{ required: ['name'] }, { required: ['key'] }],
    allOf: [
      { not: { required: ['value', 'val'] } },
      {
        if: { not: { properties: { state: { const: 'absent' } }, required: ['state'] } },
        then: { anyOf: [{ required: ['value'] }, { required: ['val'] }] },
      },
    ],
    additionalProperties: false,
  },

  reads: (args) => ({
    proc: { command: shellJoin(['sysctl', '-e', '-n', (args.name ?? args.key)!.trim()]) },
    file: fileFactsRead(args.sysctl_file ?? '/etc/sysctl.conf', { content: true }),
  }),

  plan(args, _ctx, read): Plan {
    const name = (args.name ?? args.key)!.trim();
    const present = (args.state ?? 'present') === 'present';
    const value = parseValue(args.value ?? args.val);
    if (present && value === '') return { changed: false, steps: [], failed: 'value cannot be blank', result: {} };
    const path = args.sysctl_file ?? '/etc/sysctl.conf';
    const reload = toBool(args.reload, true);
    const ignore = toBool(args.ignoreerrors, false);
    const proc = read.proc.code === 0 ? read.proc.stdout : undefined;
    const file = fileFactsOf(read.file, path, { content: true });
    const before = file.type === 'file' ? (file.content ?? '') : '';
    const { text, had } = sysctlLines(before, name, value, present);

    let changed = false;
    let write = false;
    let set = false;
    if (had === undefined) {
      changed = write = present;
    } else if (!present) {
      changed = write = had !== '';
    } else if (had !== value) {
      changed = write = true;
    } else if (reload && !sameWords(proc, value)) {
      changed = true;
    }
    if (toBool(args.sysctl_set, false) && present && !sameWords(proc, value)) {
      changed = true;
      set = proc !== undefined;
    }
    const diff = write ? [contentDiff(path, before, text)] : [];
    if (!changed) return { changed: false, steps: [], result: {} };
    return {
      changed: true,
      steps: [
        {
          describe: `sysctl ${name}`,
          command: shScript(SCRIPT(), [
            name,
            value,
            set ? 'set' : '',
            write ? 'write' : '',
            path,
            Buffer.byteLength(text),
            reload ? 'reload' : '',
            ignore ? 'ignore' : '',
          ]),
          ...(write ? { stdin: text } : {}),
        },
      ],
      diff,
      result: {},
      acceptNonZero: true,
      finish(outputs: RunResult[]) {
        const out = outputs[0];
        // As Ansible's module: its fail_json says nothing of changed, so the task changed nothing,
        // even when the file was written before the reload was refused.
        return out && out.code !== 0 ? { failed: true, changed: false, msg: out.stdout || out.stderr } : {};
      },
    };
  },
};
