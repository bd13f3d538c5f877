// user: canned reads (this machine's accounts are not touched); the exact planned commands.
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { user } from '../../../src/engine/modules/user.js';
import { createHash } from 'node:crypto';
import { cannedCtx, planWith, schemaOk, planRaw } from './fake-host.js';

const RELAY = 'relay:x:998:998:Relay user:/home/relay:/usr/sbin/nologin';
const facts = (o: {
  passwd?: string;
  pgroup?: string;
  lock?: string;
  group?: string;
  namegroup?: string;
  home?: string;
  extra?: string[];
}) =>
  [
    `passwd=${o.passwd ?? ''}`,
    ...(o.passwd ? [`pgroup=${o.pgroup ?? 'relay'}`, `lock=${o.lock ?? 'locked'}`] : []),
    ...(o.extra ?? []),
    ...(o.group !== undefined ? [`group=${o.group}`] : []),
    `namegroup=${o.namegroup ?? 'no'}`,
    ...(o.home !== undefined ? [`home=${o.home}`] : []),
  ].join('\n') + '\n';

/** The commands of a change's one script, in order (the script's frame left out). */
function inner(command: string): string[] {
  const m = /^exec 3<&0; \{ (.*); \} <\/dev\/null; rc=/s.exec(command);
  return m ? m[1].split(' && ') : [command];
}

interface Case {
  name: string;
  args: Record<string, unknown>;
  read: string;
  check?: boolean;
  commands?: string[];
  stdin?: string;
  failed?: RegExp;
  result?: Record<string, unknown>;
}

const cases: Case[] = [
  {
    name: 'creates a system user with the given fields',
    args: { name: 'relay', system: true, shell: '/usr/sbin/nologin', home: '/var/lib/relay', comment: 'Relay user' },
    read: facts({}),
    commands: ["useradd -c 'Relay user' -d /var/lib/relay -s /usr/sbin/nologin -m -r relay"],
    result: { name: 'relay' },
  },
  {
    name: 'create_home: false → -M; an existing group named like the user → -N',
    args: { name: 'svc', create_home: false },
    read: facts({ namegroup: 'yes' }),
    commands: ['useradd -N -M svc'],
  },
  {
    name: 'primary group given',
    args: { name: 'svc', group: 'users' },
    read: facts({ group: 'users:100' }),
    commands: ['useradd -g users -m svc'],
  },
  {
    name: 'uid, groups, expiry, skeleton, umask; the password on standard input; limits by chage',
    args: {
      name: 'svc',
      uid: 2501,
      non_unique: true,
      groups: ['users', 'audio'],
      expires: 1893456000,
      skeleton: '/srv/skel',
      umask: '027',
      password: '$6$salt$hash',
      password_lock: true,
      password_expire_max: 90,
    },
    read: facts({ extra: ['g=users:users:100', 'g=audio:audio:29'] }),
    commands: [
      'useradd -u 2501 -o -G users,audio -e 2030-01-01 -m -k /srv/skel -K UMASK=027 svc',
      'chpasswd -e <&3',
      'chage -M 90 svc',
    ],
    stdin: 'svc:!$6$salt$hash\n',
  },
  {
    name: 'a wanted group that does not exist fails, as Ansible',
    args: { name: 'svc', groups: 'users,nope' },
    read: facts({ extra: ['g=users:users:100', 'g=nope::'] }),
    failed: /^Group nope does not exist$/,
  },
  {
    name: 'exists and matches: no change, no step',
    args: {
      name: 'relay',
      shell: '/usr/sbin/nologin',
      home: '/home/relay',
      comment: 'Relay user',
      password_lock: true,
    },
    read: facts({ passwd: RELAY, home: 'yes' }),
    commands: [],
    result: {
      name: 'relay',
      state: 'present',
      uid: 998,
      group: 998,
      comment: 'Relay user',
      home: '/home/relay',
      shell: '/usr/sbin/nologin',
      append: false,
      move_home: false,
    },
  },
  {
    name: 'usermod only the fields that differ',
    args: { name: 'relay', shell: '/bin/bash', comment: 'Relay user', home: '/home/relay' },
    read: facts({ passwd: RELAY, home: 'yes' }),
    commands: ['usermod -s /bin/bash relay'],
  },
  {
    name: 'group by name, compared by gid',
    args: { name: 'relay', group: 'users' },
    read: facts({ passwd: RELAY, group: 'users:100', home: 'yes' }),
    commands: ['usermod -g 100 relay'],
  },
  {
    name: 'group already the primary group',
    args: { name: 'relay', group: 'relay' },
    read: facts({ passwd: RELAY, group: 'relay:998', home: 'yes' }),
    commands: [],
  },
  {
    name: 'groups appended: only when one is missing',
    args: { name: 'relay', groups: ['audio'], append: true },
    read: facts({ passwd: RELAY, home: 'yes', extra: ['member=audio,video', 'g=audio:audio:29'] }),
    commands: [],
  },
  {
    name: 'groups replaced',
    args: { name: 'relay', groups: ['audio'] },
    read: facts({ passwd: RELAY, home: 'yes', extra: ['member=audio,video', 'g=audio:audio:29'] }),
    commands: ['usermod -G audio relay'],
  },
  {
    name: 'an empty list of groups empties them',
    args: { name: 'relay', groups: [] },
    read: facts({ passwd: RELAY, home: 'yes', extra: ['member=audio'] }),
    commands: ["usermod -G '' relay"],
  },
  {
    name: 'the same password (compared by digest, on the host): no change; a lock alone',
    args: { name: 'relay', password: '!$6$a$b', password_lock: true },
    read: facts({
      passwd: RELAY,
      lock: 'unlocked',
      home: 'yes',
      extra: [`pwsum=${createHash('sha256').update('$6$a$b').digest('hex')}  -`],
    }),
    commands: ['usermod -L relay'],
  },
  {
    name: 'a new password replaces a lock step (the lock goes with the hash)',
    args: { name: 'relay', password: '$6$a$c', password_lock: true },
    read: facts({ passwd: RELAY, lock: 'unlocked', home: 'yes', extra: ['pwsum=0  -'] }),
    commands: ['chpasswd -e <&3'],
    stdin: 'relay:!$6$a$c\n',
  },
  {
    name: 'update_password: on_create leaves an existing password alone',
    args: { name: 'relay', password: '$6$a$c', update_password: 'on_create' },
    read: facts({ passwd: RELAY, home: 'yes', extra: ['pwsum=0  -'] }),
    commands: [],
  },
  {
    name: 'expires: -1 clears an expiry; limits compared with the shadow entry',
    args: { name: 'relay', expires: -1, password_expire_min: 1, password_expire_max: 90 },
    read: facts({ passwd: RELAY, home: 'yes', extra: ['expire=20000', 'min=1', 'max=99999'] }),
    commands: ["usermod -e '' relay", 'chage -M 90 relay'],
  },
  {
    name: 'the same expiry day: no change',
    args: { name: 'relay', expires: 1893456000 + 3600 },
    read: facts({ passwd: RELAY, home: 'yes', extra: ['expire=21915'] }),
    commands: [],
  },
  {
    name: 'a home moved',
    args: { name: 'relay', home: '/srv/relay', move_home: true },
    read: facts({ passwd: RELAY, home: 'yes' }),
    commands: ['usermod -d /srv/relay -m relay'],
  },
  {
    name: 'password_lock: true on an unlocked account',
    args: { name: 'relay', password_lock: true },
    read: facts({ passwd: RELAY, lock: 'unlocked', home: 'yes' }),
    commands: ['usermod -L relay'],
  },
  {
    name: 'password_lock: false on a locked account',
    args: { name: 'relay', password_lock: false, comment: 'x y' },
    read: facts({ passwd: RELAY, lock: 'locked', home: 'yes' }),
    commands: ["usermod -c 'x y' -U relay"],
  },
  {
    name: 'password_lock without access to /etc/shadow fails clearly',
    args: { name: 'relay', password_lock: true },
    read: facts({ passwd: RELAY, lock: 'unknown', home: 'yes' }),
    failed: /become: true/,
  },
  {
    name: 'missing home of an existing user is created',
    args: { name: 'relay' },
    read: facts({ passwd: RELAY, home: 'no' }),
    commands: [
      `{ [ -d /home/relay ] || { sh -c 'set -e; if [ -d "$2" ]; then mkdir -p -- "$(dirname -- "$1")"; cp -a -- "$2" "$1"; else mkdir -p -- "$1"; fi' sh /home/relay /etc/skel`,
      // (the test splits the script at each &&)
      'chown -R -- relay: /home/relay; }; }',
    ],
  },
  {
    name: 'missing group fails',
    args: { name: 'svc', group: 'nogroup-here' },
    read: facts({ group: '' }),
    failed: /Group nogroup-here does not exist/,
  },
  {
    name: 'a new account in check mode: changed, nothing else said (as Ansible)',
    args: { name: 'svc', group: 'later' },
    read: facts({ group: '' }),
    check: true,
    result: {},
  },
  {
    name: 'absent → userdel',
    args: { name: 'relay', state: 'absent' },
    read: facts({ passwd: RELAY }),
    commands: ['userdel relay'],
  },
  {
    name: 'absent with force and remove → userdel -f -r',
    args: { name: 'relay', state: 'absent', remove: true, force: true },
    read: facts({ passwd: RELAY }),
    commands: ['userdel -f -r relay'],
  },
  {
    name: 'absent and already gone',
    args: { name: 'relay', state: 'absent' },
    read: facts({}),
    commands: [],
  },
];

describe('user (canned facts)', () => {
  for (const c of cases)
    it(c.name, async () => {
      const plan = await planWith(user, c.args as never, cannedCtx(c.read, { check: c.check }));
      if (c.failed) {
        assert.match(String(plan.failed), c.failed);
        assert.deepEqual(plan.steps, []);
        return;
      }
      assert.equal(plan.failed, undefined);
      if (c.commands) {
        assert.deepEqual(plan.steps.map((s) => inner(s.command)).flat(), c.commands);
        assert.equal(plan.changed, c.commands.length > 0);
      } else assert.equal(plan.changed, true);
      assert.equal(plan.steps[0]?.stdin, c.stdin);
      if (c.result) assert.deepEqual(plan.result, c.result);
    });

  it('the read passes the name as a parameter', async () => {
    const ctx = cannedCtx(facts({}));
    await planWith(user, { name: 'relay', group: 'g1', home: '/srv/r' }, ctx);
    assert.ok(ctx.reads[0].startsWith("sh -c '"));
    assert.ok(ctx.reads[0].endsWith(" relay g1 /srv/r '' ''"), ctx.reads[0]);
  });

  it("the read, run by sh: looks up only what the arguments need (this machine's accounts, read only)", async () => {
    const readWith = async (args: Record<string, unknown>) => {
      const ctx = cannedCtx(facts({}));
      await planWith(user, args as never, ctx);
      return spawnSync('sh', ['-c', ctx.reads[0]], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map((l) => l.slice(0, l.indexOf('=')));
    };
    // An existing account, nothing else asked: its passwd line (and whether its home exists) only.
    assert.deepEqual(await readWith({ name: 'root' }), ['passwd', 'home', 'homeparent']);
    // A group and the password's lock asked for: those too.
    assert.deepEqual(await readWith({ name: 'root', group: 'root', password_lock: true }), [
      'passwd',
      'pgroup',
      'lock',
      'pwsum',
      'min',
      'max',
      'expire',
      'group',
      'home',
      'homeparent',
    ]);
    // Supplementary groups: the account's memberships, and each wanted group.
    assert.deepEqual(await readWith({ name: 'root', groups: ['root'] }), [
      'passwd',
      'member',
      'g',
      'home',
      'homeparent',
    ]);
    // No such account: whether a group of its name exists (useradd's -N).
    assert.deepEqual(await readWith({ name: 'no-such-user-relay-play' }), ['passwd', 'namegroup']);
  });

  it("finish reports the created account, or the failure in Ansible's words", async () => {
    const plan = await planWith(user, { name: 'relay', system: true }, cannedCtx(facts({})));
    const stdout = `\n--- relay-play user ---\n${RELAY}\n`;
    assert.deepEqual(plan.finish!([{ code: 0, stdout, stderr: 'useradd: warning\n' }]), {
      state: 'present',
      system: true,
      create_home: true,
      uid: 998,
      group: 998,
      comment: 'Relay user',
      home: '/home/relay',
      shell: '/usr/sbin/nologin',
      stderr: 'useradd: warning\n',
      stderr_lines: ['useradd: warning'],
    });
    assert.deepEqual(plan.finish!([{ code: 4, stdout: '', stderr: 'useradd: UID 998 is not unique\n' }]), {
      failed: true,
      changed: false,
      name: 'relay',
      msg: 'useradd: UID 998 is not unique\n',
      rc: 4,
    });
  });

  it('warns of a password that is not hashed, never showing it', async () => {
    const plan = await planWith(
      user,
      { name: 'relay', password: 'plaintext' },
      cannedCtx(facts({ passwd: RELAY, home: 'yes', extra: ['pwsum=0  -'] })),
    );
    assert.deepEqual(plan.result?.warnings, [
      "The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly.",
    ]);
    assert.equal(plan.result?.password, 'NOT_LOGGING_PASSWORD');
    assert.ok(!plan.steps[0].command.includes('plaintext'), 'never on a command line');
    assert.equal(plan.steps[0].stdin, 'relay:plaintext\n');
  });

  it('a diff of the changed fields', async () => {
    const plan = await planWith(
      user,
      { name: 'relay', shell: '/bin/bash' },
      cannedCtx(facts({ passwd: RELAY, home: 'yes' })),
    );
    assert.deepEqual(plan.diff, [
      {
        before_header: 'user relay',
        after_header: 'user relay',
        before: 'shell: /usr/sbin/nologin\n',
        after: 'shell: /bin/bash\n',
      },
    ]);
  });

  it('schema validates the name', () => {
    assert.ok(schemaOk(user, { name: 'relay' }));
    assert.ok(schemaOk(user, { name: '_svc-1' }));
    assert.ok(schemaOk(user, { name: 'machine$' }));
    assert.ok(!schemaOk(user, { name: 'Relay' }));
    assert.ok(!schemaOk(user, { name: '-rf' }));
    assert.ok(!schemaOk(user, { name: 'a;b' }));
    assert.ok(!schemaOk(user, { name: 'a'.repeat(33) }));
    assert.ok(schemaOk(user, { name: 'a'.repeat(32) }));
    assert.ok(schemaOk(user, { name: 'relay', groups: ['sudo'] }));
    assert.ok(!schemaOk(user, { name: 'relay', groups: ['-rf'] }));
    assert.ok(!schemaOk(user, { name: 'relay', password: 'a:b' }));
    assert.ok(schemaOk(user, { name: 'relay', create_home: 'no', system: 'yes' }));
  });

  it('plan refuses a bad name even without the schema', async () => {
    const plan = await planRaw(user, { name: "x'; reboot #" }, cannedCtx([]));
    assert.match(String(plan.failed), /invalid user name/);
  });
});
