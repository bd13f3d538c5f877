// script: a script of this machine run on the host with its arguments, as Ansible's script action runs
// it: creates/removes first (one read), chdir absolute, then the file — sent on the exec's standard
// input, never on a command line — saved in a temporary directory and run (by `executable`, or its
// shebang) on a terminal by a shell that reads the rest of the free-form text, as Ansible's does.
// Check mode: skipped, or only `changed` when creates/removes decided, as Ansible's.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { shFile } from '../util/sh-file.js';
import { shq, shScript } from '../util/quote.js';
import { extractKv, shellSplit } from '../util/words.js';
import type { RunResult } from '../connection/types.js';
import { terminalResult } from './lib/terminal.js';
import { readOutput, type Module, type Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';

interface ScriptArgs {
  _raw?: string;
  cmd?: string;
  chdir?: string;
  creates?: string;
  removes?: string;
  executable?: string;
  decrypt?: BoolArg;
}

const SCRIPT = () => shFile('engine/modules/script.sh');
/** What Ansible's action failures (AnsibleActionFail) carry as `exception`: Python's traceback of none. */
const NO_EXCEPTION = 'NoneType: None\n';
const GATE =
  '[ -n "$1" ] && [ -e "$1" ] && echo creates-exists; [ -n "$2" ] && ! [ -e "$2" ] && echo removes-absent; :';

/** Free-form text may carry chdir=, creates=, removes=, executable=; explicit arguments win. */
function normalise(args: ScriptArgs): ScriptArgs & { text: string } {
  if (args._raw === undefined) return { ...args, text: (args.cmd ?? '').trim() };
  const { rest, kv } = extractKv(args._raw, ['chdir', 'creates', 'removes', 'executable']);
  const { _raw: _ignored, ...explicit } = args;
  return { ...kv, ...explicit, text: rest.trim() };
}

export const script: Module<ScriptArgs, 'gate'> = {
  freeForm: true,
  schema: {
    type: 'object',
    properties: {
      _raw: { type: 'string' },
      cmd: { type: 'string', minLength: 1 },
      chdir: { type: 'string', minLength: 1 },
      creates: { type: 'string', minLength: 1 },
      removes: { type: 'string', minLength: 1 },
      executable: { type: 'string', minLength: 1 },
      decrypt: boolArg,
    },
    oneOf: [{ required: ['_raw'] }, { required: ['cmd'] }],
    additionalProperties: false,
  },

  reads(args0) {
    const args = normalise(args0);
    if (!args.creates && !args.removes) return {};
    return { gate: { command: shScript(GATE, [args.creates ?? '', args.removes ?? '']) } };
  },

  plan(args0, ctx, read): Plan {
    const args = normalise(args0);
    if (args.creates || args.removes) {
      const gate = readOutput(read.gate, 'creates/removes');
      if (gate.includes('creates-exists'))
        return { changed: false, skipped: true, steps: [], msg: `${args.creates} exists, matching creates option` };
      if (gate.includes('removes-absent'))
        return {
          changed: false,
          skipped: true,
          steps: [],
          msg: `${args.removes} does not exist, matching removes option`,
        };
    }
    if (args.chdir && !args.chdir.startsWith('/'))
      return {
        changed: false,
        steps: [],
        failed: `chdir ${args.chdir} must be an absolute path for a Unix-aware remote node`,
        result: { exception: NO_EXCEPTION },
      };
    let words: string[];
    try {
      words = shellSplit(args.text);
    } catch (e) {
      return { changed: false, steps: [], failed: (e as Error).message };
    }
    if (!words.length) return { changed: false, steps: [], failed: 'no script given' };
    const local = ctx.resolveLocal(words[0], 'files');
    const body = readFileSync(local, 'utf8');
    if (ctx.check) {
      if (args.creates || args.removes) return { changed: true, steps: [] };
      return { changed: false, skipped: true, steps: [], msg: 'Check mode is not supported for this task.' };
    }
    const name = basename(local).replace(/[^A-Za-z0-9._-]/g, '_');
    // As Ansible: `cd DIR && [executable] TEXT`, every occurrence of the script's name in TEXT its path there.
    const before = `${args.chdir ? `cd ${shq(args.chdir)} && ` : ''}${args.executable ? `${args.executable} ` : ''}`;
    return {
      changed: true,
      steps: [
        {
          describe: `script ${words[0]}`,
          command: shScript(SCRIPT(), [name, before, ...args.text.split(words[0])]),
          stdin: body,
        },
      ],
      acceptNonZero: true,
      finish(outputs: RunResult[]) {
        const res = terminalResult(outputs[0] ?? { code: 255, stdout: '', stderr: 'the script did not run' });
        // Ansible's action failures carry the traceback of no exception.
        if (res.failed) res.exception = NO_EXCEPTION;
        return res;
      },
    };
  },
};
