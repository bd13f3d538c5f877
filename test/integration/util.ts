// Helpers for integration tests: run the real CLI inside the lab's bridge namespace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ExecResult, Lab } from '../lab/index.js';

/** bin/relay-play.js of this checkout (tests run from dist/test/integration). */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'relay-play.js');
export const REPO = resolve(dirname(CLI), '..');

export function relayPlay(lab: Lab, args: string[], timeoutMs = 180_000): Promise<ExecResult> {
  return lab.run(['node', CLI, ...args], { timeoutMs, cwd: REPO });
}

export function tempDir(prefix = 'relay-play-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeYaml(dir: string, name: string, data: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof data === 'string' ? data : stringify(data));
  return file;
}

export interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

/** Parse the PLAY RECAP lines of plain output. */
export function recap(stdout: string): Record<string, Recap> {
  const out: Record<string, Recap> = {};
  const re = /^(\S+)\s+: ok=(\d+) changed=(\d+) unreachable=(\d+) failed=(\d+) skipped=(\d+)/gm;
  for (const m of stdout.matchAll(re)) {
    out[m[1]] = { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5], skipped: +m[6] };
  }
  return out;
}

/** Retry `fn` until it returns true or `ms` pass; returns the seconds it took, or throws. */
export async function waitFor(what: string, ms: number, fn: () => Promise<boolean>, stepMs = 500): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await fn()) return (Date.now() - start) / 1000;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function show(r: ExecResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
