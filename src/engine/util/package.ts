// The installed package: its root (where package.json, roles/ and playbooks/ are) and its version,
// found from this file's place in src/, dist/src/ or the bundle (dist/relay-play.cjs).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The nearest folder above this file with a package.json (the current folder, failing that). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== dirname(dir) && !existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  root = existsSync(join(dir, 'package.json')) ? dir : resolve('.');
  return root;
}

export function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}
