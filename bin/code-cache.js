// Run a CommonJS file with V8's code cache: the first run compiles it as usual and, on exit, saves what V8
// compiled by then (the functions that run called, too); later runs start without compiling it. Node 22
// has this built in (module.enableCompileCache); relay-play supports Node 20.
//
// The cache is the user's own (~/.cache/relay-play, or $XDG_CACHE_HOME/relay-play; mode 0700): V8 runs
// what it finds there. One file per command, since `status` and `apply` run different code. The file's
// name holds a hash of the source, node's version and the platform: V8 itself only checks the source's
// length, and a rebuilt bundle must never meet the code of an older one. RELAY_PLAY_CODE_CACHE=0 turns
// it off. A cache that can't be read or written only costs the time of compiling.
'use strict';
const { createHash } = require('node:crypto');
const { isAscii } = require('node:buffer');
const fs = require('node:fs');
const { createRequire } = require('node:module');
const { homedir } = require('node:os');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

/** require(file), with the code cache named after `label`. */
function requireWithCodeCache(file, label) {
  const bytes = fs.readFileSync(file);
  // An ASCII file (the bundle is) decodes faster as latin1, the same text.
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const cacheFile = cachePath(bytes, label);
  let cachedData;
  try {
    if (cacheFile) cachedData = fs.readFileSync(cacheFile);
  } catch {
    /* not made yet */
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  if (cacheFile && (!cachedData || script.cachedDataRejected)) process.once('exit', () => save(cacheFile, script));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

function cachePath(bytes, label) {
  if (process.env.RELAY_PLAY_CODE_CACHE === '0') return undefined;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const key = createHash('sha256')
    .update(bytes)
    .update(`\0${process.version}\0${process.arch}\0${label}`)
    .digest('hex')
    .slice(0, 32);
  return join(base, 'relay-play', `${label}-${key}.v8cache`);
}

/** Atomically (temp + rename), so a run that starts meanwhile reads the old cache or the new, whole. */
function save(cacheFile, script) {
  try {
    fs.mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o700 });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, cacheFile);
    // The caches of earlier builds for this command are of no more use.
    const dir = dirname(cacheFile);
    const mine = cacheFile.slice(dir.length + 1);
    for (const f of fs.readdirSync(dir))
      if (f !== mine && f.startsWith(mine.split('-')[0] + '-') && f.endsWith('.v8cache'))
        fs.rmSync(join(dir, f), { force: true });
  } catch {
    /* read-only home, full disk: run without a cache */
  }
}

module.exports = { requireWithCodeCache };
