// openssh_keypair with the real ssh-keygen, in a sandbox.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { openssh_keypair } from '../../../src/engine/modules/openssh_keypair.js';
import type { Plan } from '../../../src/engine/modules/types.js';
import {
  applyPlan,
  cannedCtx,
  exists,
  modeOf,
  planWith,
  runLocal,
  sandboxPerTest,
  sandboxCtx,
  schemaOk,
  snapshot,
  type Sandbox,
} from './fake-host.js';

/** The base64 body of a private key file: must never show up anywhere. */
const secretLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'));

function assertNoSecret(path: string, ...things: unknown[]) {
  const text = JSON.stringify(things);
  for (const line of secretLines(path)) assert.ok(!text.includes(line), 'private key material leaked');
  assert.ok(!text.includes('PRIVATE KEY'), 'private key header leaked');
}

const keygen = (path: string, comment: string, sb: Sandbox) => {
  const r = runLocal(`ssh-keygen -q -t ed25519 -N '' -C '${comment}' -f '${path}'`, sb.dir);
  assert.equal(r.code, 0, r.stderr);
};
const fingerprint = (pub: string, sb: Sandbox) =>
  /SHA256:\S+/.exec(runLocal(`ssh-keygen -lf '${pub}'`, sb.dir).stdout)![0];

describe('openssh_keypair', () => {
  const sb = sandboxPerTest();

  it('generates a key (parent dir 0700), reports it, and is idempotent', async () => {
    const path = sb.p('keys', 'id_ed25519');
    const ctx = sandboxCtx(sb);
    const first = await planWith(openssh_keypair, { path, type: 'ed25519', comment: 'relay@dev1' }, ctx);
    assert.equal(ctx.reads.length, 1);
    assert.equal(first.changed, true);
    assert.deepEqual(
      first.steps.map((s) => s.describe),
      [
        `mkdir -m 0700 ${sb.p('keys')}`,
        `ssh-keygen -q -t ed25519 -N '' -C relay@dev1 -f ${path}`,
        `chmod 0644 ${path}.pub`,
        `read ${path}.pub`,
      ],
    );
    const { result, outputs } = applyPlan(first, sb);
    assert.equal(modeOf(sb.p('keys')), '0700');
    assert.equal(modeOf(path), '0600');
    assert.equal(modeOf(`${path}.pub`), '0644');
    const pub = readFileSync(`${path}.pub`, 'utf8').trim().split(' ');
    assert.equal(result.public_key, `${pub[0]} ${pub[1]}`);
    assert.match(String(result.public_key), /^ssh-ed25519 AAAA\S+$/);
    assert.equal(result.comment, 'relay@dev1');
    assert.equal(result.fingerprint, fingerprint(`${path}.pub`, sb));
    assert.equal(result.type, 'ed25519');
    assert.equal(result.filename, path);
    assertNoSecret(path, first, result, outputs);

    const second = await planWith(openssh_keypair, { path, type: 'ed25519', comment: 'relay@dev1' }, sandboxCtx(sb));
    assert.equal(second.changed, false);
    assert.deepEqual(second.steps, []);
    assert.equal(second.result?.public_key, result.public_key);
    assert.equal(second.result?.fingerprint, result.fingerprint);
    assertNoSecret(path, second);
  });

  it('NEVER overwrites an existing key: no generate step, the existing public key is reported', async () => {
    const path = sb.p('id_ed25519');
    keygen(path, 'pre-existing', sb);
    const privBefore = readFileSync(path, 'utf8');
    const ctx = sandboxCtx(sb);
    const outputs: string[] = [];
    const read = ctx.read.bind(ctx);
    ctx.read = (cmd) => {
      const r = read(cmd);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const plan = await planWith(openssh_keypair, { path, type: 'ed25519', comment: 'another comment' }, ctx);
    assert.equal(plan.changed, false);
    assert.ok(!plan.steps.some((s) => s.command.includes('ssh-keygen -q')));
    const pub = readFileSync(`${path}.pub`, 'utf8').trim().split(' ');
    assert.equal(plan.result?.public_key, `${pub[0]} ${pub[1]}`);
    assert.equal(plan.result?.comment, 'pre-existing');
    assert.equal(plan.result?.fingerprint, fingerprint(`${path}.pub`, sb));
    assertNoSecret(path, plan, outputs);
    assert.ok(!ctx.reads.some((c) => /ssh-keygen -y|cat --? "\$p"[^.]/.test(c)), 'the private key is never read');
    applyPlan(plan, sb);
    assert.equal(readFileSync(path, 'utf8'), privBefore);
  });

  it('a key appearing between plan and apply is not overwritten (the step refuses)', async () => {
    const path = sb.p('race');
    const plan = await planWith(openssh_keypair, { path, type: 'ed25519' }, sandboxCtx(sb));
    keygen(path, 'raced', sb);
    const before = readFileSync(path, 'utf8');
    assert.throws(() => applyPlan(plan, sb), /already exists; not overwriting/);
    assert.equal(readFileSync(path, 'utf8'), before);
  });

  it('missing .pub is derived from the private key on the host', async () => {
    const path = sb.p('id');
    keygen(path, 'c', sb);
    const pubBefore = readFileSync(`${path}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const privBefore = readFileSync(path, 'utf8');
    rmSync(`${path}.pub`);
    const plan = await planWith(openssh_keypair, { path, type: 'ed25519' }, sandboxCtx(sb));
    assert.equal(plan.changed, true);
    assert.ok(plan.steps.some((s) => s.describe === `ssh-keygen -y -f ${path} > ${path}.pub`));
    const { result, outputs } = applyPlan(plan, sb);
    assert.equal(result.public_key, pubBefore);
    assert.equal(modeOf(`${path}.pub`), '0644');
    assert.equal(readFileSync(path, 'utf8'), privBefore);
    assertNoSecret(path, plan, result, outputs);
    assert.equal((await planWith(openssh_keypair, { path, type: 'ed25519' }, sandboxCtx(sb))).changed, false);
  });

  it('fixes the mode of an existing private key without touching its content', async () => {
    const path = sb.p('k');
    keygen(path, 'c', sb);
    chmodSync(path, 0o644);
    const plan = await planWith(openssh_keypair, { path, type: 'ed25519' }, sandboxCtx(sb));
    assert.deepEqual(
      plan.steps.map((s) => s.describe),
      [`chmod 0600 ${path}`],
    );
    applyPlan(plan, sb);
    assert.equal(modeOf(path), '0600');
  });

  it('an existing key of another type is refused, not replaced', async () => {
    const path = sb.p('rsa');
    writeFileSync(path, 'opaque', { mode: 0o600 });
    writeFileSync(`${path}.pub`, 'ssh-rsa AAAAB3NzaC1yc2E= old\n');
    const plan = await planWith(openssh_keypair, { path, type: 'ed25519' }, sandboxCtx(sb));
    assert.match(String(plan.failed), /holds a ssh-rsa key, not ed25519; refusing/);
    assert.deepEqual(plan.steps, []);
  });

  it('check mode: changed, an empty public key and no message (as Ansible); nothing created', async () => {
    mkdirSync(sb.p('d'));
    const before = snapshot(sb.dir);
    const plan: Plan = await planWith(
      openssh_keypair,
      { path: sb.p('d', 'sub', 'id'), type: 'ed25519' },
      sandboxCtx(sb, { check: true }),
    );
    assert.equal(plan.changed, true);
    assert.equal(plan.result?.public_key, '');
    assert.equal(plan.msg, undefined);
    assert.deepEqual(snapshot(sb.dir), before);
    assert.equal(exists(sb.p('d', 'sub')), false);
  });

  it('owner/group are applied to both files', async () => {
    const path = sb.p('owned');
    const plan = await planWith(
      openssh_keypair,
      { path, type: 'ed25519', owner: 'nobody', group: 'nogroup' },
      sandboxCtx(sb),
    );
    assert.deepEqual(
      plan.steps.map((s) => s.describe).filter((d) => d.startsWith('chown')),
      [`chown nobody:nogroup ${path}`, `chown nobody:nogroup ${path}.pub`],
    );
    applyPlan(plan, sb);
    assert.equal(
      (await planWith(openssh_keypair, { path, type: 'ed25519', owner: 'nobody', group: 'nogroup' }, sandboxCtx(sb)))
        .changed,
      false,
    );
  });

  it('schema: only ed25519', () => {
    assert.ok(schemaOk(openssh_keypair, { path: '/k', type: 'ed25519', comment: 'c', mode: '0600' }));
    assert.ok(!schemaOk(openssh_keypair, { path: '/k', type: 'rsa' }));
  });

  it("no type: refused, as Ansible's default (rsa) is not made here", async () => {
    const plan = await planWith(openssh_keypair, { path: '/k' }, cannedCtx('key=absent\n'));
    assert.match(String(plan.failed), /default is rsa/);
    assert.ok(!schemaOk(openssh_keypair, { path: '/k', force: true }));
    assert.ok(!schemaOk(openssh_keypair, {}));
  });
});
