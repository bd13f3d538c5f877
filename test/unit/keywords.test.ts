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
    const applied = (extra: Record<string, unknown>) =>
      said(
        run(
          play([{ include_tasks: { file: 'inc.yaml', apply: { tags: ['t'] } }, vars: { word: 'one' }, ...extra }]),
          '-v',
          '--tags',
          't',
        ).out,
      );
    // As Ansible: the include itself must be selected too.
    assert.deepEqual(applied({ tags: ['t'] }), ['one']);
    assert.deepEqual(applied({}), []);
  });

  it('is run when reached: its when asked once, its file name a template, its vars and loop variables', () => {
    writeFileSync(
      join(dir, 'step.yaml'),
      stringify([
        { name: 'first', debug: { msg: 'first {{ x }}' } },
        { name: 'change x', set_fact: { x: 2 } },
        { name: 'second', debug: { msg: 'second {{ x }}' } },
      ]),
    );
    writeFileSync(
      join(dir, 'each.yaml'),
      stringify([{ name: 'each', debug: { msg: '{{ idx }}:{{ fruit }}:{{ word }}:{{ item | default("-") }}' } }]),
    );
    const r = run(
      play(
        [
          { name: 'once', include_tasks: 'step.yaml', when: 'x == 1', register: 'inc' },
          { name: 'what it registered', debug: { msg: '{{ inc }}' } },
          { name: 'which file', set_fact: { which: 'each' } },
          {
            name: 'a loop',
            include_tasks: '{{ which }}.yaml',
            loop: ['apple', 'pear'],
            loop_control: { loop_var: 'fruit', index_var: 'idx' },
            vars: { word: 'w' },
            register: 'looped',
          },
          { name: 'loop registered', debug: { msg: '{{ looped.results | map(attribute="include") | list }}' } },
          { name: 'skipped', include_tasks: 'missing.yaml', when: 'x == 1' },
        ],
        { vars: { x: 1 } },
      ),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), [
      'first 1',
      'second 2',
      { changed: false, include: 'step.yaml', include_args: {} },
      'All items completed',
      '0:apple:w:-',
      '1:pear:w:-',
      ['each.yaml', 'each.yaml'],
    ]);
    // Each file an include_tasks reads counts as one ok, as in Ansible.
    assert.match(r.out, /h1 +: ok=11 changed=0 unreachable=0 failed=0 skipped=1/);
  });

  it('nests: an included file includes others, relative to itself', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'outer.yaml'), stringify([{ include_tasks: 'inner.yaml', loop: [1, 2] }]));
    writeFileSync(join(dir, 'sub', 'inner.yaml'), stringify([{ debug: { msg: '{{ word }} {{ item }}' } }]));
    const r = run(play([{ include_tasks: 'sub/outer.yaml', vars: { word: 'w' } }]), '-v');
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['All items completed', 'w 1', 'w 2']);
  });

  it("import_role / include_role: tasks_from, the role's defaults and vars, its handlers", () => {
    const role = join(dir, 'roles', 'greeter');
    for (const d of ['tasks', 'defaults', 'handlers', 'vars']) mkdirSync(join(role, d), { recursive: true });
    writeFileSync(join(role, 'defaults', 'main.yml'), 'greeting: hello\n');
    writeFileSync(join(role, 'defaults', 'other.yml'), 'greeting: hi\n');
    writeFileSync(join(role, 'vars', 'main.yml'), 'own: mine\n');
    writeFileSync(
      join(role, 'tasks', 'main.yml'),
      stringify([{ name: 'greet', debug: { msg: '{{ greeting }} {{ who }}' }, changed_when: true, notify: 'said' }]),
    );
    writeFileSync(
      join(role, 'tasks', 'other.yml'),
      stringify([{ name: 'other', debug: { msg: 'other {{ greeting }} {{ n | default("") }}' } }]),
    );
    writeFileSync(
      join(role, 'tasks', 'loud.yml'),
      stringify([{ name: 'loud', debug: { msg: 'loud' }, changed_when: true, notify: 'shout' }]),
    );
    writeFileSync(join(role, 'handlers', 'main.yml'), stringify([{ name: 'said', debug: { msg: 'handler ran' } }]));
    writeFileSync(join(role, 'handlers', 'more.yml'), stringify([{ name: 'shout', debug: { msg: 'shouted' } }]));
    const r = run(
      play([
        { import_role: { name: 'greeter' }, vars: { who: 'world' } },
        { include_role: { name: 'greeter', tasks_from: 'other' } },
        {
          include_role: { name: 'greeter', tasks_from: 'other', defaults_from: 'other' },
          loop: [1, 2],
          loop_control: { loop_var: 'n' },
        },
        { include_role: { name: 'greeter', tasks_from: 'loud.yml', handlers_from: 'more' } },
      ]),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), [
      'other hello ',
      'All items completed',
      'other hi 1',
      'other hi 2',
      'handler ran',
      'shouted',
    ]);
    assert.match(r.out, /^changed: \[h1\] greeter : greet\n\{"msg":"hello world"/m);
  });

  it("include_role: the role's vars are its own tasks' unless public", () => {
    const role = join(dir, 'roles', 'private');
    for (const d of ['tasks', 'defaults', 'vars']) mkdirSync(join(role, d), { recursive: true });
    writeFileSync(join(role, 'defaults', 'main.yml'), 'pdef: d\n');
    writeFileSync(join(role, 'vars', 'main.yml'), 'pvar: v\n');
    writeFileSync(join(role, 'tasks', 'main.yml'), stringify([{ debug: { msg: 'in {{ pdef }} {{ pvar }}' } }]));
    const after = { name: 'after', debug: { msg: '{{ pdef | default("-") }} {{ pvar | default("-") }}' } };
    const r = run(
      play([{ include_role: { name: 'private' } }, after, { include_role: { name: 'private', public: true } }, after]),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['in d v', '- -', 'in d v', 'd v']);
  });

  it('a file or role that is not there fails the host when reached, not before', () => {
    const r = run('- hosts: h1\n  gather_facts: false\n  tasks:\n    - include_tasks: nope.yaml\n', '-v');
    assert.equal(r.code, 2, r.all);
    assert.match(r.out, /Could not find or access '.*nope\.yaml' on the Ansible Controller/);
    const skipped = run(
      play([
        { include_tasks: 'nope.yaml', when: false },
        { include_role: { name: 'nobody' }, when: false },
      ]),
    );
    assert.equal(skipped.code, 0, skipped.all);
    const role = run(play([{ include_role: { name: 'nobody' } }]), '-v');
    assert.equal(role.code, 2, role.all);
    assert.match(role.out, /role \\?"nobody\\?" not found/);
  });

  it('preflight: a file named without a template is checked before anything runs; one with a template when reached', () => {
    writeFileSync(join(dir, 'bad.yaml'), stringify([{ name: 'bad', no_such_module: {} }]));
    const r = run(
      play([
        { name: 'first', debug: { msg: 'ran' } },
        { include_tasks: 'bad.yaml', when: false },
      ]),
      '-v',
    );
    assert.equal(r.code, 4, r.all);
    assert.match(
      r.err,
      /bad\.yaml:1:\d+: unknown module or task keyword "no_such_module"|unknown module "no_such_module"/,
    );
    assert.deepEqual(said(r.out), []);
    const later = run(play([{ name: 'first', debug: { msg: 'ran' } }, { include_tasks: '{{ "bad" }}.yaml' }]), '-v');
    // Then it stops the run, as ansible-playbook's parser does (exit 4).
    assert.equal(later.code, 4, later.all);
    assert.deepEqual(said(later.out), ['ran']);
    assert.match(later.err, /bad\.yaml:\d+:\d+: unknown module "no_such_module"/);
    // A name that only a later task can give is not refused.
    const unknown = run(
      play([{ include_tasks: '{{ nothing_yet | default("inc") }}.yaml', vars: { word: 'w' } }]),
      '-v',
    );
    assert.equal(unknown.code, 0, unknown.all);
  });

  it("refuses what Ansible refuses: a keyword include_* doesn't take, a loop on an import", () => {
    const b = run('- hosts: h1\n  tasks:\n    - include_tasks: inc.yaml\n      become: true\n');
    assert.equal(b.code, 4);
    assert.match(b.err, /:4:7: 'become' is not a valid attribute for a TaskInclude/);
    const l = run('- hosts: h1\n  tasks:\n    - import_tasks: inc.yaml\n      loop: [1]\n');
    assert.equal(l.code, 4);
    assert.match(l.err, /:4:7: You cannot use loops on 'import_tasks' statements/);
  });

  it('hosts in step (linear) wait after an include for the host it gave tasks to', () => {
    writeFileSync(join(dir, 'slow.yaml'), stringify([{ name: 'slow', command: 'sleep 0.3' }]));
    const r = run(
      [
        {
          hosts: 'h1:h2',
          gather_facts: false,
          tasks: [
            { include_tasks: 'slow.yaml', when: 'inventory_hostname == "h1"' },
            { name: 'after', debug: { msg: 'after' } },
          ],
        },
      ],
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    const lines = r.out.split('\n');
    const slow = lines.findIndex((l) => /\[h1\] slow/.test(l));
    const after = lines.findIndex((l) => /\[h2\] after/.test(l));
    assert.ok(slow >= 0 && after > slow, r.out);
  });

  it('a handler may be an include', () => {
    writeFileSync(join(dir, 'handler.yaml'), stringify([{ name: 'in handler', debug: { msg: 'handled' } }]));
    const r = run(
      play([{ name: 'change', debug: { msg: 'x' }, changed_when: true, notify: 'h' }], {
        handlers: [{ name: 'h', include_tasks: 'handler.yaml' }],
      }),
      '-v',
    );
    assert.equal(r.code, 0, r.all);
    assert.deepEqual(said(r.out), ['handled']);
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
