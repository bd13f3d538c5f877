// Ansible's task keywords and the modules people reach for, run by the real CLI on this machine
// (ansible_connection: local): include/import, block/rescue/always, the with_* loops and
// loop_control, tags, --list-tasks/--list-hosts/--syntax-check, run_once, delegate_to,
// check_mode, gather_facts, assert/fail, and their mistakes refused before anything runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const CLI = fileURLToPath(new URL('../../../bin/relay-play.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'relay-play-keywords-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const inventory = join(dir, 'inventory.yaml');
writeFileSync(
  inventory,
  stringify({ all: { hosts: { h1: { ansible_connection: 'local' }, h2: { ansible_connection: 'local' } } } }),
);

function run(plays: unknown, ...args: string[]) {
  const pb = join(dir, `pb-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(pb, typeof plays === 'string' ? plays : stringify(plays));
  const r = spawnSync(process.execPath, [CLI, 'run', pb, '-i', inventory, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr, all: r.stdout + r.stderr };
}

/** `msg` lines of debug tasks in -v output, in order, for one host. */
const said = (out: string, host = 'h1') =>
  [...out.matchAll(new RegExp(`^ok: \\[${host}\\] .*\\n(\\{.*\\})$`, 'gm'))]
    .map((m) => JSON.parse(m[1]).msg)
    .filter((m) => m !== undefined);

const play = (tasks: unknown[], extra: Record<string, unknown> = {}) => [
  { hosts: 'h1', gather_facts: false, tasks, ...extra },
];

describe('include_tasks / import_tasks / import_role', () => {
  it("brings the file's tasks in, with the include's when, vars and tags", () => {
    writeFileSync(join(dir, 'inc.yaml'), stringify([{ name: 'inc', debug: { msg: '{{ word }}' } }]));
    const r = run(
      play([
        { include_tasks: 'inc.yaml', vars: { word: 'one' }, tags: ['t'] },
        { import_tasks: 'inc.yaml', vars: { word: 'two' }, when: 'false' },
        { name: 'untagged', debug: { msg: 'three' } },
      ]),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['one', 'three']);
    // An import's tags are its tasks'; an include's tags select only the include (apply: gives them to its tasks).
    assert.deepEqual(
      said(
        run(
          play([
            { import_tasks: 'inc.yaml', vars: { word: 'one' }, tags: ['t'] },
            { name: 'x', debug: { msg: 'no' } },
          ]),
          '-v',
          '--tags',
          't',
        ).out,
      ),
      ['one'],
    );
    assert.deepEqual(
      said(run(play([{ include_tasks: 'inc.yaml', vars: { word: 'one' }, tags: ['t'] }]), '-v', '--tags', 't').out),
      [],
    );
    assert.deepEqual(
      said(
        run(play([{ include_tasks: 'inc.yaml', vars: { word: 'one' }, apply: { tags: ['t'] } }]), '-v', '--tags', 't')
          .out,
      ),
      ['one'],
    );
  });

  it("import_role / include_role: tasks_from, the role's defaults and vars, its handlers", () => {
    const role = join(dir, 'roles', 'greeter');
    for (const d of ['tasks', 'defaults', 'handlers']) mkdirSync(join(role, d), { recursive: true });
    writeFileSync(join(role, 'defaults', 'main.yml'), 'greeting: hello\n');
    writeFileSync(
      join(role, 'tasks', 'main.yml'),
      stringify([{ name: 'greet', debug: { msg: '{{ greeting }} {{ who }}' }, changed_when: true, notify: 'said' }]),
    );
    writeFileSync(
      join(role, 'tasks', 'other.yml'),
      stringify([{ name: 'other', debug: { msg: 'other {{ greeting }}' } }]),
    );
    writeFileSync(join(role, 'handlers', 'main.yml'), stringify([{ name: 'said', debug: { msg: 'handler ran' } }]));
    const r = run(
      play([
        { import_role: { name: 'greeter' }, vars: { who: 'world' } },
        { include_role: { name: 'greeter', tasks_from: 'other' } },
      ]),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['other hello', 'handler ran']);
    assert.match(r.out, /^changed: \[h1\] greeter : greet\n\{"msg":"hello world"/m);
    assert.match(run(play([{ include_role: { name: 'nobody' } }])).err, /role "nobody" not found/);
  });

  it('a missing file or a loop on an include is refused with its line', () => {
    const r = run('- hosts: h1\n  tasks:\n    - include_tasks: nope.yaml\n');
    assert.equal(r.code, 4);
    assert.match(r.err, /pb-.*\.yaml:3:\d+: include_tasks: file "nope.yaml" not found/);
    const l = run('- hosts: h1\n  tasks:\n    - include_tasks: inc.yaml\n      loop: [1]\n');
    assert.match(l.err, /:4:7: a loop on include_tasks is not supported/);
  });
});

describe('block / rescue / always', () => {
  const t = (msg: string) => ({ name: msg, debug: { msg } });
  const boom = { name: 'boom', command: '/bin/false' };

  it('a failure runs rescue then always; the host goes on; recap counts it rescued', () => {
    const r = run(
      play([
        {
          block: [t('a'), boom, t('not run')],
          rescue: [t('rescue {{ ansible_failed_task.name }}')],
          always: [t('always')],
        },
        t('after'),
      ]),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['a', 'rescue boom', 'always', 'after']);
    assert.match(r.out, /h1 +: ok=\d+ changed=0 unreachable=0 failed=0 skipped=0 rescued=1/);
  });

  it('without rescue, always runs and then the host fails (exit 2)', () => {
    const r = run(play([{ block: [boom, t('not run')], always: [t('always')] }, t('never')]), '-v');
    assert.equal(r.code, 2, r.all);
    assert.deepEqual(said(r.out), ['always']);
  });

  it('nested: the inner always runs before the outer rescue catches it', () => {
    const r = run(
      play([
        { block: [{ block: [boom], always: [t('inner always')] }, t('not run')], rescue: [t('outer rescue')] },
        t('after'),
      ]),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['inner always', 'outer rescue', 'after']);
  });

  it('a failing rescue fails the host after always', () => {
    const r = run(play([{ block: [boom], rescue: [boom, t('not run')], always: [t('always')] }, t('never')]), '-v');
    assert.equal(r.code, 2);
    assert.deepEqual(said(r.out), ['always']);
  });

  it('block keywords are inherited: when, vars, become', () => {
    const r = run(
      play([
        { block: [t('{{ v }}')], vars: { v: 'from block' } },
        { block: [t('skipped')], when: 'false' },
      ]),
      '-v',
    );
    assert.deepEqual(said(r.out), ['from block']);
  });
});

describe('loops', () => {
  it('with_items flattens one level, with_dict gives key/value, with_together zips, loop_control renames', () => {
    const r = run(
      play([
        { name: 'i', debug: { msg: '{{ item }}' }, with_items: [[1, 2], 3] },
        { name: 'd', debug: { msg: '{{ item.key }}={{ item.value }}' }, with_dict: { a: 1 } },
        { name: 't', debug: { msg: '{{ item.0 }}{{ item.1 }}' }, with_together: [['a', 'b'], [1]] },
        {
          name: 'c',
          debug: { msg: '{{ i }}:{{ u }}' },
          loop: ['x', 'y'],
          loop_control: { loop_var: 'u', index_var: 'i' },
        },
        { name: 'w', debug: { msg: '{{ item }}' }, loop: [1, 2, 3], when: 'item != 2', register: 'w' },
        { name: 'r', debug: { msg: '{{ w.results | map(attribute="skipped") | map("default", false) | list }}' } },
      ]),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    const results = [...r.out.matchAll(/^(?:ok|skipping): \[h1\] (\w)\n(\{.*\})$/gm)].map((m) => [
      m[1],
      JSON.parse(m[2]),
    ]);
    const items = (n: string) =>
      (results.find(([name]) => name === n)![1] as { results: { msg: string }[] }).results.map((x) => x.msg);
    assert.deepEqual(items('i'), [1, 2, 3]);
    assert.deepEqual(items('d'), ['a=1']);
    assert.deepEqual(items('t'), ['a1', 'b']); // None prints as nothing
    assert.deepEqual(items('c'), ['0:x', '1:y']);
    assert.deepEqual(said(r.out).at(-1), [false, true, false], 'when is asked per item');
  });
});

describe('data from hosts is never a template', () => {
  it('a command printing "{{ secret }}": registered, set as a fact, looped over — it stays that text', () => {
    const r = run(
      play(
        [
          // The host prints "{{ secret }}" (written here in octal, so the playbook itself has no template).
          { name: 'out', command: "printf '\\173\\173 secret \\175\\175'", register: 'out', changed_when: false },
          { name: 'a', debug: { msg: '{{ out.stdout }}' } },
          { name: 'f', set_fact: { copied: '{{ out.stdout }}' } },
          { name: 'b', debug: { msg: '{{ copied }}' } },
          { name: 'c', debug: { msg: '{{ item }}' }, loop: '{{ out.stdout_lines }}' },
          { name: 'd', debug: { msg: "{{ hostvars['h1'].out.stdout }}" } },
        ],
        { vars: { secret: 'TOP-SECRET', templated: '{{ secret }}' } },
      ),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.ok(!r.out.includes('TOP-SECRET'), r.out);
    // (the command's own msg is '', the loop's 'All items completed')
    assert.deepEqual(said(r.out), ['', '{{ secret }}', '{{ secret }}', 'All items completed', '{{ secret }}']);
    assert.match(r.out, /"msg":"\{\{ secret \}\}","changed":false,"item":"\{\{ secret \}\}"/);
    // A variable written in the playbook is a template, as in Ansible.
    assert.deepEqual(
      said(
        run(
          play([{ name: 'v', debug: { msg: '{{ templated }}' } }], {
            vars: { secret: 's', templated: '{{ secret }}!' },
          }),
          '-v',
        ).out,
      ),
      ['s!'],
    );
  });
});

describe('tags and listings', () => {
  const tasks = [
    { name: 'a', debug: { msg: 'a' }, tags: ['web'] },
    { name: 'b', debug: { msg: 'b' }, tags: 'db' },
    { name: 'c', debug: { msg: 'c' }, tags: ['always'] },
    { name: 'd', debug: { msg: 'd' }, tags: ['never', 'debug'] },
    { name: 'e', debug: { msg: 'e' } },
  ];
  it('--tags, --skip-tags, always and never as ansible-playbook selects them', () => {
    assert.deepEqual(said(run(play(tasks), '-v').out), ['a', 'b', 'c', 'e']);
    assert.deepEqual(said(run(play(tasks), '-v', '--tags', 'web').out), ['a', 'c']);
    assert.deepEqual(said(run(play(tasks), '-v', '--tags', 'debug,db').out), ['b', 'c', 'd']);
    assert.deepEqual(said(run(play(tasks), '-v', '--skip-tags', 'web', '--skip-tags', 'always').out), ['b', 'e']);
    assert.deepEqual(said(run(play(tasks), '-v', '--tags', 'untagged').out), ['c', 'e']);
  });

  it('--list-tasks and --list-hosts print like ansible-playbook and touch nothing', () => {
    const marker = join(dir, 'listed-marker');
    const pb = play([...tasks, { name: 'touch', file: { path: marker, state: 'touch' } }], {
      name: 'web play',
      hosts: 'all',
    });
    const l = run(pb, '--list-tasks', '--tags', 'web');
    assert.equal(l.code, 0, l.all);
    assert.match(
      l.out,
      /^ {2}play #1 \(all\): web play\tTAGS: \[\]\n {4}tasks:\n {6}a\tTAGS: \[web\]\n {6}c\tTAGS: \[always\]\n$/m,
    );
    assert.match(run(pb, '--list-hosts').out, /pattern: \['all'\]\n {4}hosts \(2\):\n {6}h1\n {6}h2\n/);
    assert.equal(existsSync(marker), false);
  });

  it('--syntax-check finds a bad filter before any host, with file:line:col', () => {
    const r = run('- hosts: h1\n  tasks:\n    - debug: {msg: "{{ x | nofilter }}"}\n', '--syntax-check');
    assert.equal(r.code, 2);
    assert.match(r.err, /pb-\w+\.yaml:3:\d+: unknown filter "nofilter"/);
    assert.equal(run(play(tasks), '--syntax-check').code, 0);
  });
});

describe('run_once, delegate_to, check_mode, gather_facts, assert, fail', () => {
  it('run_once runs on one host and registers its result on every host', () => {
    const f = join(dir, 'once-count');
    const r = run(
      [
        {
          hosts: 'all',
          tasks: [
            { name: 'once', shell: `echo x >> ${f}; echo done`, run_once: true, register: 'o' },
            { name: 'seen', debug: { msg: '{{ o.stdout }}' } },
          ],
        },
      ],
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.equal(readFileSync(f, 'utf8'), 'x\n');
    assert.deepEqual([...said(r.out, 'h1'), ...said(r.out, 'h2')], ['done', 'done']);
  });

  it('check_mode: false runs under --check; check_mode: true never changes', () => {
    const a = join(dir, 'cm-a');
    const b = join(dir, 'cm-b');
    const r = run(
      play([
        { name: 'a', file: { path: a, state: 'touch' }, check_mode: false },
        { name: 'b', file: { path: b, state: 'touch' } },
      ]),
      '--check',
    );
    assert.equal(r.code, 0, r.all);
    assert.equal(existsSync(a), true);
    assert.equal(existsSync(b), false);
    run(play([{ name: 'b', file: { path: b, state: 'touch' }, check_mode: true }]));
    assert.equal(existsSync(b), false);
  });

  it("delegate_to: localhost runs here, another host through its connection, with the host's variables", () => {
    const r = run(
      play([
        { name: 'd', command: 'echo {{ inventory_hostname }}', delegate_to: 'localhost', register: 'd' },
        { name: 's', debug: { msg: '{{ d.stdout }}' } },
      ]),
      '-v',
    );
    assert.deepEqual(said(r.out), ['h1']);
    // Any inventory host: its connection, this host's variables.
    const other = run(
      play([
        { name: 'd', command: 'echo {{ inventory_hostname }}', delegate_to: 'h2', register: 'd' },
        { name: 's', debug: { msg: '{{ d.stdout }}' } },
      ]),
      '-v',
    );
    assert.equal(other.code, 0, other.all);
    assert.deepEqual(said(other.out), ['h1']);
    const bad = run(play([{ name: 'd', command: 'true', delegate_to: 'nosuchhost' }]));
    assert.equal(bad.code, 2);
    assert.match(bad.all, /delegate_to: "nosuchhost" is not a host of the inventory/);
  });

  it('gather_facts: true gives the common ansible_* facts', () => {
    const r = run(
      play(
        [
          {
            name: 'f',
            debug: {
              msg: '{{ ansible_system }} {{ ansible_facts.architecture == ansible_architecture }} {{ ansible_processor_vcpus > 0 }}',
            },
          },
        ],
        { gather_facts: true },
      ),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['Linux True True']);
  });

  it("assert and fail: Ansible's messages and fields", () => {
    const ok = run(
      play([
        { name: 'a', assert: { that: ['1 == 1', 'x is undefined'], success_msg: 'fine' }, register: 'a' },
        { name: 'r', debug: { msg: '{{ a.msg }}' } },
      ]),
      '-v',
    );
    assert.deepEqual(said(ok.out), ['fine', 'fine']); // the assert's own msg, then registered
    const bad = run(
      play([{ name: 'a', assert: { that: ['1 == 1', '2 < 1'], fail_msg: 'two is not less' } }]),
      '--json',
    );
    assert.equal(bad.code, 2);
    const res = JSON.parse(bad.out).plays[0].tasks[0].hosts.h1;
    assert.equal(res.msg, 'two is not less');
    assert.equal(res.assertion, '2 < 1');
    assert.equal(res.evaluated_to, false);
    assert.match(run(play([{ name: 'f', fail: { msg: 'stop here' } }])).out, /FAILED! stop here/);
    const syntax = run('- hosts: h1\n  tasks:\n    - assert:\n        that:\n          - x ==\n');
    assert.equal(syntax.code, 2);
    assert.match(syntax.err, /:5:\d+: bad condition "x ==":/);
  });
});
