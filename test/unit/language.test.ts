// The playbook language as ansible-playbook reads it (issue 24), run by the real CLI on this machine
// (ansible_connection: local): free-form arguments, args:, action:/local_action:, runtime conditions,
// play and task keywords. Each expectation is what ansible-playbook 2.14 does with the same playbook.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const CLI = fileURLToPath(new URL('../../../bin/relay-play.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'relay-play-language-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const inventory = join(dir, 'inventory.yaml');
writeFileSync(
  inventory,
  stringify({
    all: {
      hosts: { h1: { ansible_connection: 'local' }, h2: { ansible_connection: 'local' } },
      children: { web: { hosts: { h3: { ansible_connection: 'local' } } } },
    },
  }),
);

interface JsonRun {
  plays: {
    play: { name: string };
    tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[];
  }[];
  stats: Record<string, Record<string, number>>;
}

function run(plays: unknown, ...args: string[]) {
  const pb = join(dir, `pb-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(pb, typeof plays === 'string' ? plays : stringify(plays));
  const r = spawnSync(process.execPath, [CLI, 'run', '--json', pb, '-i', inventory, ...args], {
    encoding: 'utf8',
    cwd: dir,
  });
  let json: JsonRun | undefined;
  try {
    json = JSON.parse(r.stdout) as JsonRun;
  } catch {
    json = undefined;
  }
  return { code: r.status, json, all: r.stdout + r.stderr };
}

/** Each task's result on `host`, by task name, over all plays. */
function results(json: JsonRun | undefined, host = 'h1'): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of json?.plays ?? []) for (const t of p.tasks) if (t.hosts[host]) out[t.task.name] = t.hosts[host];
  return out;
}

const play = (tasks: unknown[], extra: Record<string, unknown> = {}) => [
  { hosts: 'h1', gather_facts: false, tasks, ...extra },
];

describe('free-form arguments, args:, action:', () => {
  it('key=value words wherever a module takes arguments, with the quoting Ansible reads', () => {
    const f = join(dir, 'ff-dir');
    const r = run(
      play([
        { name: 'file', file: `path=${f} state=directory mode=0750` },
        { name: 'cmd', command: `pwd chdir=${f}`, register: 'c' },
        { name: 'quoted', debug: 'msg="{{ c.stdout }} is \'here\'"' },
        { name: 'args', command: 'pwd', args: { chdir: '/' } },
        { name: 'action', action: 'debug msg="by action"' },
        { name: 'action map', action: { module: 'ansible.builtin.debug', msg: 'by map' } },
        { name: 'local', local_action: 'command echo local' },
        { 'ansible.legacy.debug': 'msg=legacy' },
      ]),
    );
    assert.equal(r.code, 0, r.all);
    const got = results(r.json);
    assert.ok(existsSync(f));
    assert.equal(got.cmd.stdout, f);
    assert.equal(got.quoted.msg, `${f} is 'here'`);
    assert.equal(got.args.stdout, '/');
    assert.equal(got.action.msg, 'by action');
    assert.equal(got['action map'].msg, 'by map');
    assert.equal(got.local.stdout, 'local');
    assert.equal(got['ansible.legacy.debug'].msg, 'legacy');
  });

  it('words that are not key=value are refused where Ansible refuses them', () => {
    const r = run(play([{ file: 'path=/tmp/x directory' }]));
    assert.notEqual(r.code, 0);
    assert.match(r.all, /this task 'file' has extra params/);
  });
});

describe('undefined variables are asked about when the task runs', () => {
  it('a skipped task, an ignored error and a rescued one may name an undefined variable', () => {
    const r = run(
      play([
        { name: 'skipped', debug: { msg: '{{ nope }}' }, when: false },
        { name: 'ignored', debug: { msg: 'hi' }, when: 'nope == 1', ignore_errors: true },
        { block: [{ name: 'in block', command: 'echo {{ nope }}' }], rescue: [{ name: 'rescue', debug: 'msg=r' }] },
        { name: 'guarded', debug: { msg: '{{ nope is defined }}' } },
      ]),
    );
    assert.equal(r.code, 0, r.all);
    const got = results(r.json);
    assert.equal(got.skipped.skipped, true);
    assert.equal(got.ignored.failed, true);
    assert.equal(got['in block'].failed, true);
    assert.equal(got.rescue.msg, 'r');
    assert.equal(got.guarded.msg, false);
  });

  it('an undefined variable fails its task (exit 2), after the tasks before it ran', () => {
    const r = run(
      play([
        { name: 'first', debug: 'msg=1' },
        { name: 'bad', debug: { msg: '{{ nope }}' } },
      ]),
    );
    assert.equal(r.code, 2, r.all);
    assert.equal(results(r.json).first.msg, '1');
    assert.match(String(results(r.json).bad.msg), /nope/);
  });
});

describe('exit codes as ansible-playbook', () => {
  it("4 for what Ansible's parser refuses, 2 for a task that could only fail", () => {
    assert.equal(run(play([{ name: 'x', frobnicate: {} }])).code, 4);
    assert.equal(run(play([{ command: 'true', shell: 'true' }])).code, 4);
    assert.equal(run('- hosts: h1\n  tasks: [\n').code, 4);
    assert.equal(run(play([{ file: { path: '/tmp/x', mod: '0644' } }])).code, 2);
  });

  it('4 for a mistake in a file an include reads when reached: the run stops there, as ansible-playbook', () => {
    writeFileSync(join(dir, 'two-modules.yml'), stringify([{ name: 'two', debug: 'msg=x', command: 'echo y' }]));
    const r = run([
      {
        hosts: 'h1:h2',
        gather_facts: false,
        vars: { which: 'two-modules' },
        tasks: [
          // Neither ignore_errors nor a rescue keeps the run going.
          { block: [{ name: 'inc', include_tasks: '{{ which }}.yml', ignore_errors: true }], rescue: [] },
          { name: 'after', debug: 'msg=after' },
        ],
      },
      { hosts: 'h1', gather_facts: false, tasks: [{ name: 'next play', debug: 'msg=x' }] },
    ]);
    assert.equal(r.code, 4, r.all);
    assert.match(r.all, /two-modules\.yml:\d+:\d+: conflicting action statements: debug, command/);
    // Nothing after it ran, and no recap: --json prints nothing, as Ansible's json callback.
    assert.equal(r.json, undefined, r.all);
    assert.doesNotMatch(r.all, /"after"|next play/);
  });

  it('a host pattern naming nothing is warned of (file:line) and ignored, as ansible-playbook', () => {
    const r = run([
      { hosts: 'webservers', gather_facts: false, tasks: [{ name: 'none', debug: 'msg=x' }] },
      { hosts: 'h1:nosuch', gather_facts: false, tasks: [{ name: 'one', debug: 'msg=y' }] },
    ]);
    assert.equal(r.code, 0, r.all);
    assert.match(
      r.all,
      /\[WARNING\]: \S+pb-\w+\.yaml:1:\d+: could not match supplied host pattern, ignoring: webservers/,
    );
    assert.match(r.all, /ignoring: nosuch/);
    assert.equal(results(r.json).none, undefined);
    assert.equal(results(r.json).one.msg, 'y');
    const limited = run(play([{ name: 'l', debug: 'msg=z' }]), '--limit', 'h1:h9');
    assert.equal(limited.code, 0, limited.all);
    assert.match(limited.all, /--limit: could not match supplied host pattern, ignoring: h9/);
    assert.equal(results(limited.json).l.msg, 'z');
    const none = run(play([{ name: 'l', debug: 'msg=z' }]), '--limit', 'h9');
    assert.equal(none.code, 1, none.all);
    assert.match(none.all, /--limit h9: no host or group named "h9"/);
  });

  it('2 for a command line that does not parse (an unknown option), with what to do', () => {
    const r = run(play([{ debug: 'msg=x' }]), '--frobnicate');
    assert.equal(r.code, 2, r.all);
    assert.match(r.all, /unknown option '--frobnicate'/);
    assert.equal(run(play([{ debug: 'msg=x' }])).code, 0);
  });
});

describe('plays', () => {
  it('vars as a list, vars_files (first found), import_playbook with its vars', () => {
    writeFileSync(join(dir, 'v1.yml'), 'from_file: one\n');
    writeFileSync(join(dir, 'imp.yml'), stringify(play([{ name: 'imported', debug: { msg: '{{ marker }}' } }])));
    const r = run([
      {
        hosts: 'h1',
        gather_facts: false,
        vars: [{ a: 1 }, { b: '{{ a + 1 }}' }],
        vars_files: [['missing.yml', 'v1.yml']],
        tasks: [{ name: 'v', debug: { msg: '{{ a }} {{ b }} {{ from_file }}' } }],
      },
      { import_playbook: 'imp.yml', vars: { marker: 'm' } },
    ]);
    assert.equal(r.code, 0, r.all);
    assert.equal(results(r.json).v.msg, '1 2 one');
    assert.equal(results(r.json).imported.msg, 'm');
  });

  it('gather_facts defaults to true, as in Ansible; vars_prompt is refused', () => {
    const r = run([{ hosts: 'h1', tasks: [{ name: 'f', debug: { msg: '{{ ansible_facts.hostname is defined }}' } }] }]);
    assert.equal(r.code, 0, r.all);
    assert.equal(results(r.json)['Gathering Facts'].action, 'gather_facts');
    assert.equal(results(r.json).f.msg, true);
    const p = run([{ hosts: 'h1', vars_prompt: [{ name: 'x' }], tasks: [] }]);
    assert.equal(p.code, 4);
    assert.match(p.all, /vars_prompt is not supported/);
  });

  it('serial makes batches; any_errors_fatal stops every host; meta end_play ends the play for all', () => {
    const r = run([
      {
        hosts: 'all',
        gather_facts: false,
        serial: 1,
        tasks: [{ name: 'b', debug: { msg: '{{ ansible_play_batch | default(play_hosts) | length }}' } }],
      },
    ]);
    assert.equal(r.code, 0, r.all);
    assert.equal(String(results(r.json, 'h2').b.msg), '1');
    const f = run([
      {
        hosts: 'all',
        gather_facts: false,
        any_errors_fatal: true,
        tasks: [
          { name: 'fail on h1', fail: { msg: 'x' }, when: "inventory_hostname == 'h1'" },
          { name: 'after', debug: { msg: 'after' } },
        ],
      },
    ]);
    assert.equal(f.code, 2, f.all);
    assert.equal(results(f.json, 'h2').after, undefined);
    const e = run([
      {
        hosts: 'all',
        gather_facts: false,
        tasks: [
          { meta: 'end_play', when: "inventory_hostname == 'h1'" },
          { name: 'after', debug: { msg: 'x' } },
        ],
      },
    ]);
    assert.equal(e.code, 0, e.all);
    assert.equal(results(e.json, 'h2').after, undefined);
  });
});

describe('tasks', () => {
  it('run_once on include_tasks / include_role: the first host includes, the others register its result', () => {
    writeFileSync(join(dir, 'once.yml'), stringify([{ name: 'included', command: 'echo {{ inventory_hostname }}' }]));
    mkdirSync(join(dir, 'roles', 'once_role', 'tasks'), { recursive: true });
    writeFileSync(
      join(dir, 'roles', 'once_role', 'tasks', 'main.yml'),
      stringify([{ name: 'role task', debug: 'msg=r' }]),
    );
    const r = run([
      {
        hosts: 'h1:h2',
        gather_facts: false,
        tasks: [
          { name: 'inc', include_tasks: 'once.yml', run_once: true, register: 'inc' },
          { name: 'after', debug: { msg: '{{ inc.include }}' } },
          { name: 'role', include_role: { name: 'once_role' }, run_once: true },
          { name: 'apply', include_tasks: { file: 'once.yml', apply: { run_once: true } } },
        ],
      },
    ]);
    assert.equal(r.code, 0, r.all);
    // As ansible-playbook 2.14 with the same playbook: which hosts report each task, and the recap.
    const hostsOf = (name: string) =>
      r.json!.plays[0].tasks.filter((t) => t.task.name === name).map((t) => Object.keys(t.hosts).sort());
    assert.deepEqual(hostsOf('inc'), [['h1']]);
    assert.deepEqual(hostsOf('included'), [['h1'], ['h1']]);
    assert.deepEqual(hostsOf('after'), [['h1', 'h2']]);
    assert.equal(results(r.json, 'h2').after.msg, 'once.yml');
    assert.deepEqual(hostsOf('role'), [['h1']]);
    assert.deepEqual(hostsOf('once_role : role task'), [['h1']]);
    assert.deepEqual(hostsOf('apply'), [['h1', 'h2']]);
    assert.deepEqual(
      [r.json!.stats.h1.ok, r.json!.stats.h1.changed, r.json!.stats.h2.ok, r.json!.stats.h2.changed],
      [6, 2, 2, 0],
    );
  });

  it('until/retries, environment, meta flush_handlers, group_by into a later play', () => {
    const f = join(dir, 'until-count');
    const r = run([
      {
        hosts: 'h1',
        gather_facts: false,
        tasks: [
          { name: 'u', shell: `echo x >> ${f}; wc -l < ${f}`, register: 'c', until: 'c.stdout | int >= 3', delay: 0 },
          { name: 'e', shell: 'echo $X', environment: { X: 'set' } },
          { name: 'n', command: 'true', notify: 'h' },
          { meta: 'flush_handlers' },
          { name: 'after flush', debug: { msg: 'a' } },
          { name: 'g', group_by: { key: 'made' } },
        ],
        handlers: [{ name: 'h', debug: { msg: 'handled' } }],
      },
      { hosts: 'made', gather_facts: false, tasks: [{ name: 'in made', debug: { msg: 'made' } }] },
    ]);
    assert.equal(r.code, 0, r.all);
    const got = results(r.json);
    assert.equal(got.u.attempts, 3);
    assert.equal(got.e.stdout, 'set');
    const names = r.json!.plays[0].tasks.map((t) => t.task.name);
    assert.ok(names.indexOf('h') < names.indexOf('after flush'), names.join(', '));
    assert.equal(got['in made'].msg, 'made');
  });

  it('a handler that changes something notifies others (once each per flush, in handler order)', () => {
    const r = run(
      play([{ name: 't', command: 'true', notify: 'first' }], {
        // Its own play name: a notification left pending is keyed by play and handler (pending.ts).
        name: `handler chain ${process.pid}`,
        handlers: [
          { name: 'second', debug: 'msg=second' },
          { name: 'first', command: 'true', notify: ['second', 'first'] },
          { name: 'third', debug: 'msg=third', listen: 'second' },
          { name: 'unchanged', debug: 'msg=u', notify: 'never' },
          { name: 'never', debug: 'msg=n' },
        ],
      }),
    );
    assert.equal(r.code, 0, r.all);
    const names = r.json!.plays.flatMap((p) => p.tasks.map((t) => t.task.name));
    assert.deepEqual(names, ['t', 'first', 'second', 'third']);
  });

  it("a role's meta/main.yml dependencies run first, once per play", () => {
    const roles = join(dir, 'roles');
    for (const [name, deps] of [
      ['base', []],
      ['app', ['base']],
      ['web', ['base', { role: 'app' }]],
    ] as const) {
      mkdirSync(join(roles, name, 'tasks'), { recursive: true });
      mkdirSync(join(roles, name, 'meta'), { recursive: true });
      writeFileSync(join(roles, name, 'tasks', 'main.yml'), stringify([{ name, debug: { msg: name } }]));
      writeFileSync(join(roles, name, 'meta', 'main.yml'), stringify({ dependencies: deps }));
    }
    const r = run([{ hosts: 'h1', gather_facts: false, roles: ['web'] }]);
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(
      r.json!.plays[0].tasks.map((t) => t.task.name),
      ['base : base', 'app : app', 'web : web'],
    );
  });
});
