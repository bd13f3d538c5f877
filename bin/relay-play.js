#!/usr/bin/env node
import('../dist/src/cli/index.js').then((m) => m.main(process.argv));
