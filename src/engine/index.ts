// The engine's public API: what an application (src/relay) builds on. Everything else under
// src/engine is the engine's own; the layering rules (.dependency-cruiser.cjs) keep it so.
// docs/architecture.md describes the layers and the extension points.

// Extension points: modules, roles, routes.
export { ENGINE_ONLY, type Extensions, type RouterFactory } from './runner/extensions.js';
export { builtinModules } from './modules/index.js';
export { ModuleRegistry } from './modules/registry.js';
export { readOutput } from './modules/types.js';
export type {
  ConfirmContext,
  Confirmed,
  Facts,
  FileDiff,
  Module,
  Plan,
  PlanContext,
  Read,
  Reads,
  Step,
} from './modules/types.js';
export { planOn } from './runner/plan-on.js';
export {
  BothFailedError,
  loginThrough,
  pinnedKey,
  race,
  type Attempt,
  type Channel,
  type HostRoute,
  type RouteContext,
  type Router,
} from './connection/route.js';

// Running playbooks.
export { loadInventory, isHostName, type Inventory } from './inventory/index.js';
export { loadPlaybook } from './playbook/load.js';
export { engineSchemas } from './playbook/schema.js';
export type { Playbook } from './playbook/types.js';
export { exitCodeFor, runPlaybook, type RunnerOptions } from './runner/play.js';
export type { RunState } from './runner/state.js';
export type { LockSpec } from './runner/lock.js';
export type { Reporter } from './runner/reporter.js';
export { pickReporter } from './output/pick.js';
export { PlainReporter } from './output/plain.js';
export { noteLine } from './output/text.js';
export { runnerOptions, type CommonOptions } from './cli/options.js';
export { extraVars, renderPlayHosts } from './cli/extra-vars.js';

// Connections to hosts.
export { Connections } from './runner/connections.js';
export {
  hasDirectPath,
  openConnection,
  sshAddress,
  type ConnectOptions,
  type ResolvedTarget,
} from './connection/target.js';
export { HostKeyError, type SshConnection, type SshTarget } from './connection/ssh.js';
export type { Connection, RunResult, Via } from './connection/types.js';

// Writing modules: shell commands, files, templates, systemd units.
export { shellJoin, shq, shScript } from './util/quote.js';
export { shFile } from './util/sh-file.js';
export { unitBlocks, unitsShow } from './connection/unit-reads.js';
export { attrChanges, attrSteps, contentDiff, writeFileStep, type Attrs, type FileFacts } from './modules/lib/files.js';
export { renderTemplateFile } from './modules/lib/render.js';
export { boolArg, type BoolArg } from './modules/lib/schema.js';
export { toBool } from './util/bool.js';
export { renderHandlebars } from './template/handlebars.js';

// Errors, tracing, the package.
export { EXIT, ExitError, InputError, UnreachableError, type SourcePos } from './util/errors.js';
export { trace } from './util/trace.js';
export { packageRoot } from './util/package.js';
