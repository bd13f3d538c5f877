#!/usr/bin/env node
// relay-play's entry point, CommonJS (bin/package.json) because a CommonJS entry starts a few ms sooner.
// `npm run build` (and so `npm pack`) makes dist/relay-play.cjs (scripts/bundle.mjs: tsc's output and the
// npm dependencies in one file); it runs with V8's code cache (./code-cache.js). Without it, or with
// RELAY_PLAY_BUNDLE=0, the same program runs from dist/src (tsc alone does not renew the bundle).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'relay-play.cjs');
// One code cache per command: each runs different code.
const COMMANDS = ['apply', 'status', 'run', 'remove', 'rotate', 'enroll', 'nixos'];
const label = COMMANDS.includes(process.argv[2]) ? process.argv[2] : 'other';

if (process.env.RELAY_PLAY_BUNDLE !== '0' && existsSync(bundle))
  require('./code-cache.js').requireWithCodeCache(bundle, label).main(process.argv);
else import('../dist/src/cli/index.js').then((m) => m.main(process.argv));
