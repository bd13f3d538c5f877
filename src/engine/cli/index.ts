// The engine's command-line pieces, kept light: what a program needs to define its commands and start
// (the code that runs a command loads when it runs: ./run.ts, an application's commands).
export { addRunCommand } from './run-command.js';
export { collect, OPTIONS, RUN_OPTIONS, withOptions, type CommonOptions } from './options.js';
export { EXIT, ExitError, InputError } from '../util/errors.js';
export { packageVersion } from '../util/package.js';
export { trace } from '../util/trace.js';
