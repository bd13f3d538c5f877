// user: a local account via useradd/usermod/userdel. One read gathers the passwd entry, the primary
// group's name, the wanted group, whether the password is locked (never the hash) and the home dir.
import { shFile } from '../util/sh-file.js';
import { shellJoin, shScript } from '../util/quote.js';
import { createHash } from 'node:crypto';
import type { RunResult } from '../connection/types.js';
import type { Module, Plan } from './types.js';
import { boolArg, type BoolArg, aliasRefused, selinuxRefused } from './lib/schema.js';
import { toBool } from '../util/bool.js';
import { fieldsDiff } from './lib/state-diff.js';
import { terminalLines } from './lib/terminal.js';

interface UserArgs {
  name: string;
  state?: 'present' | 'absent';
  uid?: number;
  non_unique?: BoolArg;
  shell?: string;
  home?: string;
  system?: BoolArg;
  create_home?: BoolArg;
  skeleton?: string;
  umask?: string;
  move_home?: BoolArg;
  group?: string;
  groups?: string[] | string;
  append?: BoolArg;
  comment?: string;
  password?: string;
  update_password?: 'always' | 'on_create';
  password_lock?: BoolArg;
  expires?: number;
  password_expire_max?: number;
  password_expire_min?: number;
  remove?: BoolArg;
  force?: BoolArg;
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Ansible's warning for a password that does not look like a crypt(3) hash (never the value itself). */
function passwordWarning(password: string | undefined): string | undefined {
  if (!password || ['*', '!', '*************'].includes(password)) return undefined;
  const fields = password.split('$');
  const last = fields[fields.length - 1];
  const lengths: Record<string, number> = { '1': 22, '5': 43, '6': 86 };
  const bad =
    /[:*!]/.test(password) ||
    fields.length < 3 ||
    /[^a-zA-Z0-9./=]/.test(last) ||
    (lengths[fields[1]] !== undefined && last.length !== lengths[fields[1]]);
  return bad
    ? "The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly."
    : undefined;
}

/** `expires` (seconds since the epoch) as useradd/usermod -e takes it: a UTC date, or '' for never. */
const expiryDate = (expires: number) =>
  expires < 0 ? '' : new Date(Math.floor(expires) * 1000).toISOString().slice(0, 10);

/** The -e a usermod needs for `expires`, given the shadow entry's expiry (days since the epoch; '' none). */
function expiryChange(expires: number, current: string): string | undefined {
  const days = current === '' ? -1 : Number(current);
  if (expires < 0) return days >= 0 ? '' : undefined;
  const had = days < 0 ? undefined : new Date(days * 86_400_000).toISOString().slice(0, 10);
  return had === expiryDate(expires) ? undefined : expiryDate(expires);
}

/** The wanted supplementary groups, as Ansible reads the argument (a list, or comma-separated text). */
function groupList(groups: string[] | string): string[] {
  const list = Array.isArray(groups) ? groups : String(groups).split(',');
  return [...new Set(list.map((g) => String(g).trim()).filter((g) => g))];
}

/** `usermod` arguments for supplementary groups, as Ansible decides them (none when nothing changes). */
function groupsChange(wanted: string[], current: string[], append: boolean): string[] {
  const diff = [...wanted.filter((g) => !current.includes(g)), ...current.filter((g) => !wanted.includes(g))];
  if (!wanted.length) return current.length && !append ? ['-G', ''] : [];
  if (!diff.length) return [];
  if (append) return wanted.some((g) => diff.includes(g)) ? ['-a', '-G', wanted.join(',')] : [];
  return ['-G', wanted.join(',')];
}

/** Marks where a change's own output ends and the account as it is now begins. */
const MARK = '--- relay-play user ---';

/**
 * The whole change as one script (one trip): the commands in order, each run only if the ones before
 * succeeded (a password goes to chpasswd on standard input, never on a command line), then the passwd entry.
 */
function changeScript(name: string, commands: string[]): string {
  return `exec 3<&0; { ${commands.join(' && ')}; } </dev/null; rc=$?; if [ "$rc" -eq 0 ]; then printf '\\n%s\\n' ${shellJoin([MARK])}; getent passwd ${shellJoin([name])}; fi; exit "$rc"`;
}

export const user: Module<UserArgs, 'account'> = {
  refused: {
    ...Object.fromEntries(
      ['generate_ssh_key', 'ssh_key_bits', 'ssh_key_comment', 'ssh_key_file', 'ssh_key_type'].map((k) => [
        k,
        'not yet supported',
      ]),
    ),
    ssh_key_passphrase: "not taken: it would reach ssh-keygen's command line, which every user of the host can read",
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
      uid: { type: 'integer', minimum: 0 },
      non_unique: boolArg,
      shell: { type: 'string', minLength: 1 },
      home: { type: 'string', pattern: '^/' },
      system: boolArg,
      create_home: boolArg,
      skeleton: { type: 'string', minLength: 1 },
      umask: { type: 'string', pattern: '^[0-7]{3,4}$' },
      move_home: boolArg,
      group: { type: 'string', minLength: 1, pattern: '^[^-]' },
      groups: {
        anyOf: [
          { type: 'array', items: { type: 'string', pattern: '^[^-,:]' } },
          { type: 'string', pattern: '^[^-:]*$' },
        ],
      },
      append: boolArg,
      comment: { type: 'string', pattern: '^[^:\\n]*$' },
      password: { type: 'string', pattern: '^[^:\\n]*$' },
      update_password: { enum: ['always', 'on_create'] },
      password_lock: boolArg,
      expires: { type: 'number' },
      password_expire_max: { type: 'integer' },
      password_expire_min: { type: 'integer' },
      remove: boolArg,
      force: boolArg,
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
          args.password_lock !== undefined ||
          args.password !== undefined ||
          args.expires !== undefined ||
          args.password_expire_max !== undefined ||
          args.password_expire_min !== undefined
            ? 'shadow'
            : '',
          args.groups === undefined ? '' : groupList(args.groups).join(',') || ',',
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
    const failed = (msg: string): Plan => ({ changed: false, steps: [], failed: msg, result: {} });

    if (!present) {
      if (!pw) return { changed: false, steps: [], result: { name, state: 'absent' } };
      const force = toBool(args.force, false);
      const remove = toBool(args.remove, false);
      const argv = ['userdel', ...(force ? ['-f'] : []), ...(remove ? ['-r'] : []), name];
      return {
        changed: true,
        steps: [{ describe: `userdel ${name}`, command: shellJoin(argv) }],
        diff: [fieldsDiff(`user ${name}`, { state: 'present' }, { state: 'absent' })!],
        acceptNonZero: true,
        result: ctx.check ? {} : { name, force, remove },
        finish: ([out]) =>
          out && out.code !== 0
            ? commandFailure(out, name)
            : { state: 'absent', ...outputFields(out?.stdout, out?.stderr) },
      };
    }

    const warnings = [passwordWarning(args.password)].filter((w): w is string => !!w);
    if (args.append !== undefined && toBool(args.append) && args.groups === undefined)
      warnings.push(
        "'append' is set, but no 'groups' are specified. Use 'groups' for appending new groups.This will change to an error in Ansible 2.14.",
      );
    const wanted = args.groups === undefined ? undefined : groupList(args.groups);
    const known = new Map(
      (r.stdout.match(/^g=.*$/gm) ?? []).map((l) => {
        const [given, gname, gid] = l.slice(2).split(':');
        return [given, gname ? { name: gname, gid: Number(gid) } : undefined] as const;
      }),
    );
    const missing = wanted?.find((g) => !known.get(g));
    const shadowNeeded = args.password_lock !== undefined || args.password !== undefined || args.expires !== undefined;
    if (pw && f.lock === 'unknown' && shadowNeeded)
      return failed(`cannot read ${name}'s password entry: reading /etc/shadow needs become: true`);

    const createHome = toBool(args.create_home, true);
    const lock = toBool(args.password_lock);
    const commands: string[] = [];
    let stdin: string | undefined;
    const before: Record<string, string | undefined> = {};
    const after: Record<string, string | undefined> = {};
    const setPassword = (hash: string) => {
      commands.push('chpasswd -e <&3');
      stdin = `${name}:${hash}\n`;
    };
    const chage = (minNow: string | undefined, maxNow: string | undefined) => {
      const argv = ['chage'];
      const min = args.password_expire_min;
      const max = args.password_expire_max;
      const differs = (want: number, had: string | undefined) =>
        had === undefined || Number(had === '' ? -1 : had) !== want;
      if (min !== undefined && differs(min, minNow)) argv.push('-m', String(min));
      if (max !== undefined && differs(max, maxNow)) argv.push('-M', String(max));
      if (argv.length > 1) commands.push(shellJoin([...argv, name]));
    };

    if (!pw) {
      if (ctx.check) {
        const d = fieldsDiff(`user ${name}`, { state: 'absent' }, { state: 'present' });
        return { changed: true, steps: [], diff: d ? [d] : [], result: {} };
      }
      if (args.group !== undefined && !f.group) return failed(`Group ${args.group} does not exist`);
      if (missing !== undefined) return failed(`Group ${missing} does not exist`);
      const argv = ['useradd'];
      if (args.uid !== undefined) argv.push('-u', String(args.uid), ...(toBool(args.non_unique, false) ? ['-o'] : []));
      if (args.group !== undefined) argv.push('-g', args.group);
      else if (f.namegroup === 'yes') argv.push('-N'); // as Ansible: a group named like the user already exists
      if (wanted?.length) argv.push('-G', wanted.join(','));
      if (args.comment !== undefined) argv.push('-c', args.comment);
      if (args.home !== undefined) argv.push('-d', args.home);
      if (args.shell !== undefined) argv.push('-s', args.shell);
      if (args.expires !== undefined) argv.push('-e', expiryDate(args.expires));
      if (createHome) {
        argv.push('-m');
        if (args.skeleton !== undefined) argv.push('-k', args.skeleton);
        if (args.umask !== undefined) argv.push('-K', `UMASK=${args.umask}`);
      } else argv.push('-M');
      if (toBool(args.system, false)) argv.push('-r');
      argv.push(name);
      // As Ansible: a home whose parent is missing is made (from the skeleton) before useradd, which
      // cannot make parents, and says so; then it is given to the user.
      const early = args.home !== undefined && createHome && f.homeparent === 'no';
      if (early) commands.push(homeCommand(args.home!, args.skeleton));
      commands.push(shellJoin(argv));
      if (early) commands.push(shellJoin(['chown', '-R', '--', `${name}:`, args.home!]));
      // New accounts start with a locked ("!") password on Debian: a lock alone needs no step.
      if (args.password !== undefined) setPassword(lock ? `!${args.password}` : args.password);
      chage(undefined, undefined);
      Object.assign(before, { state: 'absent' });
      Object.assign(after, {
        state: 'present',
        shell: args.shell,
        home: args.home,
        group: args.group,
        comment: args.comment,
      });
      const d = fieldsDiff(`user ${name}`, before, after);
      return {
        changed: true,
        steps: [{ describe: `useradd ${name}`, command: changeScript(name, commands), ...(stdin && { stdin }) }],
        diff: d ? [d] : [],
        acceptNonZero: true,
        result: { name, ...(warnings.length && { warnings }) },
        finish: (outputs) =>
          accountResult(outputs[0], name, {
            state: 'present',
            system: toBool(args.system, false),
            create_home: createHome,
            ...(args.password !== undefined && { password: 'NOT_LOGGING_PASSWORD' }),
            ...(args.groups !== undefined && { groups: wanted!.join(',') }),
          }),
      };
    }

    // An existing account: usermod for what differs.
    if (args.group !== undefined && !f.group) return failed(`Group ${args.group} does not exist`);
    if (missing !== undefined) return failed(`Group ${missing} does not exist`);
    const argv = ['usermod'];
    if (args.uid !== undefined && args.uid !== pw.uid) {
      argv.push('-u', String(args.uid), ...(toBool(args.non_unique, false) ? ['-o'] : []));
      before.uid = String(pw.uid);
      after.uid = String(args.uid);
    }
    if (args.group !== undefined) {
      const gid = Number(f.group.split(':')[1]);
      if (gid !== pw.gid) {
        argv.push('-g', String(gid));
        before.group = f.pgroup || String(pw.gid);
        after.group = f.group.split(':')[0];
      }
    }
    if (wanted) {
      const current = (f.member ?? '').split(',').filter((g) => g);
      const change = groupsChange(wanted, current, toBool(args.append, false));
      if (change.length) {
        argv.push(...change);
        before.groups = current.join(',');
        after.groups = change[change.length - 1];
      }
    }
    const field = (key: string, had: string, want: string | undefined, flag: string) => {
      if (want === undefined || had === want) return;
      argv.push(flag, want);
      before[key] = had;
      after[key] = want;
    };
    field('comment', pw.comment, args.comment, '-c');
    field('home', pw.home, args.home, '-d');
    if (after.home !== undefined && toBool(args.move_home, false)) argv.push('-m');
    field('shell', pw.shell, args.shell, '-s');
    if (args.expires !== undefined) {
      const e = expiryChange(args.expires, f.expire ?? '');
      if (e !== undefined) {
        argv.push('-e', e);
        after.expires = e || 'never';
      }
    }
    const locked = f.lock === 'locked';
    const passwordChanges =
      (args.update_password ?? 'always') === 'always' &&
      args.password !== undefined &&
      `${sha256(args.password.replace(/^!+/, ''))}  -` !== f.pwsum;
    if (lock !== undefined && lock !== locked && !passwordChanges) {
      argv.push(lock ? '-L' : '-U');
      before.password_lock = String(locked);
      after.password_lock = String(lock);
    }
    if (argv.length > 1) commands.push(shellJoin([...argv, name]));
    if (passwordChanges) {
      setPassword(lock ? `!${args.password}` : args.password!);
      after.password = 'changed';
    }
    const commandsBeforeChage = commands.length;
    chage(f.min, f.max);
    if (commands.length > commandsBeforeChage) after.password_expiry = 'changed';

    // As Ansible: a missing home directory is created (from the skeleton) even for an existing account.
    const home = args.home ?? pw.home;
    if (createHome && home && f.home === 'no') {
      // Asked again when the script runs: a usermod -m before it may have moved the old home there.
      commands.push(
        `{ [ -d ${shellJoin([home])} ] || { ${homeCommand(home, args.skeleton)} && ${shellJoin(['chown', '-R', '--', `${name}:`, home])}; }; }`,
      );
      before.home_exists = 'false';
      after.home_exists = 'true';
    }

    const d = fieldsDiff(`user ${name}`, before, after);
    const extra = {
      append: toBool(args.append, false),
      move_home: toBool(args.move_home, false),
      ...(args.password !== undefined && { password: 'NOT_LOGGING_PASSWORD' }),
      ...(args.groups !== undefined && { groups: wanted!.join(',') }),
      ...(warnings.length && { warnings }),
    };
    const now = {
      name,
      state: 'present',
      uid: pw.uid,
      group: pw.gid,
      comment: pw.comment,
      home: pw.home,
      shell: pw.shell,
    };
    if (!commands.length) return { changed: false, steps: [], diff: [], result: { ...now, ...extra } };
    return {
      changed: true,
      steps: [{ describe: `usermod ${name}`, command: changeScript(name, commands), ...(stdin && { stdin }) }],
      diff: d ? [d] : [],
      acceptNonZero: true,
      // Check mode shows the account as it is, as Ansible's.
      result: { ...now, ...extra },
      finish: (outputs) => accountResult(outputs[0], name, {}),
    };
  },
};

/** Make a home directory from the skeleton (/etc/skel unless given), as Ansible's module does. */
function homeCommand(home: string, skeleton: string | undefined): string {
  return shScript(
    'set -e; if [ -d "$2" ]; then mkdir -p -- "$(dirname -- "$1")"; cp -a -- "$2" "$1"; else mkdir -p -- "$1"; fi',
    [home, skeleton ?? '/etc/skel'],
  );
}

/** What a change's script printed: its failure as Ansible's, or the account as it is now. */
function accountResult(
  out: RunResult | undefined,
  name: string,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  if (!out) return {};
  const at = out.stdout.lastIndexOf(`\n${MARK}\n`);
  if (out.code !== 0 || at < 0) return commandFailure(out, name);
  const now = parsePasswd(out.stdout.slice(at + MARK.length + 2).trim());
  return {
    ...extra,
    ...(now && { uid: now.uid, group: now.gid, comment: now.comment, home: now.home, shell: now.shell }),
    ...outputFields(out.stdout.slice(0, at), out.stderr),
  };
}

/** A command that failed, as Ansible's module reports it: its error output as the message. */
const commandFailure = (out: RunResult, name: string) => ({
  failed: true,
  changed: false,
  name,
  msg: out.stderr,
  rc: out.code,
});

/** A command's output in the result when there was any, with its lines (as Ansible adds them). */
const outputFields = (stdout = '', stderr = '') => ({
  ...(stdout && { stdout, stdout_lines: terminalLines(stdout) }),
  ...(stderr && { stderr, stderr_lines: terminalLines(stderr) }),
});
