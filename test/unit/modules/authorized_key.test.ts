import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { authorized_key } from '../../../src/engine/modules/authorized_key.js';
import { parseKeyLine, splitOptions } from '../../../src/engine/modules/lib/ssh-keys.js';
import {
  cannedCtx,
  schemaOk,
  converge,
  modeOf,
  planWith,
  sandbox,
  sandboxCtx,
  snapshot,
  type Sandbox,
} from './fake-host.js';

/** A well-formed key blob (type name + 32 bytes) — deterministic per seed. */
function blob(seed: string, type = 'ssh-ed25519'): string {
  const name = Buffer.from(type);
  const body = createHash('sha256').update(seed).digest();
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(name.length), name, len(body.length), body]).toString('base64');
}
const K1 = `ssh-ed25519 ${blob('one')}`;
const K2 = `ssh-ed25519 ${blob('two')}`;
const K3 = `ssh-ed25519 ${blob('three')}`;

describe('authorized_keys line parsing (OpenSSH rules)', () => {
  const cases: [string, ReturnType<typeof parseKeyLine>][] = [
    [`${K1} alice@laptop`, { options: '', type: 'ssh-ed25519', blob: blob('one'), comment: 'alice@laptop' }],
    [`${K1}`, { options: '', type: 'ssh-ed25519', blob: blob('one'), comment: '' }],
    [`  ${K1}   two words  \n`, { options: '', type: 'ssh-ed25519', blob: blob('one'), comment: 'two words' }],
    [
      `restrict,command="echo a, b c",permitlisten="localhost:2222" ${K1} dev`,
      {
        options: 'restrict,command="echo a, b c",permitlisten="localhost:2222"',
        type: 'ssh-ed25519',
        blob: blob('one'),
        comment: 'dev',
      },
    ],
    [
      `command="say \\"hi there\\"" ${K1}`,
      { options: 'command="say \\"hi there\\""', type: 'ssh-ed25519', blob: blob('one'), comment: '' },
    ],
    [`ssh-rsa ${blob('r', 'ssh-rsa')} r`, { options: '', type: 'ssh-rsa', blob: blob('r', 'ssh-rsa'), comment: 'r' }],
    ['# a comment', undefined],
    ['', undefined],
    ['not a key', undefined],
    [`ssh-rsa ${blob('one')}`, undefined], // the blob says ssh-ed25519
    [`no-pty "unterminated ${K1}`, undefined],
  ];
  for (const [line, want] of cases)
    it(JSON.stringify(line.slice(0, 50)), () => assert.deepEqual(parseKeyLine(line), want));
  it('options split at unquoted commas', () => {
    assert.deepEqual(splitOptions('a, command="x,y" ,b'), ['a', 'command="x,y"', 'b']);
    assert.throws(() => splitOptions('command="x'), /unbalanced/);
  });
});

describe('authorized_key (on this machine, user root, file in a sandbox)', () => {
  let sb: Sandbox;
  let path: string;
  beforeEach(() => {
    sb?.cleanup();
    sb = sandbox();
    path = sb.p('ssh', 'authorized_keys');
  });
  after(() => sb.cleanup());

  it('adds a key: .ssh dir 0700, file 0600 owned by the user; idempotent', async () => {
    const { first, second } = await converge(authorized_key, { user: 'root', key: `${K1} me`, path }, sb);
    assert.equal(first.changed, true);
    assert.equal(readFileSync(path, 'utf8'), `${K1} me\n`);
    assert.equal(modeOf(sb.p('ssh')), '0700');
    assert.equal(modeOf(path), '0600');
    assert.equal(statSync(path).uid, 0);
    assert.equal(first.result?.keyfile, path);
    assert.deepEqual(first.diff?.at(-1), { before_header: path, after_header: path, before: '', after: `${K1} me\n` });
    assert.equal(second.changed, false);
  });

  it('fixes a too-open directory and file', async () => {
    mkdirSync(sb.p('ssh'), { mode: 0o755 });
    writeFileSync(path, `${K1}\n`, { mode: 0o644 });
    const { first, second } = await converge(authorized_key, { user: 'root', key: K1, path }, sb);
    assert.equal(first.changed, true);
    assert.deepEqual(
      first.steps.map((s) => s.describe),
      [`chmod 0700 ${sb.p('ssh')}`, `chmod 0600 ${path}`],
    );
    assert.equal(modeOf(sb.p('ssh')), '0700');
    assert.equal(modeOf(path), '0600');
    assert.equal(second.changed, false);
  });

  it('replaces the line with the same blob when options/comment differ, in place; other lines untouched', async () => {
    mkdirSync(sb.p('ssh'), { mode: 0o700 });
    const before = `# my keys\n${K2} other\n\nfrom="10.0.0.1" ${K1} old-comment\n${K3} third\n`;
    writeFileSync(path, before, { mode: 0o600 });
    const opts = 'restrict,port-forwarding,permitlisten="localhost:22221"';
    const { first, second } = await converge(
      authorized_key,
      { user: 'root', key: `${K1} relay-device`, key_options: opts, path },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(readFileSync(path, 'utf8'), `# my keys\n${K2} other\n\n${opts} ${K1} relay-device\n${K3} third\n`);
    assert.equal(second.changed, false);
  });

  it('the same key with equivalent options (spacing) is not rewritten', async () => {
    mkdirSync(sb.p('ssh'), { mode: 0o700 });
    writeFileSync(path, `no-pty,no-agent-forwarding  ${K1}  c\n`, { mode: 0o600 });
    const plan = await planWith(
      authorized_key,
      { user: 'root', key: `${K1} c`, key_options: 'no-pty, no-agent-forwarding', path },
      sandboxCtx(sb),
    );
    assert.equal(plan.changed, false);
  });

  it('duplicate lines of a managed key are removed', async () => {
    mkdirSync(sb.p('ssh'), { mode: 0o700 });
    writeFileSync(path, `${K1} a\n${K2}\n${K1} a\n`, { mode: 0o600 });
    await converge(authorized_key, { user: 'root', key: `${K1} a`, path }, sb);
    assert.equal(readFileSync(path, 'utf8'), `${K1} a\n${K2}\n`);
  });

  it('exclusive: only the given keys remain (comments and blank lines go too)', async () => {
    mkdirSync(sb.p('ssh'), { mode: 0o700 });
    writeFileSync(path, `# comment\n${K2} stale\n\n${K1} keep\n`, { mode: 0o600 });
    const { first, second } = await converge(
      authorized_key,
      { user: 'root', key: `${K1} keep\n${K3} new\n`, exclusive: true, path },
      sb,
    );
    assert.equal(first.changed, true);
    assert.equal(readFileSync(path, 'utf8'), `${K1} keep\n${K3} new\n`);
    assert.equal(second.changed, false);
  });

  it('absent removes every line with the blob; a missing file is a no-op', async () => {
    mkdirSync(sb.p('ssh'), { mode: 0o700 });
    writeFileSync(path, `${K1} a\n${K2} b\nno-pty ${K1} c`, { mode: 0o600 });
    const { second } = await converge(authorized_key, { user: 'root', key: K1, state: 'absent', path }, sb);
    assert.equal(readFileSync(path, 'utf8'), `${K2} b\n`);
    assert.equal(second.changed, false);
    const none = await planWith(
      authorized_key,
      { user: 'root', key: K1, state: 'absent', path: sb.p('none', 'ak') },
      sandboxCtx(sb),
    );
    assert.equal(none.changed, false);
  });

  it('appending to a file without trailing newline', async () => {
    mkdirSync(sb.p('ssh'), { mode: 0o700 });
    writeFileSync(path, `${K2} b`, { mode: 0o600 });
    await converge(authorized_key, { user: 'root', key: K1, path }, sb);
    assert.equal(readFileSync(path, 'utf8'), `${K2} b\n${K1}\n`);
  });

  it('check mode writes nothing', async () => {
    const before = snapshot(sb.dir);
    const plan = await planWith(authorized_key, { user: 'root', key: K1, path }, sandboxCtx(sb, { check: true }));
    assert.equal(plan.changed, true);
    assert.deepEqual(snapshot(sb.dir), before);
  });

  it('an invalid key fails the task', async () => {
    const plan = await planWith(authorized_key, { user: 'root', key: 'ssh-ed25519 notbase64!', path }, sandboxCtx(sb));
    assert.match(String(plan.failed), /invalid key/);
  });
});

describe('authorized_key (canned reads)', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('default path from the user home, resolved in the same single read', async () => {
    const ctx = cannedCtx(`group=relay\npath=${b64('/home/relay/.ssh/authorized_keys')}\ndir=absent\n--\nabsent\n`);
    const plan = await planWith(authorized_key, { user: 'relay', key: `${K1} dev` }, ctx);
    assert.equal(ctx.reads.length, 1);
    assert.match(ctx.reads[0], /getent passwd/);
    assert.ok(ctx.reads[0].endsWith(` relay ''`), ctx.reads[0]);
    assert.equal(plan.result?.keyfile, '/home/relay/.ssh/authorized_keys');
    assert.deepEqual(
      plan.steps.map((s) => s.describe),
      ['mkdir /home/relay/.ssh', 'chown relay:relay /home/relay/.ssh', 'write /home/relay/.ssh/authorized_keys'],
    );
    assert.equal(plan.steps[0].command, `sh -c 'mkdir -m 0700 -- "$1"' sh /home/relay/.ssh`);
    const write = plan.steps[2];
    assert.equal(write.stdin, `${K1} dev\n`);
    assert.ok(
      write.command.includes(
        ` /home/relay/.ssh/authorized_keys relay relay 0600 '' ${Buffer.byteLength(write.stdin!)} `,
      ),
      write.command,
    );
  });

  it('unknown user: fails, but in check mode it may be created by an earlier task', async () => {
    const fail = await planWith(authorized_key, { user: 'ghost', key: K1 }, cannedCtx('nouser\n'));
    assert.equal(fail.failed, `Failed to lookup user ghost: "getpwnam(): name not found: 'ghost'"`);
    assert.deepEqual(fail.result, {}, "as Ansible's: the message only");
    const check = await planWith(authorized_key, { user: 'ghost', key: K1 }, cannedCtx('nouser\n', { check: true }));
    assert.equal(check.failed, undefined);
    assert.equal(check.changed, true);
  });

  it('schema', () => {
    const ok = (a: unknown) => schemaOk(authorized_key, a);
    assert.ok(ok({ user: 'relay', key: K1 }));
    assert.ok(
      ok({
        user: 'relay',
        key: K1,
        exclusive: true,
        key_options: 'restrict',
        manage_dir: false,
        state: 'absent',
        path: '/x',
      }),
    );
    assert.ok(!ok({ user: 'relay' }));
    assert.ok(!ok({ user: 'Bad;user', key: K1 }));
    assert.ok(!ok({ user: 'relay', key: K1, validate_certs: true }));
  });
});
