// The options commands share, defined once; each command picks the ones it supports.
import { InvalidArgumentError, type Command } from 'commander';
import type { Extensions } from '../runner/extensions.js';
import type { LockSpec } from '../runner/lock.js';
import type { RunnerOptions } from '../runner/play.js';

export const collect = (v: string, prev: string[]) => [...prev, v];

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
};

export interface CommonOptions {
  check?: boolean;
  diff?: boolean;
  limit?: string;
  forks: number;
  json?: boolean;
  verbose: number;
  acceptNewHostKeys?: boolean;
  lockWait: number;
  /** `-e` / `--extra-vars` as given, read by ./extra-vars.ts. */
  extraVars?: string[];
}

export const OPTIONS = {
  check: (c: Command) => c.option('-C, --check', "don't change anything; report what would change"),
  diff: (c: Command) => c.option('-D, --diff', 'show the differences in files that change (or would change)'),
  limit: (c: Command) =>
    c.option('-l, --limit <pattern>', 'only run on hosts matching this pattern (e.g. "rpi1:laptop", "devices:!rpi2")'),
  forks: (c: Command) => c.option('-f, --forks <n>', 'how many hosts run at once', positiveInt, 20),
  json: (c: Command) =>
    c.option(
      '--json',
      'print one JSON object (like ansible-playbook with the json callback) and nothing else on stdout',
    ),
  verbose: (c: Command) =>
    c.option('-v, --verbose', 'more output (repeat for more)', (_v, prev: number) => prev + 1, 0),
  keys: (c: Command) =>
    c.option(
      '--accept-new-host-keys',
      'trust and record host keys not yet in ~/.ssh/known_hosts (a changed key is still refused)',
    ),
  extraVars: (c: Command) =>
    c.option(
      '-e, --extra-vars <vars>',
      'variables over all others: key=value words, {...} YAML/JSON, or @FILE (repeatable)',
      collect,
      [],
    ),
  lockWait: (c: Command) =>
    c.option('--lock-wait <seconds>', 'how long to wait for another run on the same relay to finish', positiveInt, 120),
};

export function withOptions(cmd: Command, names: (keyof typeof OPTIONS)[]): Command {
  return names.reduce((c, n) => OPTIONS[n](c), cmd);
}

export const RUN_OPTIONS: (keyof typeof OPTIONS)[] = ['check', 'diff', 'limit', 'forks', 'json', 'verbose', 'keys'];

/** The runner's options from a command's: its extensions, and a run lock when the command takes one. */
export function runnerOptions(opts: CommonOptions, extensions: Extensions, locks?: LockSpec[]): RunnerOptions {
  return {
    check: Boolean(opts.check),
    diff: Boolean(opts.diff),
    limit: opts.limit,
    forks: opts.forks ?? 20,
    acceptNewHostKeys: Boolean(opts.acceptNewHostKeys),
    ...(locks?.length ? { locks } : {}),
    extensions,
  };
}
