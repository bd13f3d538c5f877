// user: canned reads (this machine's accounts are not touched); the exact planned commands.
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { user } from '../../../src/engine/modules/user.js';
import { cannedCases, cannedCtx, planWith, schemaOk, type CannedCase, planRaw } from './fake-host.js';

const RELAY = 'relay:x:998:998:Relay user:/home/relay:/usr/sbin/nologin';
const facts = (o: {
  passwd?: string;
  pgroup?: string;
  lock?: string;
  group?: string;
  namegroup?: string;
  home?: string;
}) =>
  [
    `passwd=${o.passwd ?? ''}`,
    ...(o.passwd ? [`pgroup=${o.pgroup ?? 'relay'}`, `lock=${o.lock ?? 'locked'}`] : []),
    ...(o.group !== undefined ? [`group=${o.group}`] : []),
    `namegroup=${o.namegroup ?? 'no'}`,
    ...(o.home !== undefined ? [`home=${o.home}`] : []),
  ].join('\n') + '\n';

const cases: CannedCase[] = [
  {
    name: 'creates a system user with the given fields',
    args: { name: 'relay', system: true, shell: '/usr/sbin/nologin', home: '/var/lib/relay', comment: 'Relay user' },
    read: facts({}),
    commands: ["useradd -c 'Relay user' -d /var/lib/relay -s /usr/sbin/nologin -m -r relay && getent passwd relay"],
    changed: true,
    result: { name: 'relay', state: 'present', home: '/var/lib/relay', shell: '/usr/sbin/nologin' },
  },
  {
    name: 'create_home: false → -M; an existing group named like the user → -N',
    args: { name: 'svc', create_home: false },
    read: facts({ namegroup: 'yes' }),
    commands: ['useradd -N -M svc && getent passwd svc'],
  },
  {
    name: 'primary group given',
    args: { name: 'svc', group: 'users' },
    read: facts({ group: 'users:100' }),
    commands: ['useradd -g users -m svc && getent passwd svc'],
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
    changed: false,
    result: { name: 'relay', state: 'present', uid: 998, home: '/home/relay', shell: '/usr/sbin/nologin' },
  },
  {
    name: 'usermod only the fields that differ',
    args: { name: 'relay', shell: '/bin/bash', comment: 'Relay user', home: '/home/relay' },
    read: facts({ passwd: RELAY, home: 'yes' }),
    commands: ['usermod -s /bin/bash relay'],
    result: { name: 'relay', state: 'present', uid: 998, home: '/home/relay', shell: '/bin/bash' },
  },
  {
    name: 'group by name, compared by gid',
    args: { name: 'relay', group: 'users' },
    read: facts({ passwd: RELAY, group: 'users:100', home: 'yes' }),
    commands: ['usermod -g users relay'],
  },
  {
    name: 'group already the primary group',
    args: { name: 'relay', group: 'relay' },
    read: facts({ passwd: RELAY, group: 'relay:998', home: 'yes' }),
    commands: [],
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
      `sh -c 'set -e; if [ -d /etc/skel ]; then mkdir -p -- "$(dirname -- "$1")"; cp -a /etc/skel "$1"; else mkdir -p -- "$1"; fi; chown -R -- "$2" "$1"' sh /home/relay relay:`,
    ],
  },
  {
    name: 'missing group fails',
    args: { name: 'svc', group: 'nogroup-here' },
    read: facts({ group: '' }),
    failed: /Group nogroup-here does not exist/,
  },
  {
    name: 'missing group in check mode: planned (an earlier task may create it)',
    args: { name: 'svc', group: 'later' },
    read: facts({ group: '' }),
    check: true,
    commands: ['useradd -g later -m svc && getent passwd svc'],
  },
  {
    name: 'absent → userdel',
    args: { name: 'relay', state: 'absent' },
    read: facts({ passwd: RELAY }),
    commands: ['userdel relay'],
    changed: true,
  },
  {
    name: 'absent with remove → userdel -r',
    args: { name: 'relay', state: 'absent', remove: true },
    read: facts({ passwd: RELAY }),
    commands: ['userdel -r relay'],
  },
  {
    name: 'absent and already gone',
    args: { name: 'relay', state: 'absent' },
    read: facts({}),
    commands: [],
    changed: false,
  },
];

describe('user (canned facts)', () => {
  cannedCases(user, cases);

  it('the read passes the name as a parameter', async () => {
    const ctx = cannedCtx(facts({}));
    await planWith(user, { name: 'relay', group: 'g1', home: '/srv/r' }, ctx);
    assert.ok(ctx.reads[0].startsWith("sh -c '"));
    assert.ok(ctx.reads[0].endsWith(" relay g1 /srv/r ''"), ctx.reads[0]);
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
    assert.deepEqual(await readWith({ name: 'root' }), ['passwd', 'home']);
    // A group and the password's lock asked for: those too.
    assert.deepEqual(await readWith({ name: 'root', group: 'root', password_lock: true }), [
      'passwd',
      'pgroup',
      'lock',
      'group',
      'home',
    ]);
    // No such account: whether a group of its name exists (useradd's -N).
    assert.deepEqual(await readWith({ name: 'no-such-user-relay-play' }), ['passwd', 'namegroup']);
  });

  it('finish reports the uid of a created user', async () => {
    const plan = await planWith(user, { name: 'relay', system: true }, cannedCtx(facts({})));
    assert.deepEqual(plan.finish!([{ code: 0, stdout: `${RELAY}\n`, stderr: '' }]), {
      uid: 998,
      home: '/home/relay',
      shell: '/usr/sbin/nologin',
    });
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
    assert.ok(!schemaOk(user, { name: 'relay', groups: ['sudo'] }));
    assert.ok(schemaOk(user, { name: 'relay', create_home: 'no', system: 'yes' }));
  });

  it('plan refuses a bad name even without the schema', async () => {
    const plan = await planRaw(user, { name: "x'; reboot #" }, cannedCtx([]));
    assert.match(String(plan.failed), /invalid user name/);
  });
});
