// user: a local account via useradd/usermod/userdel. One read gathers the passwd entry, the primary
// group's name, the wanted group, whether the password is locked (never the hash) and the home dir.
import { shFile } from '../util/sh-file.js';
import { shellJoin, shScript } from '../util/quote.js';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan, Step } from './types.js';
import { boolArg, type BoolArg, aliasRefused, selinuxRefused } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { fieldsDiff } from './lib/state-diff.js';

interface UserArgs {
  name: string;
  state?: 'present' | 'absent';
  shell?: string;
  home?: string;
  system?: BoolArg;
  create_home?: BoolArg;
  group?: string;
  comment?: string;
  password_lock?: BoolArg;
  remove?: BoolArg;
}

export const USER_NAME = '^[a-z_][a-z0-9_-]*[$]?$';

// $1 name, $2 wanted group (or ''), $3 wanted home (or ''), $4 "lock" to read the password's lock.
// Fields are cut with \${x%%:*} and \${x#*:}, not cut(1), and only what the arguments need is looked
// up: this runs on every apply, and each process counts on a small device.
const SCRIPT = () => shFile('engine/modules/user.sh');

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

function parsePasswd(line: string): PasswdEntry | undefined {
  if (!line) return undefined;
  const f = line.split(':');
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), comment: f[4] ?? '', home: f[5] ?? '', shell: f[6] ?? '' };
}

function parseFacts(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

const validName = (name: string) => new RegExp(USER_NAME).test(name) && name.length <= 32;

export const user: Module<UserArgs, 'account'> = {
  refused: {
    ...Object.fromEntries(
      [
        'uid',
        'groups',
        'append',
        'password',
        'update_password',
        'expires',
        'password_expire_max',
        'password_expire_min',
        'non_unique',
        'skeleton',
        'move_home',
        'force',
        'umask',
        'generate_ssh_key',
        'ssh_key_bits',
        'ssh_key_comment',
        'ssh_key_file',
        'ssh_key_passphrase',
        'ssh_key_type',
      ].map((k) => [k, 'not yet supported']),
    ),
    local: 'Debian has no luseradd',
    hidden: 'macOS only (a hidden account)',
    login_class: 'BSD only',
    ...Object.fromEntries(['authorization', 'profile', 'role'].map((k) => [k, 'Solaris only'])),
    seuser: selinuxRefused.seuser,
    user: aliasRefused('name'),
    createhome: aliasRefused('create_home'),
  },
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: USER_NAME, maxLength: 32 },
      state: { enum: ['present', 'absent'] },
      shell: { type: 'string', minLength: 1 },
      home: { type: 'string', pattern: '^/' },
      system: boolArg,
      create_home: boolArg,
      group: { type: 'string', minLength: 1, pattern: '^[^-]' },
      comment: { type: 'string', pattern: '^[^:\\n]*$' },
      password_lock: boolArg,
      remove: boolArg,
    },
    required: ['name'],
    additionalProperties: false,
  },

  // A name the plan refuses is not even read.
  reads: (args) => ({
    ...(validName(args.name) && {
      account: {
        command: shScript(SCRIPT(), [
          args.name,
          args.group ?? '',
          args.home ?? '',
          args.password_lock === undefined ? '' : 'lock',
        ]),
      },
    }),
  }),

  plan(args, ctx, read): Plan {
    const { name } = args;
    if (!validName(name)) return { changed: false, steps: [], failed: `invalid user name ${JSON.stringify(name)}` };
    const present = (args.state ?? 'present') === 'present';

    const r = read.account;
    if (r.code !== 0) throw new Error(`cannot look up user ${name}: ${r.stderr.trim() || `exit ${r.code}`}`);
    const f = parseFacts(r.stdout);
    const pw = parsePasswd(f.passwd ?? '');

    if (!present) {
      if (!pw) return { changed: false, steps: [], result: { name, state: 'absent' } };
      const argv = ['userdel', ...(toBool(args.remove, false) ? ['-r'] : []), name];
      return {
        changed: true,
        steps: [{ describe: `userdel ${name}`, command: shellJoin(argv) }],
        diff: [fieldsDiff(`user ${name}`, { state: 'present' }, { state: 'absent' })!],
        result: { name, state: 'absent' },
      };
    }

    // The wanted primary group: "name:gid" when it exists.
    let wantGid: number | undefined;
    if (args.group !== undefined) {
      if (!f.group) {
        if (!ctx.check)
          return { changed: false, steps: [], failed: `Group ${args.group} does not exist`, result: { name } };
      } else {
        wantGid = Number(f.group.split(':')[1]);
      }
    }
    const createHome = toBool(args.create_home, true);
    const steps: Step[] = [];
    const before: Record<string, string | undefined> = {};
    const after: Record<string, string | undefined> = {};
    let result: Record<string, unknown>;
    let finish: Plan['finish'];

    if (!pw) {
      const argv = ['useradd'];
      if (args.group !== undefined) argv.push('-g', args.group);
      else if (f.namegroup === 'yes') argv.push('-N'); // as Ansible: a group named like the user already exists
      if (args.comment !== undefined) argv.push('-c', args.comment);
      if (args.home !== undefined) argv.push('-d', args.home);
      if (args.shell !== undefined) argv.push('-s', args.shell);
      argv.push(createHome ? '-m' : '-M');
      if (toBool(args.system, false)) argv.push('-r');
      argv.push(name);
      // New accounts start with a locked ("!") password on Debian, so password_lock needs no step.
      steps.push({
        describe: `useradd ${name}`,
        command: `${shellJoin(argv)} && ${shellJoin(['getent', 'passwd', name])}`,
      });
      Object.assign(before, { state: 'absent' });
      Object.assign(after, {
        state: 'present',
        shell: args.shell,
        home: args.home,
        group: args.group,
        comment: args.comment,
      });
      result = {
        name,
        state: 'present',
        ...(args.home !== undefined ? { home: args.home } : {}),
        ...(args.shell !== undefined ? { shell: args.shell } : {}),
      };
      finish = (outputs: RunResult[]) => {
        const created = parsePasswd(outputs[0]?.stdout.trim().split('\n').pop() ?? '');
        return created ? { uid: created.uid, home: created.home, shell: created.shell } : {};
      };
    } else {
      const argv = ['usermod'];
      const diff = (key: string, had: string, want: string | undefined, flag: string) => {
        if (want === undefined || had === want) return;
        argv.push(flag, want);
        before[key] = had;
        after[key] = want;
      };
      if (wantGid !== undefined && wantGid !== pw.gid) {
        argv.push('-g', args.group!);
        before.group = f.pgroup || String(pw.gid);
        after.group = args.group;
      } else if (args.group !== undefined && wantGid === undefined) {
        // Check mode, and the group does not exist yet (an earlier task may create it).
        argv.push('-g', args.group);
        before.group = f.pgroup || String(pw.gid);
        after.group = args.group;
      }
      diff('comment', pw.comment, args.comment, '-c');
      diff('home', pw.home, args.home, '-d');
      diff('shell', pw.shell, args.shell, '-s');
      const lock = toBool(args.password_lock);
      if (lock !== undefined) {
        if (f.lock === 'unknown')
          return {
            changed: false,
            steps: [],
            failed: `cannot tell whether ${name}'s password is locked: reading /etc/shadow needs become: true`,
            result: { name },
          };
        const locked = f.lock === 'locked';
        if (lock !== locked) {
          argv.push(lock ? '-L' : '-U');
          before.password_lock = String(locked);
          after.password_lock = String(lock);
        }
      }
      if (argv.length > 1) steps.push({ describe: `usermod ${name}`, command: shellJoin([...argv, name]) });
      result = { name, state: 'present', uid: pw.uid, home: args.home ?? pw.home, shell: args.shell ?? pw.shell };
    }

    // As Ansible: a missing home directory is created (from /etc/skel) even for an existing account.
    const home = args.home ?? pw?.home;
    if (pw && createHome && home && f.home === 'no') {
      steps.push({
        describe: `create home ${home}`,
        command: shScript(
          'set -e; if [ -d /etc/skel ]; then mkdir -p -- "$(dirname -- "$1")"; cp -a /etc/skel "$1"; else mkdir -p -- "$1"; fi; chown -R -- "$2" "$1"',
          [home, `${name}:`],
        ),
      });
      before.home_exists = 'false';
      after.home_exists = 'true';
    }

    const d = fieldsDiff(`user ${name}`, before, after);
    return { changed: steps.length > 0, steps, diff: d ? [d] : [], result, finish };
  },
};
