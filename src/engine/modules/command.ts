// command / shell: run a program on the host. `command` runs an argv without any shell processing
// (the words are split here, each one quoted); `shell` hands its text to `sh -c`.
// Plan: creates/removes decide (one read), check mode skips, otherwise one step whose exit code
// the module judges itself in `finish` (a non-zero rc yields `failed: true` in the result).
import { shFile } from '../util/sh-file.js';
import { shellJoin, shScript, shq } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Facts, Module, Plan, PlanContext, Reads, Step } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { extractKv, shellSplit } from '../util/words.js';

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
  properties: { ...common, argv: { type: 'array', items: { type: ['string', 'number'] }, minItems: 1 } },
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

// `exists PATTERN`: glob like Ansible's creates/removes (relative to chdir). IFS= keeps the pattern
// one word; an unquoted parameter is globbed but never re-parsed as shell code.
const CREATES_SCRIPT = () => shFile('engine/modules/command/creates.sh');

/** creates/removes: one read of whether those paths exist; none without them. */
function gateReads(raw: CommandArgs): Reads<'gate'> {
  const args = normalise(raw);
  if (!args.creates && !args.removes) return {};
  return { gate: { command: shScript(CREATES_SCRIPT(), [args.chdir ?? '', args.creates ?? '', args.removes ?? '']) } };
}

/** Why creates/removes skip the command, if they do. */
function gate(args: CommandArgs, r: RunResult | undefined): string | undefined {
  if (!r) return undefined;
  if (r.code !== 0) throw new Error(`cannot check creates/removes: ${r.stderr.trim() || `exit ${r.code}`}`);
  if (r.stdout.includes('creates-exists')) return `skipped, since ${args.creates} exists`;
  if (r.stdout.includes('removes-absent')) return `skipped, since ${args.removes} does not exist`;
  return undefined;
}

const RESERVED = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'case',
  'esac',
  'while',
  'until',
  'for',
  'in',
  'function',
  'select',
  'time',
]);

/** The command line for an argv: each word quoted; run via `exec "$@"` when a word could still be syntax. */
export function argvCommand(argv: string[], chdir?: string): string {
  if (chdir !== undefined) return shScript('cd -- "$1" || exit 1; shift; exec "$@"', [chdir, ...argv]);
  const first = argv[0];
  // An unquoted first word that looks like an assignment or a reserved word would be shell syntax.
  if (shq(first) === first && (first.includes('=') || RESERVED.has(first))) return shScript('exec "$@"', argv);
  return shellJoin(argv);
}

function shellCommand(text: string, executable: string, chdir?: string): string {
  if (chdir !== undefined) return shScript('cd -- "$1" || exit 1; exec "$2" -c "$3"', [chdir, executable, text]);
  return shellJoin([executable, '-c', text]);
}

const stripEnds = (s: string, strip: boolean) => (strip ? s.replace(/[\r\n]+$/, '') : s);
const lines = (s: string) => (s === '' ? [] : s.split(/\r?\n/));

function makePlan(kind: 'command' | 'shell', raw: CommandArgs, ctx: PlanContext, read: Partial<Facts<'gate'>>): Plan {
  {
    const args = normalise(raw);
    let cmdShown: string | string[];
    let line: string;
    if (kind === 'command') {
      const argv = args.argv ? args.argv.map(String) : shellSplit(args.cmd ?? '');
      if (!argv.length) return { changed: false, steps: [], failed: 'no command given' };
      cmdShown = argv;
      line = argvCommand(argv, args.chdir);
    } else {
      const text = args.cmd ?? '';
      if (!text.trim()) return { changed: false, steps: [], failed: 'no command given' };
      cmdShown = text;
      line = shellCommand(text, args.executable ?? '/bin/sh', args.chdir);
    }

    const skipMsg = gate(args, read.gate);
    if (skipMsg)
      return {
        changed: false,
        steps: [],
        msg: skipMsg,
        result: { cmd: cmdShown, rc: 0, stdout: skipMsg, stdout_lines: [skipMsg], stderr: '', stderr_lines: [] },
      };

    let stdin: string | undefined;
    if (args.stdin !== undefined) stdin = args.stdin + (toBool(args.stdin_add_newline, true) ? '\n' : '');
    const step: Step = {
      describe: `${kind}: ${Array.isArray(cmdShown) ? shellJoin(cmdShown) : cmdShown}`,
      command: line,
      ...(stdin !== undefined ? { stdin } : {}),
    };

    if (ctx.check) {
      // As Ansible: with creates/removes the module can tell it would run; without, it cannot know.
      if (args.creates || args.removes)
        return {
          changed: true,
          steps: [step],
          msg: 'Command would have run if not in check mode',
          result: { cmd: cmdShown },
        };
      return { changed: false, skipped: true, steps: [], msg: 'skipped in check mode', result: { cmd: cmdShown } };
    }

    const strip = toBool(args.strip_empty_ends, true);
    // start/end/delta as Ansible reports them, measured here around the step's round trip.
    const start = new Date();
    return {
      changed: true,
      steps: [step],
      acceptNonZero: true,
      result: { cmd: cmdShown },
      finish(outputs: RunResult[]) {
        const out = outputs[0] ?? { code: 255, stdout: '', stderr: 'the command did not run' };
        const stdout = stripEnds(out.stdout, strip);
        const stderr = stripEnds(out.stderr, strip);
        const end = new Date();
        const res: Record<string, unknown> = {
          cmd: cmdShown,
          rc: out.code,
          stdout,
          stderr,
          stdout_lines: lines(stdout),
          stderr_lines: lines(stderr),
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
