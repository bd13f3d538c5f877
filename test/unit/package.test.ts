// The installable package and its start: `npm pack` ships the bundle, the bin, the roles and playbooks,
// and the shell scripts that run on hosts (dist/src/**/*.sh), which the bundle reads from its own
// package; bin/relay-play.js runs the bundle with V8's code cache, keyed so a changed bundle never runs old code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm pack', () => {
  it('has a prepack that builds, and packs the bundle, the bin, the roles and playbooks', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.match(pkg.scripts.prepack, /npm run build/);
    assert.match(pkg.scripts.build, /scripts\/bundle\.mjs/);
    assert.equal(pkg.bin['relay-play'], 'bin/relay-play.js');
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
    for (const f of [
      'bin/relay-play.js',
      'bin/code-cache.js',
      'bin/package.json',
      'dist/relay-play.cjs',
      'dist/src/cli/index.js',
      'playbooks/site.yaml',
      'roles/reverse-tunnel-service/templates/relay-tunnel.service.hbs',
      'roles/relay-user/templates/relay-play.conf.hbs',
    ]) {
      assert.ok(files.has(f), `${f} is not in the package`);
    }
    assert.ok(
      ![...files].some((f) => f.startsWith('test/') || f.startsWith('dist/test/') || f.startsWith('src/')),
      'tests or sources in the package',
    );
    // Every script that runs on hosts, where src/engine/util/sh-file.ts reads it.
    const scripts = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.sh'),
    );
    assert.ok(scripts.length >= 20, scripts.join(' '));
    for (const f of scripts)
      assert.ok(files.has(`dist/src/${f.split('\\').join('/')}`), `dist/src/${f} is not in the package`);
  });

  it('the packed package, unpacked elsewhere, runs a play with the shell scripts it ships', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-pack-'));
    try {
      const r = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(spawnSync('tar', ['xzf', join(dir, r.stdout.trim()), '-C', dir]).status, 0);
      const pkg = join(dir, 'package');
      // Its dependencies, as npm would install them.
      symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
      writeFileSync(join(dir, 'inventory.yaml'), 'all: {hosts: {here: {ansible_connection: local}}}\n');
      // A task, and a handler it notifies: the trip's script, and the pending markers' three.
      writeFileSync(
        join(dir, 'play.yaml'),
        '- hosts: all\n  gather_facts: false\n  tasks:\n    - {name: say, command: echo hi, notify: h}\n  handlers:\n    - {name: h, command: echo handled}\n',
      );
      const run = () =>
        spawnSync(process.execPath, [join(pkg, 'bin', 'relay-play.js'), 'run', 'play.yaml', '-i', 'inventory.yaml'], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') },
        });
      const ok = run();
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /ok=2 changed=2 .*failed=0/);
      // The scripts come from the package itself, not from this checkout.
      rmSync(join(pkg, 'dist', 'src', 'engine', 'connection', 'batch', 'run.sh'));
      const missing = run();
      assert.notEqual(missing.status, 0);
      assert.ok(
        (missing.stdout + missing.stderr).includes(join(pkg, 'dist', 'src', 'engine', 'connection', 'batch', 'run.sh')),
        missing.stdout + missing.stderr,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bin/relay-play.js and the code cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-cache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cacheDir = join(dir, 'cache', 'relay-play');
  const run = (bin: string, args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), ...env },
    });
  const caches = () => {
    try {
      return readdirSync(cacheDir).filter((f) => f.endsWith('.v8cache'));
    } catch {
      return [];
    }
  };

  it("the built bundle runs; its first run of a command writes that command's cache (0600), the next one reuses it", () => {
    const bin = join(ROOT, 'bin', 'relay-play.js');
    const r = run(bin, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
    const [file, ...more] = caches();
    assert.ok(file?.startsWith('other-') && !more.length, `caches: ${caches().join(', ')}`);
    assert.equal(statSync(join(cacheDir, file)).mode & 0o777, 0o600);
    const written = statSync(join(cacheDir, file)).mtimeMs;
    assert.equal(run(bin, ['--version']).status, 0);
    assert.equal(statSync(join(cacheDir, file)).mtimeMs, written, 'rewritten although it was used');
    rmSync(cacheDir, { recursive: true, force: true });
    assert.equal(run(bin, ['--version'], { RELAY_PLAY_CODE_CACHE: '0' }).status, 0);
    assert.deepEqual(caches(), [], 'RELAY_PLAY_CODE_CACHE=0 wrote a cache');
  });

  it('a changed bundle never runs the code cached for the old one, even of the same length', () => {
    // A package of two bundles of equal length: V8 itself checks little more than the length.
    const pkg = join(dir, 'pkg');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"type":"module"}');
    const bundle = (word: string) => `exports.main = () => { process.stdout.write(${JSON.stringify(word)}); };\n`;
    const bin = join(pkg, 'bin', 'relay-play.js');
    writeFileSync(join(pkg, 'dist', 'relay-play.cjs'), bundle('first'));
    assert.equal(run(bin, ['status']).stdout, 'first');
    assert.equal(run(bin, ['status']).stdout, 'first');
    assert.equal(caches().filter((f) => f.startsWith('status-')).length, 1);
    writeFileSync(join(pkg, 'dist', 'relay-play.cjs'), bundle('other'));
    assert.equal(run(bin, ['status']).stdout, 'other');
    assert.equal(caches().filter((f) => f.startsWith('status-')).length, 1, "the old bundle's cache was left behind");
  });
});
