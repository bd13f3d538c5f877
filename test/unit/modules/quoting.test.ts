// Hostile file names go through every module as data: nothing they contain is ever executed, and
// the files are created with exactly those names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockinfile } from '../../../src/engine/modules/blockinfile.js';
import { command } from '../../../src/engine/modules/command.js';
import { copy } from '../../../src/engine/modules/copy.js';
import { file } from '../../../src/engine/modules/file.js';
import { lineinfile } from '../../../src/engine/modules/lineinfile.js';
import { openssh_keypair } from '../../../src/engine/modules/openssh_keypair.js';
import { authorized_key } from '../../../src/engine/modules/authorized_key.js';
import { slurp } from '../../../src/engine/modules/slurp.js';
import { stat } from '../../../src/engine/modules/stat.js';
import { applyPlan, converge, planWith, sandbox, sandboxCtx, type Sandbox } from './fake-host.js';

const NAMES = [
  `q'; touch pwned1 #`,
  '$(touch pwned2)',
  '`touch pwned3`',
  `"; touch pwned4; "`,
  '-rf pwned5',
  'a\nb; touch pwned6',
  '*',
];
const TMP_MARKER = '/tmp/PWNED';
const K = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString('base64')} q`;

/** Any pwned* file anywhere in the sandbox (or in the cwd of the test process). */
function pwned(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (/^pwned\d$/.test(e.name)) found.push(join(d, e.name));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  for (let i = 1; i <= 6; i++) if (existsSync(`pwned${i}`)) found.push(`./pwned${i}`);
  return found;
}

describe('quoting: hostile paths never execute', () => {
  let sb: Sandbox;
  before(() => {
    assert.equal(existsSync(TMP_MARKER), false, `${TMP_MARKER} exists before the test; remove it`);
    sb = sandbox();
    // The search can see: a pwned file planted deep in the sandbox is found (and then removed).
    mkdirSync(sb.p('canary', 'deep'), { recursive: true });
    writeFileSync(sb.p('canary', 'deep', 'pwned0'), '');
    assert.deepEqual(pwned(sb.dir), [sb.p('canary', 'deep', 'pwned0')], 'the pwned-file search finds a planted one');
    rmSync(sb.p('canary'), { recursive: true });
  });
  after(() => {
    sb.cleanup();
    assert.equal(existsSync(TMP_MARKER), false, `${TMP_MARKER} was created`);
  });

  for (const [i, name] of NAMES.entries()) {
    it(`name ${JSON.stringify(name)}`, async () => {
      const dir = sb.p(`case${i}`);
      await converge(file, { path: dir, state: 'directory' }, sb);
      const p = join(dir, name);

      // file: touch (times kept: unchanged the second time), attributes, a link to it, absent
      const keep = { access_time: 'preserve', modification_time: 'preserve' };
      const t = await converge(file, { path: p, state: 'touch', mode: 'u=rw,go=', ...keep }, sb);
      assert.equal(t.second.changed, false);
      assert.deepEqual(readdirSync(dir), [name]);
      const l = await converge(file, { path: `${p}.l`, state: 'link', src: name }, sb);
      assert.equal(l.second.changed, false);
      await converge(file, { path: `${p}.l`, state: 'absent' }, sb);
      await converge(file, { path: p, state: 'absent' }, sb);
      assert.deepEqual(readdirSync(dir), []);

      // lineinfile / blockinfile / copy write the exact name
      await converge(lineinfile, { path: p, line: name, create: true }, sb);
      assert.deepEqual(readdirSync(dir), [name]);
      assert.equal(readFileSync(p, 'utf8'), `${name}\n`);
      await converge(blockinfile, { path: p, block: name }, sb);
      await converge(copy, { dest: `${p}.copy`, content: name }, sb);
      assert.equal(readFileSync(`${p}.copy`, 'utf8'), name);

      // stat / slurp read it
      const st = await planWith(stat, { path: p }, sandboxCtx(sb));
      assert.equal((st.result?.stat as { isreg: boolean }).isreg, true);
      const sl = await planWith(slurp, { src: p }, sandboxCtx(sb));
      assert.equal(Buffer.from(String(sl.result?.content), 'base64').toString(), readFileSync(p, 'utf8'));

      // command: argv words and creates= are data
      const c = await planWith(command, { argv: ['touch', '--', `${p}.cmd`], creates: `${p}.cmd` }, sandboxCtx(sb));
      applyPlan(c, sb);
      assert.ok(existsSync(`${p}.cmd`));
      assert.equal((await planWith(command, { argv: ['false'], creates: `${p}.cmd` }, sandboxCtx(sb))).changed, false);

      // openssh_keypair and authorized_key
      const kp = await converge(openssh_keypair, { path: `${p}.key`, type: 'ed25519' }, sb);
      assert.equal(kp.second.changed, false);
      assert.ok(existsSync(`${p}.key.pub`));
      await converge(authorized_key, { user: 'root', key: K, path: join(dir, 'ssh', name) }, sb);
      assert.equal(readFileSync(join(dir, 'ssh', name), 'utf8'), `${K}\n`);

      assert.deepEqual(pwned(sb.dir), []);
      assert.equal(existsSync(TMP_MARKER), false);
    });
  }

  it(`a directory path containing "'; touch ${TMP_MARKER} #" is created as named`, async () => {
    const evil = sb.p(`x'; touch ${TMP_MARKER} #`, 'leaf');
    const { second } = await converge(file, { path: evil, state: 'directory', mode: '0700' }, sb);
    assert.equal(second.changed, false);
    assert.ok(existsSync(evil));
    assert.deepEqual(readdirSync(sb.p(`x'; touch `, 'tmp')), ['PWNED #']);
    await converge(lineinfile, { path: join(evil, 'f'), line: 'x', create: true }, sb);
    assert.equal(existsSync(TMP_MARKER), false);
    assert.deepEqual(pwned(sb.dir), []);
    rmSync(sb.p(`x'; touch `), { recursive: true });
  });
});
