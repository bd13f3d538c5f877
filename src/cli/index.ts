// relay-play's command line: the engine's `run` and the relay application's commands, with the
// application's extensions installed (src/relay/app.ts), so `run` on a relay inventory reaches away
// devices through their tunnels as `apply` does. Commands never call process.exit; errors travel up to main().
import { Command, CommanderError } from 'commander';
import { addRunCommand, EXIT, ExitError, InputError, packageVersion, trace } from '../engine/cli/index.js';
import { addRelayCommands } from '../relay/commands/index.js';

export function buildProgram(): Command {
  const program = new Command('relay-play')
    .description('Agentless, Ansible-style playbooks over SSH; sets up a reverse-SSH relay for your devices.')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError('(add --help to the command for its options)');
  addRunCommand(program, async () => (await import('../relay/app.js')).relayApp);
  addRelayCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  trace('started');
  let code: number = EXIT.ok;
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    code = exitCodeOf(e);
  }
  process.exitCode = code;
}

function exitCodeOf(e: unknown): number {
  if (e instanceof ExitError) return e.code;
  if (e instanceof InputError) {
    process.stderr.write(e.format() + '\n');
    return e.exit ?? EXIT.input;
  }
  if (e instanceof CommanderError) {
    // --help and --version end here too, with exit code 0; a command line that does not parse exits as
    // ansible-playbook's does.
    return e.exitCode === 0 ? 0 : EXIT.usage;
  }
  // Something relay-play did not expect: ansible-playbook's code for an unexpected error.
  process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.internal;
}
