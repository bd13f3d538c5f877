// The module contract. A module says what it must read from the host (reads: data derived from its
// arguments, as pyinfra's facts are), and plans from what was read (plan: no I/O on the host). The
// runner alone reads (batched, cached and invalidated in one place: src/engine/runner/read-cache.ts)
// and applies plans, never in check mode — so no module can forget check mode.
import type { FileDiff } from '../util/diff.js';
import type { Connection, RunResult, Via } from '../connection/types.js';

/** One thing a module reads from the host: a read-only command line (built with shellJoin/shScript). */
export interface Read {
  command: string;
  /** Run as root (true) or as the login user (false) whatever the task's become; default: as the task runs. */
  become?: boolean;
}

/** A module's reads, by the names its plan finds their results under. */
export type Reads<K extends string = string> = Partial<Record<K, Read>>;
/** What the reads printed, by their names. */
export type Facts<K extends string = string> = Readonly<Record<K, RunResult>>;

/** What a module knows of the task while it names its reads and plans (no access to the host). */
export interface PlanContext {
  host: string;
  check: boolean;
  /** Diff mode (--diff, or the task's `diff:`): some results carry the contents then, as Ansible's. */
  diff?: boolean;
  /** The task's become setting; reads of root-only files need it. */
  become: boolean;
  /** How the host is connected now (`direct`, `local`, or an application's route name), once known. */
  via?: Via;
  /** Local file lookup for `src:` (role files/templates dir, then the playbook dir). */
  resolveLocal(path: string, kind: 'files' | 'templates' | 'vars'): string;
  /** Render a Jinja template's text with the task's variables (template module, `.j2`; `file` for its includes). */
  render(text: string, file?: string): string;
  /** Render a handlebars template's text (role templates `*.hbs`). */
  renderHandlebars(text: string): string;
  /** Evaluate an expression with the task's variables (`debug: var=`). Throws if undefined. */
  evaluate(expr: string): unknown;
}

/** A change to make: a command line run as-is (values already quoted) with optional stdin. */
export interface Step {
  describe: string;
  command: string;
  stdin?: string;
  become?: boolean;
}

export interface Plan {
  changed: boolean;
  /** Applied in order, only when not in check mode. */
  steps: Step[];
  diff?: FileDiff[];
  /** Fields returned to `register`, known without applying. */
  result?: Record<string, unknown>;
  /** Fields computed from the steps' outputs (apply mode only). */
  finish?: (outputs: RunResult[]) => Record<string, unknown>;
  /** Set host facts (like Ansible's ansible_facts / delegate_facts). Keyed by host name. */
  facts?: Record<string, Record<string, unknown>>;
  /**
   * Its `facts` are what the module found on the host (Ansible's fact cache: under play vars, also in
   * `ansible_facts`, cleared by `meta: clear_facts`); without it they are set_fact's, over task vars.
   */
  factsFound?: boolean;
  /** Variables include_vars gives the task's host: under set_fact and registered results, as Ansible's. */
  includedVars?: Record<string, unknown>;
  /** Plan-time failure: report it, apply nothing. */
  failed?: string;
  msg?: string;
  /**
   * Its steps change nothing on the host (a get_url's HEAD request, made as Ansible's module makes it
   * in check mode): they run in check mode too, and mark no handler.
   */
  runInCheck?: boolean;
  /** Steps' non-zero exit is a failure unless the module handles codes itself in finish. */
  acceptNonZero?: boolean;
  /** The module did not run (check mode for command-like modules). */
  skipped?: boolean;
  /**
   * After the steps (never in check mode): prove the change works, or undo it — for a change that
   * may cut the runner's own connection to the host (a device's tunnel). Runs even with no steps.
   */
  confirm?: (ctx: ConfirmContext, outputs: RunResult[]) => Promise<Confirmed>;
}

/** What a plan's confirm step may do besides running commands: reach the host again. */
export interface ConfirmContext {
  host: string;
  /** How the host was connected when the steps ran. */
  via: Via;
  /** Run a command (as the task's user) on the host's current connection. */
  run(command: string): Promise<RunResult>;
  /**
   * A new login by the host's route (an application's other way to it: src/engine/connection/route.ts),
   * leaving its connection alone; rejects when the path is not up, or the host has no route. `through`
   * names one of the route's ways, when it has several (see HostRoute.probe).
   */
  probe(through?: string): Promise<Connection>;
  /** Make `conn` the host's connection for the rest of the run (it replaces a cut one). */
  adopt(conn: Connection): Promise<void>;
  /**
   * Reach the host again by its usual path (a new connection, the old one closed), retrying until
   * `deadline` (ms since the epoch); each login given `connectTimeoutMs` when set.
   */
  reconnect(deadline: number, connectTimeoutMs?: number): Promise<void>;
}

export interface Confirmed {
  failed?: string;
  result?: Record<string, unknown>;
}

export interface Module<A = Record<string, unknown>, K extends string = string> {
  /** JSON schema for the arguments (ajv). A string form (`command: ls -l`) arrives as {_raw: "..."}. */
  schema: object;
  /**
   * Arguments (or `arg=value` choices) Ansible documents that relay-play refuses, each with why: the
   * refusal names the argument and gives the reason (test/unit/modules/ansible-args.test.ts holds
   * every documented argument to being taken or listed here).
   */
  refused?: Readonly<Record<string, string>>;
  /** Modules that accept `shell: text` / `command: text` free-form. */
  freeForm?: boolean;
  /**
   * Its plan only reads and never has steps (getent, stat, slurp): what it registers can be worked out
   * from reads fetched early, before its task runs, to know the reads that need it (src/engine/runner/early-reads.ts).
   */
  readOnly?: boolean;
  /** Facts its plan sets on the host (Plan.facts): names a preflight check must not call undefined. */
  providesFacts?: string[];
  /**
   * What the module must read from the host to plan, as data derived from its arguments — never
   * reading anything itself. The runner fetches them (several tasks' reads in one round trip, each
   * read once while it holds) and calls again with what came back (`got`) while this names reads not
   * fetched yet: a read that depends on another's answer is named once that answer is in. Omitted:
   * the module reads nothing.
   */
  reads?(args: A, ctx: PlanContext, got: Partial<Facts<K>>): Reads<K>;
  /** The plan, from the arguments and the reads' results (`facts`, under the names reads gave). */
  plan(args: A, ctx: PlanContext, facts: Facts<K>): Plan | Promise<Plan>;
}

/** A read's output when it must have succeeded; otherwise an error saying what could not be read. */
export function readOutput(r: RunResult | undefined, what: string): string {
  if (!r) throw new Error(`cannot read ${what}: not read`);
  if (r.code !== 0) throw new Error(`cannot read ${what}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

export type { FileDiff };

export const noop = (msg: string, result: Record<string, unknown> = {}): Plan => ({
  changed: false,
  steps: [],
  msg,
  result,
});
