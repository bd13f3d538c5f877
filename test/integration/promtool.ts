// promtool (Prometheus' own checker of the metrics text format) for the tests: the one on PATH, else the
// binary out of Debian's `prometheus` package, fetched once with `apt-get download` (this machine's own
// apt sources) and unpacked with dpkg-deb into the lab's cache, never installed: the package would start
// a Prometheus server on the machine running the tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_ROOT } from '../lab/index.js';

const onPath = (cmd: string) =>
  spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' }).stdout.trim();

export function promtool(): string {
  const found = onPath('promtool');
  if (found) return found;
  const dir = join(CACHE_ROOT, 'tools', 'prometheus');
  const bin = join(dir, 'usr', 'bin', 'promtool');
  if (existsSync(bin)) return bin;
  mkdirSync(join(CACHE_ROOT, 'tools'), { recursive: true });
  const tmp = mkdtempSync(join(CACHE_ROOT, 'tools', 'prometheus.tmp-'));
  try {
    const dl = spawnSync('apt-get', ['download', '-q', 'prometheus'], { cwd: tmp, encoding: 'utf8', timeout: 300_000 });
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (dl.status !== 0 || !deb)
      throw new Error(`apt-get download prometheus (for promtool) failed: ${dl.stderr || dl.error?.message}`);
    const x = spawnSync('dpkg-deb', ['-x', join(tmp, deb), join(tmp, 'root')], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`dpkg-deb -x ${deb}: ${x.stderr}`);
    if (!existsSync(join(tmp, 'root', 'usr', 'bin', 'promtool'))) throw new Error(`${deb} has no usr/bin/promtool`);
    // Complete or not there at all: a rename.
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'root'), dir);
    return bin;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `promtool check metrics` on a text: its exit code and what it said. */
export function checkMetrics(text: string): { code: number; output: string } {
  const r = spawnSync(promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}
