// The installable package and its start: `npm pack` ships the bundle, the bin, the roles and playbooks;
// bin/relay-play.js runs the bundle with V8's code cache, keyed so a changed bundle never runs old code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
