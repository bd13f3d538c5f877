// The module contract. A module only *reads* the host and returns a plan; the runner alone applies
// plans, and never in check mode — so no module can forget check mode.
import type { FileDiff } from '../util/diff.js';
import type { Connection, RunResult, Via } from '../connection/types.js';

/** Read-only access to the host while planning. */
export interface ReadContext {
  host: string;
  check: boolean;
  /** The task's become setting; reads of root-only files need it. */
  become: boolean;
  /** How the host is connected now (`direct`, `local`, or an application's route name), once known. */
  via?: Via;
  /** Run a read-only command line (build it with shellJoin/shScript). */
  read(command: string, opts?: { stdin?: string; become?: boolean }): Promise<RunResult>;
  /** Local file lookup for `src:` (role files/templates dir, then the playbook dir). */
  resolveLocal(path: string, kind: 'files' | 'templates'): string;
  /** Render a Jinja template's text with the task's variables (template module, `.j2`). */
  render(text: string): string;
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
  /** Plan-time failure: report it, apply nothing. */
  failed?: string;
  msg?: string;
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
   * leaving its connection alone; rejects when the path is not up, or the host has no route.
   */
  probe(): Promise<Connection>;
  /** Make `conn` the host's connection for the rest of the run (it replaces a cut one). */
  adopt(conn: Connection): Promise<void>;
  /** Reach the host again by its usual path, retrying until `deadline` (ms since the epoch). */
  reconnect(deadline: number): Promise<void>;
}

export interface Confirmed {
  failed?: string;
  result?: Record<string, unknown>;
}

export interface Module<A = Record<string, unknown>> {
  /** JSON schema for the arguments (ajv). A string form (`command: ls -l`) arrives as {_raw: "..."}. */
  schema: object;
  /** Modules that accept `shell: text` / `command: text` free-form. */
  freeForm?: boolean;
  /**
   * Its plan only reads and never has steps (getent, stat, slurp): what it registers can be worked out
   * from reads fetched early, before its task runs, to know the reads that need it (src/runner/early-reads.ts).
   */
  readOnly?: boolean;
  /** Facts its plan sets on the host (Plan.facts): names a preflight check must not call undefined. */
  providesFacts?: string[];
  plan(args: A, ctx: ReadContext): Promise<Plan>;
}

export type { FileDiff };

export const noop = (msg: string, result: Record<string, unknown> = {}): Plan => ({
  changed: false,
  steps: [],
  msg,
  result,
});
