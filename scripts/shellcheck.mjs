#!/usr/bin/env node
// Lint step: shellcheck (Debian's package; scripts/install-deps installs it) on every .sh file of the
// repository — the scripts that run on hosts (src/**/*.sh) and any other. Settings: .shellcheckrc.
// The role templates (roles/*/templates/*.sh.hbs) are checked once rendered: test/unit/shellcheck.test.ts.
//   node scripts/shellcheck.mjs
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const skip = new Set(['node_modules', 'dist', '.git', '.scratch']);

/** Every .sh file under dir, relative to the root. */
function scripts(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return skip.has(e.name) ? [] : scripts(join(dir, e.name));
    return e.isFile() && e.name.endsWith('.sh') ? [relative(root, join(dir, e.name))] : [];
  });
}

const files = scripts(root).sort();
const r = spawnSync('shellcheck', files, { cwd: root, stdio: 'inherit' });
if (r.error) {
  process.stderr.write(
    `shellcheck: ${r.error.message} (scripts/install-deps installs it: apt-get install shellcheck)\n`,
  );
  process.exit(1);
}
if (r.status === 0) process.stdout.write(`shellcheck: ${files.length} scripts, no findings\n`);
process.exit(r.status ?? 1);
