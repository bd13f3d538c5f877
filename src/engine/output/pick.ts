// Which renderer a run's output gets: --json, listr2 on a terminal, plain lines otherwise.
import type { Reporter } from '../runner/reporter.js';
import { JsonReporter } from './json.js';
import { PlainReporter } from './plain.js';

export async function pickReporter(opts: { diff?: boolean; json?: boolean; verbose: number }): Promise<Reporter> {
  const diff = Boolean(opts.diff);
  if (opts.json) return new JsonReporter({ diff });
  if (process.stdout.isTTY && !process.env.CI) {
    // listr2 is only needed on a terminal; loading it lazily keeps scripted runs quick to start.
    const { ListrReporter } = await import('../output/listr.js');
    return new ListrReporter({ diff, verbose: opts.verbose });
  }
  return new PlainReporter({ diff, verbose: opts.verbose });
}
