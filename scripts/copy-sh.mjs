#!/usr/bin/env node
// Build step (after tsc): copy the shell scripts that run on hosts (src/**/*.sh) to dist/src/, same
// paths, where src/engine/util/sh-file.ts reads them (in dist/src/ and from the bundle alike; the
// package ships dist/src). A script no longer in src/ is removed from dist/src/.
//   node scripts/copy-sh.mjs [DIST_DIR]   (default: dist next to this script)
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const src = join(root, 'src');

/** Every .sh file under dir, relative to it. */
const scripts = (dir) => {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.sh'))
      .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
  } catch {
    return [];
  }
};

const wanted = scripts(src);
for (const f of wanted) {
  mkdirSync(dirname(join(dist, 'src', f)), { recursive: true });
  copyFileSync(join(src, f), join(dist, 'src', f));
}
const stale = scripts(join(dist, 'src')).filter((f) => !wanted.includes(f));
for (const f of stale) rmSync(join(dist, 'src', f));
process.stdout.write(
  `copied ${wanted.length} shell scripts to ${join(dist, 'src')}${stale.length ? `, removed ${stale.length}` : ''}\n`,
);
