// Test hosts for modules.
// - sandboxCtx: a "host" that is this machine, confined (by convention) to a temp directory: every
//   read a module declares runs for real with `sh -c` in that directory, and applyPlan runs the steps
//   the same way, so plan → apply → plan again checks idempotency for real.
// - cannedCtx: reads answered from fixtures, for modules that touch system state (users, units).
// planWith fetches a module's reads the way the runner does (src/engine/runner/execute.ts: gather).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  lstatSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, it } from 'node:test';
import type { RunResult } from '../../../src/engine/connection/types.js';
import type { Module, Plan, PlanContext } from '../../../src/engine/modules/types.js';
import { gather } from '../../../src/engine/runner/execute.js';
import { argProblems } from '../../../src/engine/modules/args.js';
import { evalExpr, parseExpr } from '../../../src/engine/template/expr.js';
import { renderTemplateText } from '../../../src/engine/template/jinja.js';
import { renderHandlebars } from '../../../src/engine/template/handlebars.js';

export function runLocal(command: string, cwd: string, stdin?: string): RunResult {
  const r = spawnSync('sh', ['-c', command], { cwd, input: stdin ?? '', encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}

export interface Sandbox {
  dir: string;
  /** Absolute path inside the sandbox. */
  p(...parts: string[]): string;
  cleanup(): void;
}

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-mod-'));
  return { dir, p: (...parts) => join(dir, ...parts), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh sandbox for each test of the enclosing describe (the last removed after them all): `dir` and `p` follow it. */
export function sandboxPerTest(): Sandbox {
  let current: Sandbox | undefined;
  beforeEach(() => {
    current?.cleanup();
    current = sandbox();
  });
  after(() => current?.cleanup());
  return {
    get dir() {
      return current!.dir;
    },
    p: (...parts) => current!.p(...parts),
    cleanup: () => current?.cleanup(),
  };
}

export interface FakeCtx extends PlanContext {
  /** Every command read, in order. */
  reads: string[];
  read(command: string): RunResult;
}

export function sandboxCtx(
  sb: Sandbox,
  opts: { check?: boolean; diff?: boolean; host?: string; vars?: Record<string, unknown> } = {},
): FakeCtx {
  const reads: string[] = [];
  return {
    host: opts.host ?? 'h1',
    check: opts.check ?? false,
    diff: opts.diff ?? false,
    become: false,
    reads,
    read(command) {
      reads.push(command);
      return runLocal(command, sb.dir);
    },
    resolveLocal: (path) => path,
    // The runner's engines, with opts.vars.
    render: (text) => renderTemplateText(text, opts.vars ?? {}),
    renderHandlebars: (text) => String(renderHandlebars(text, opts.vars ?? {})),
    evaluate: (expr) => evalExpr(parseExpr(expr), opts.vars ?? {}),
  };
}

type Canned = RunResult | string;
type Responder = (command: string) => Canned;

/** A context whose reads are answered by `respond` (a fixture, or a function of the command line). */
export function cannedCtx(
  respond: Canned | Canned[] | Responder,
  opts: { check?: boolean; host?: string } = {},
): FakeCtx {
  const reads: string[] = [];
  const queue = Array.isArray(respond) ? [...respond] : undefined;
  return {
    host: opts.host ?? 'h1',
    check: opts.check ?? false,
    become: true,
    reads,
    read(command) {
      reads.push(command);
      const c: Canned | undefined = queue
        ? queue.shift()
        : typeof respond === 'function'
          ? respond(command)
          : (respond as Canned);
      if (c === undefined) throw new Error(`unexpected read: ${command}`);
      return typeof c === 'string' ? { code: 0, stdout: c, stderr: '' } : c;
    },
    resolveLocal: (path) => path,
    render: (text) => text,
    renderHandlebars: (text) => text,
    evaluate: () => undefined,
  };
}

export interface Applied {
  outputs: RunResult[];
  /** plan.result merged with finish(outputs), as the runner does. */
  result: Record<string, unknown>;
}

/** Run a plan's steps locally in the sandbox, as the runner would (stops at the first failure). */
export function applyPlan(plan: Plan, sb: Sandbox): Applied {
  if (plan.failed) throw new Error(`plan failed: ${plan.failed}`);
  const outputs: RunResult[] = [];
  for (const step of plan.steps) {
    const out = runLocal(step.command, sb.dir, step.stdin);
    outputs.push(out);
    if (out.code !== 0 && !plan.acceptNonZero)
      throw new Error(`step "${step.describe}" failed (${out.code}): ${out.stderr}`);
  }
  const result: Record<string, unknown> = { ...plan.result, changed: plan.changed };
  if (plan.finish) Object.assign(result, plan.finish(outputs));
  return { outputs, result };
}

/** Validate args against the module's schema (as the runner does), fetch its reads from `ctx`, then plan. */
export async function planWith<A>(mod: Module<A>, args: A, ctx: FakeCtx): Promise<Plan> {
  const problems = argProblems(mod as unknown as Module, 'test', args);
  if (problems.length) throw new Error(`invalid args: ${problems.map((p) => p.message).join('; ')}`);
  return planRaw(mod, args, ctx);
}

/** Fetch the module's reads from `ctx`, then plan — without checking the arguments first. */
export async function planRaw<A>(mod: Module<A>, args: A, ctx: FakeCtx): Promise<Plan> {
  const record = args as Record<string, unknown>;
  const facts = await gather(mod as unknown as Module, record, ctx, { become: ctx.become }, async (reqs) =>
    reqs.map((r) => ctx.read(r.command)),
  );
  return mod.plan(args, ctx, facts);
}

/** Plan, apply, then plan again: returns both plans (the second must be a no-op). */
export async function converge<A>(
  mod: Module<A>,
  args: A,
  sb: Sandbox,
): Promise<{ first: Plan; applied: Applied; second: Plan }> {
  const first = await planWith(mod, args, sandboxCtx(sb));
  const applied = applyPlan(first, sb);
  const second = await planWith(mod, args, sandboxCtx(sb));
  return { first, applied, second };
}

/** Everything under a directory: path → type, mode, owner, size, content/link target. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const st = lstatSync(full);
      const rel = full.slice(dir.length);
      const meta = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
      if (st.isSymbolicLink()) out[rel] = `link ${meta} -> ${readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${meta}`;
        walk(full);
      } else out[rel] = `file ${meta} ${readFileSync(full).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}

export const exists = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

export const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

/** Do the args pass the module's schema (as the runner checks them)? */
export const schemaOk = <A>(mod: Module<A>, args: unknown) =>
  argProblems(mod as unknown as Module, 'test', args).length === 0;

/** One test per row: the module's schema takes (true) or refuses (false) these arguments. */
export function argTable(mod: Module<never>, rows: [Record<string, unknown>, boolean][]): void {
  for (const [args, ok] of rows)
    it(`${ok ? 'takes' : 'refuses'} ${JSON.stringify(args)}`, () => assert.equal(schemaOk(mod, args), ok));
}

/** A text-file edit (lineinfile, blockinfile): content in, arguments, content out (null = no change). */
export interface TextFileCase {
  name: string;
  before: string;
  args: Record<string, unknown>;
  after: string | null;
  msg?: string;
}

/**
 * One test per case: write `before` to `fileName` in the sandbox, plan + apply + plan again, then
 * check the file, the diff, that a change is one atomic write, and that the second run is a no-op.
 */
export function textFileCases<A>(mod: Module<A>, cases: TextFileCase[], sb: () => Sandbox, fileName: string): void {
  for (const c of cases) {
    it(c.name, async () => {
      const path = sb().p(fileName);
      writeFileSync(path, c.before);
      const { first, second } = await converge(mod, { path, ...c.args } as A, sb());
      assert.equal(readFileSync(path, 'utf8'), c.after ?? c.before);
      assert.equal(first.changed, c.after !== null);
      if (c.msg) assert.equal(first.msg, c.msg);
      if (c.after !== null) {
        assert.deepEqual(first.diff?.[0], {
          before_header: path,
          after_header: path,
          before: c.before,
          after: c.after,
        });
        assert.equal(first.steps.length, 1, 'one atomic write');
      }
      assert.equal(second.changed, false, 'second run changes nothing');
      assert.deepEqual(second.steps, []);
    });
  }
}

/** A plan from canned facts: the module's one read answered by `read`, and what it must plan. */
export interface CannedCase {
  name: string;
  args: Record<string, unknown>;
  read?: Canned | Canned[];
  check?: boolean;
  commands?: string[];
  changed?: boolean;
  failed?: RegExp;
  result?: Record<string, unknown>;
}

/** One test per case: exactly one read (`readCommand` when given), then the failure or the exact commands. */
export function cannedCases<A>(
  mod: Module<A>,
  cases: CannedCase[],
  opts: { baseArgs?: Record<string, unknown>; readCommand?: string } = {},
): void {
  for (const c of cases) {
    it(c.name, async () => {
      const ctx = cannedCtx(c.read ?? [], { check: c.check });
      const plan = await planWith(mod, { ...opts.baseArgs, ...c.args } as A, ctx);
      assert.equal(ctx.reads.length, 1, 'one read');
      if (opts.readCommand) assert.equal(ctx.reads[0], opts.readCommand);
      if (c.failed) {
        assert.match(String(plan.failed), c.failed);
        assert.deepEqual(plan.steps, []);
        return;
      }
      assert.equal(plan.failed, undefined);
      if (c.commands)
        assert.deepEqual(
          plan.steps.map((s) => s.command),
          c.commands,
        );
      // What the case says, never what the plan under test says: a case states changed, or the commands.
      const changed = c.changed ?? (c.commands ? c.commands.length > 0 : undefined);
      assert.notEqual(changed, undefined, 'the case must say whether it changes something (changed or commands)');
      assert.equal(plan.changed, changed);
      if (c.result) assert.deepEqual(plan.result, c.result);
    });
  }
}
