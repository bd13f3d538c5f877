// command / shell: run a program on the host, as Ansible 2.14's command module does. `command` execs
// an argv with no shell in between (the words are split here, each one quoted; on the host only `~` and
// set $VARS are expanded in them, as Ansible's Python does); `shell` execs `/bin/sh -c TEXT` (or its
// `executable`). A program that can't be started fails as Python's would (rc 2, "[Errno 2] No such file
// or directory: b'prog'"), with no shell's "command not found".
// Plan: a read when creates/removes (or chdir in check mode) decide, check mode skips, otherwise one step
// whose exit code the module judges itself in `finish` (a non-zero rc yields `failed: true`).
import { shFile } from '../util/sh-file.js';
import { shellJoin, shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Facts, Module, Plan, PlanContext, Reads, Step } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { extractKv, shellSplit } from '../util/words.js';
import { pyOSError, pyQuote, splitLines } from '../util/python.js';

interface CommandArgs {
  _raw?: string;
  cmd?: string;
  argv?: string[];
  creates?: string;
  removes?: string;
  chdir?: string;
  stdin?: string;
  stdin_add_newline?: BoolArg;
  strip_empty_ends?: BoolArg;
  /** shell only: the shell to run the text with (default /bin/sh). */
  executable?: string;
}

// Options Ansible accepts inline in the free-form text (`command: make creates=/x chdir=/src`).
const INLINE_KEYS = [
  'creates',
  'removes',
  'chdir',
  'executable',
  'stdin',
  'stdin_add_newline',
  'strip_empty_ends',
] as const;

const common = {
  _raw: { type: 'string' },
  cmd: { type: 'string', minLength: 1 },
  creates: { type: 'string', minLength: 1 },
  removes: { type: 'string', minLength: 1 },
  chdir: { type: 'string', minLength: 1 },
  stdin: { type: 'string' },
  stdin_add_newline: boolArg,
  strip_empty_ends: boolArg,
};

const commandSchema = {
  type: 'object',
  // executable: accepted and ignored, with Ansible's warning.
  properties: {
    ...common,
    executable: { type: 'string' },
    argv: { type: 'array', items: { type: ['string', 'number'] }, minItems: 1 },
  },
  oneOf: [{ required: ['_raw'] }, { required: ['cmd'] }, { required: ['argv'] }],
  additionalProperties: false,
};

const shellSchema = {
  type: 'object',
  properties: { ...common, executable: { type: 'string', minLength: 1 } },
  oneOf: [{ required: ['_raw'] }, { required: ['cmd'] }],
  additionalProperties: false,
};

/** Free-form text may carry `creates=...` etc.; explicit arguments win over inline ones. */
function normalise(args: CommandArgs): CommandArgs {
  if (args._raw === undefined) return args;
  const { rest, kv } = extractKv(args._raw, INLINE_KEYS);
  const { _raw: _ignored, ...explicit } = args;
  return { ...(kv as Partial<CommandArgs>), ...explicit, cmd: rest };
}

const CREATES_SCRIPT = () => shFile('engine/modules/command/creates.sh');
const EXEC_SCRIPT = () => shFile('engine/modules/command/exec.sh');
const EXPAND_EXEC_SCRIPT = () => shFile('engine/modules/command/exec-expand.sh');

/** What Ansible expands in a path or word on the host (Python's expanduser(expandvars())): ~ and $VARS. */
const expands = (s: string | undefined) => s !== undefined && (s.startsWith('~') || s.includes('$'));

/**
 * One read when the plan depends on the host before running anything: creates/removes, and a chdir in
 * check mode (Ansible enters it even then, and fails when it can't); none otherwise.
 */
function gateReads(raw: CommandArgs, ctx: PlanContext): Reads<'gate'> {
  const args = normalise(raw);
  if (!args.creates && !args.removes && !(ctx.check && args.chdir)) return {};
  const flags = `${expands(args.chdir) ? 'd' : ''}${expands(args.creates) ? 'c' : ''}${expands(args.removes) ? 'r' : ''}`;
  const params = [args.chdir ?? '', args.creates ?? '', args.removes ?? '', flags];
  return { gate: { command: shScript(CREATES_SCRIPT(), params) } };
}

type Gate = { chdirFailed: number; dir: string } | { skip: 'creates' | 'removes' } | undefined;

/** What the gate read found: a directory that can't be entered, or creates/removes saying not to run. */
function gate(r: RunResult | undefined): Gate {
  if (!r) return undefined;
  if (r.code !== 0) throw new Error(`cannot check creates/removes: ${r.stderr.trim() || `exit ${r.code}`}`);
  const m = /^chdir-failed (\d+)\n/.exec(r.stdout);
  if (m) return { chdirFailed: Number(m[1]), dir: r.stdout.slice(m[0].length) };
  if (r.stdout.includes('creates-exists')) return { skip: 'creates' };
  if (r.stdout.includes('removes-absent')) return { skip: 'removes' };
  return undefined;
}

/**
 * The step's command line: exec.sh runs `argv` in `chdir` with no shell in between (each word
 * quoted, never re-parsed), `expand` saying what Ansible expands first (command's words, not shell's).
 */
export function argvCommand(argv: string[], chdir?: string, expand = false): string {
  const flags = `${expands(chdir) ? 'd' : ''}${expand && argv.some(expands) ? 'a' : ''}`;
  if (!flags) return shScript(EXEC_SCRIPT(), [chdir ?? '', ...argv]);
  return shScript(EXPAND_EXEC_SCRIPT(), [chdir ?? '', flags, ...argv]);
}

/** Ansible's printable command line (module_utils' _clean_args): words quoted as shlex, passwords masked. */
export function cleanArgs(argv: string[]): string {
  const out: string[] = [];
  let masked = false;
  for (const a of argv) {
    if (masked) {
      masked = false;
      out.push('********');
    } else if (/^-{0,2}pass-?(word|wd)?/.test(a)) {
      const eq = a.indexOf('=');
      if (eq >= 0) out.push(`${a.slice(0, eq)}=********`);
      else {
        masked = true;
        out.push(a);
      }
    } else out.push(a);
  }
  return out.map(pyQuote).join(' ');
}

/** What exec.sh says when the program could not be started: where, the errno, the words as expanded. */
function cannotRun(out: RunResult): { where: 'chdir' | 'exec'; errno: number; words: string[] } | undefined {
  if (out.code !== 127 || out.stdout !== '') return undefined;
  const m = /^relay-play-exec: (chdir|exec) (\d+)\n/.exec(out.stderr);
  if (!m || !out.stderr.endsWith('\0')) return undefined;
  const words = out.stderr.slice(m[0].length, -1).split('\0');
  return { where: m[1] as 'chdir' | 'exec', errno: Number(m[2]), words };
}

const stripEnds = (s: string, strip: boolean) => (strip ? s.replace(/[\r\n]+$/, '') : s);

/** The fields every result of command/shell has, as Ansible's module starts them. */
const base = (cmd: unknown): Record<string, unknown> => ({
  cmd,
  rc: null,
  stdout: '',
  stderr: '',
  start: null,
  end: null,
  delta: null,
  msg: '',
  stdout_lines: [],
  stderr_lines: [],
});

/** A plan that fails before running anything; its result's msg is the failure, as Ansible's fail_json. */
const failing = (msg: string, result: Record<string, unknown>): Plan => ({
  changed: false,
  steps: [],
  failed: msg,
  result: { ...result, msg },
});

function makePlan(kind: 'command' | 'shell', raw: CommandArgs, ctx: PlanContext, read: Partial<Facts<'gate'>>): Plan {
  const args = normalise(raw);
  let cmdShown: string | string[];
  let argv: string[];
  const warnings: string[] = [];
  if (kind === 'command') {
    if (args.argv && args.cmd !== undefined)
      return failing('only command or argv can be given, not both', { ...base(null), rc: 256 });
    argv = args.argv ? args.argv.map(String) : shellSplit(args.cmd ?? '');
    if (!argv.length) return failing('no command given', { ...base(null), rc: 256 });
    cmdShown = argv;
    if (args.executable)
      warnings.push(
        `As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '${args.executable}'.`,
      );
  } else {
    const text = args.cmd ?? '';
    if (!text.trim()) return failing('no command given', { ...base(null), rc: 256 });
    cmdShown = text;
    argv = [args.executable ?? '/bin/sh', '-c', text];
  }
  const line = argvCommand(argv, args.chdir, kind === 'command');
  const extra = warnings.length ? { warnings } : {};

  const g = gate(read.gate);
  if (g && 'chdirFailed' in g)
    return failing(`Unable to change directory before execution: ${pyOSError(g.chdirFailed, g.dir)}`, {
      ...base(cmdShown),
      ...extra,
    });
  if (g) {
    const path = g.skip === 'creates' ? args.creates : args.removes;
    const what = g.skip === 'creates' ? 'exists' : 'does not exist';
    const stdout = `skipped, since ${path} ${what}`;
    const msg = `${ctx.check ? 'Would' : 'Did'} not run command since '${path}' ${what}`;
    return {
      changed: false,
      steps: [],
      msg,
      result: { ...base(cmdShown), rc: 0, stdout, stdout_lines: [stdout], msg, ...extra },
    };
  }

  let stdin: string | undefined;
  // As Python's run_command: an empty stdin sends nothing, not even the newline.
  if (args.stdin) stdin = args.stdin + (toBool(args.stdin_add_newline, true) ? '\n' : '');
  const step: Step = {
    describe: `${kind}: ${Array.isArray(cmdShown) ? shellJoin(cmdShown) : cmdShown}`,
    command: line,
    ...(stdin !== undefined ? { stdin } : {}),
  };

  if (ctx.check) {
    // As Ansible: with creates/removes the module can tell it would run; without, it cannot know.
    const msg = 'Command would have run if not in check mode';
    const result = { ...base(cmdShown), rc: 0, msg, ...extra };
    if (args.creates || args.removes) return { changed: true, steps: [step], msg, result };
    return { changed: false, skipped: true, steps: [], msg, result };
  }

  const strip = toBool(args.strip_empty_ends, true);
  // start/end/delta as Ansible reports them, measured here around the step's round trip.
  const start = new Date();
  return {
    changed: true,
    steps: [step],
    acceptNonZero: true,
    result: { ...base(cmdShown), ...extra },
    finish(outputs: RunResult[]) {
      const out = outputs[0] ?? { code: 255, stdout: '', stderr: 'the command did not run' };
      const cannot = cannotRun(out);
      if (cannot?.where === 'chdir')
        return {
          changed: false,
          failed: true,
          msg: `Unable to change directory before execution: ${pyOSError(cannot.errno, cannot.words[0] ?? '')}`,
        };
      if (cannot)
        // As Python's subprocess: the program could not be started; Ansible reports the errno as rc.
        return {
          changed: false,
          failed: true,
          rc: cannot.errno,
          cmd: cleanArgs(cannot.words),
          msg: pyOSError(cannot.errno, cannot.words[0] ?? ''),
        };
      const stdout = stripEnds(out.stdout, strip);
      const stderr = stripEnds(out.stderr, strip);
      const end = new Date();
      const res: Record<string, unknown> = {
        rc: out.code,
        stdout,
        stderr,
        stdout_lines: splitLines(stdout),
        stderr_lines: splitLines(stderr),
        start: ansibleTime(start),
        end: ansibleTime(end),
        delta: ansibleDelta(end.getTime() - start.getTime()),
        msg: '',
      };
      if (out.code !== 0) Object.assign(res, { failed: true, msg: 'non-zero return code' });
      return res;
    },
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** "2026-11-27 09:30:00.123000", local time, as Ansible prints it. */
const ansibleTime = (d: Date) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`;
/** "0:00:01.250000" */
const ansibleDelta = (ms: number) =>
  `${Math.floor(ms / 3_600_000)}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}000`;

export const command: Module<CommandArgs, 'gate'> = {
  schema: commandSchema,
  freeForm: true,
  reads: gateReads,
  plan: (args, ctx, read) => makePlan('command', args, ctx, read),
};

export const shell: Module<CommandArgs, 'gate'> = {
  schema: shellSchema,
  freeForm: true,
  reads: gateReads,
  plan: (args, ctx, read) => makePlan('shell', args, ctx, read),
};
