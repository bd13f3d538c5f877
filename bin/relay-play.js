#!/usr/bin/env node
// relay-play's entry point, CommonJS (bin/package.json) because a CommonJS entry starts a few ms sooner.
// A built package has dist/relay-play.cjs (scripts/bundle.mjs: tsc's output and the npm dependencies in
// one file), run with V8's code cache (./code-cache.js). Without it, or when tsc has written dist/src
// since it was bundled, the same program runs from dist/src.
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');

const dist = join(__dirname, '..', 'dist');
const mtime = (f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs;
const bundle = join(dist, 'relay-play.cjs');
const bundled = mtime(bundle) >= (mtime(join(dist, 'src', 'cli', 'index.js')) ?? 0);

// One code cache per command: each runs different code.
const COMMANDS = ['apply', 'status', 'run', 'remove', 'rotate', 'enroll', 'nixos'];
const label = COMMANDS.includes(process.argv[2]) ? process.argv[2] : 'other';

if (bundled) require('./code-cache.js').requireWithCodeCache(bundle, label).main(process.argv);
else import('../dist/src/cli/index.js').then((m) => m.main(process.argv));
