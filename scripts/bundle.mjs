#!/usr/bin/env node
// Build step (after tsc and precompile-schemas): bundle what tsc emitted (dist/src, from
// src/cli/index.ts down) and its npm dependencies into one CommonJS file, dist/relay-play.cjs.
// bin/relay-play.js runs that file when it is there, with V8's code cache (bin/code-cache.js): one
// file to read and no compiling, instead of ~300 modules to find, read and compile at every start.
// The code is tsc's output, unchanged: the bundle is the same program, packed.
//   node scripts/bundle.mjs [DIST_DIR]   (default: dist next to this script)
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'));

// Native add-ons stay outside, loaded from node_modules as usual: ssh2's optional crypto binding
// (ssh2 requires it by a path relative to itself; in the bundle that path is the package's) and cpu-features.
const nativeAddons = {
  name: 'native-addons',
  setup(b) {
    b.onResolve({ filter: /\/crypto\/build\/Release\/sshcrypto\.node$/ }, () => ({
      path: 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node',
      external: true,
    }));
  },
};

await build({
  entryPoints: [join(dist, 'src', 'cli', 'index.js')],
  outfile: join(dist, 'relay-play.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['cpu-features'],
  plugins: [nativeAddons],
  // The sources find package.json, roles/ and ajv from their own location (import.meta.url): in the
  // bundle, that is the bundle's, one level below the package root like dist/src/*/ is two.
  define: { 'import.meta.url': '__bundle_url' },
  banner: { js: "const __bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  // No comments or layout (a smaller, ASCII-only file reads and hashes faster); names are kept, so a
  // stack trace still names its functions, and dist/relay-play.cjs.map maps it back to src/*.ts
  // (node --enable-source-maps).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
