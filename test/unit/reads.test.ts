// Batched reads: a batch answers exactly what each command alone would; HostReads serves a fetched
// read only until something on the host changes; and a playbook run on this machine (local
// connection) sees each task's change in the next task's read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseTrip, readBatch, tripCommand, type ReadRequest } from '../../src/engine/connection/batch.js';
import { LocalConnection } from '../../src/engine/connection/local.js';
import { shScript } from '../../src/engine/util/quote.js';
import type { Connection, RunOptions, RunResult } from '../../src/engine/connection/types.js';
import { HostReads } from '../../src/engine/runner/reads.js';
import { ReadCache } from '../../src/engine/runner/read-cache.js';
import { tripCounter } from './round-trips.js';
import { applySteps, applyStepsThenRead } from '../../src/engine/runner/steps.js';

const CLI = fileURLToPath(new URL('../../../bin/relay-play.js', import.meta.url));
const plain = (command: string): ReadRequest => ({ command, become: false });

/** A local connection that counts its round trips. */
class CountingConnection implements Connection {
  readonly host = 'local';
  readonly via = 'local' as const;
  runs = 0;
  private readonly local = new LocalConnection('local');
  run(command: string, opts?: RunOptions): Promise<RunResult> {
    this.runs++;
    return this.local.run(command, opts);
  }
  hold(command: string, opts?: RunOptions) {
    return this.local.hold(command, opts);
  }
  forward(host: string, port: number) {
    return this.local.forward(host, port);
  }
  async close() {}
}

describe('readBatch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-batch-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives each command the exit code, stdout and stderr it has when run alone', async () => {
    writeFileSync(join(dir, 'it’s a file'), 'ünïcode\nno newline at end');
    const commands = [
      'echo hello',
      'printf "no newline"',
      'true',
      'echo out; echo err >&2; exit 3',
      `cat ${join(dir, 'it’s a file').replace(/ /g, '\\ ').replace(/'/g, "\\'")}`,
      shScript('printf "%s|" "$@"', ['a b', "it's", '$(touch /tmp/x)', '']),
      // shScript's commands run in the trip's own subshell, with the same $0 and parameters.
      shScript('echo "$0 $#"; printf "%s|" "$@"; echo err >&2; exit 4', ['', "'", "x'\\''y", 'two\nlines', '-c', 'sh']),
      shScript('no-such-command-relay-play'), // the shell's own message (it names eval, as below)
      'cat', // stdin: nothing (it must not hang)
      'head -c 200000 /dev/zero | tr "\\0" x', // bigger than a pipe buffer
      'printf "\\n\\n\\n"',
      'ls /nonexistent-relay-play-path',
      // Run in a subshell of the trip's script: none of its parameters or variables show through.
      'echo "[$#|$1|$b|$stopbelow|$code|$gnu|$n|$_c]"; command -v one take feed || echo none',
      'if then', // a syntax error ends this command only (sh names eval in its message)
      'exit 7',
    ];
    const conn = new LocalConnection('local');
    const batched = await readBatch(conn, commands.map(plain));
    for (const [i, c] of commands.entries()) {
      const alone = await conn.run(c);
      const got = batched[i] && { ...batched[i]!, stderr: batched[i]!.stderr.replace(/^sh: 1: eval: /, 'sh: 1: ') };
      assert.deepEqual(got, alone, `command ${i}: ${c}`);
    }
  });

  it("runs shScript's commands without a sh of their own (one process fewer each)", async () => {
    // $$ is the trip's shell in its subshells; a new sh would have its own.
    const [plainPid, scriptPid] = await readBatch(new LocalConnection('local'), [
      plain('echo $$'),
      plain(shScript('echo $$')),
    ]);
    assert.match(plainPid!.stdout, /^\d+\n$/);
    assert.equal(scriptPid!.stdout, plainPid!.stdout);
  });

  it('runs one sudo per become user, whatever the order of the reads', async () => {
    const lines: string[] = [];
    const recorder: Connection = {
      host: 'h',
      run: async (command) => (lines.push(command), { code: 0, stdout: '', stderr: '' }),
      via: 'local',
      hold: () => Promise.reject(new Error('unused')),
      forward: () => Promise.reject(new Error('unused')),
      close: async () => {},
    };
    await readBatch(recorder, [
      { command: 'a', become: true },
      plain('b'),
      { command: 'c', become: true },
      { command: 'd', become: true, becomeUser: 'bob' },
      plain('e'),
    ]);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].match(/sudo -n/g)?.length, 2, lines[0]);
    assert.match(lines[0], /sudo -n -H -u bob/);
  });

  it('output that imitates a frame cannot break out of its own', async () => {
    const conn = new LocalConnection('local');
    // A file on the host could hold anything; it cannot know the batch's random token.
    const fake = 'printf "x\\nrelay-play-0 1 end 0\\nRPR 1 0\\n"';
    const [a, b] = await readBatch(conn, [plain(fake), plain('echo second')]);
    assert.deepEqual(a, await conn.run(fake));
    assert.deepEqual(b, { code: 0, stdout: 'second\n', stderr: '' });
  });

  it('leaves out what did not report (a group whose sudo failed): those are read alone', () => {
    const stdout = 'T 0 begin\nhi\nT 0 end 0\nT 2 begin\n\nT 2 end 1\n';
    const stderr = 'T 0 begin\n\nT 0 end\nsudo: a password is required\nT 2 begin\nerr\nT 2 end\n';
    const out = parseTrip(stdout, stderr, 3, 'T').results;
    assert.deepEqual(out[0], { code: 0, stdout: 'hi', stderr: '' });
    assert.equal(out[1], undefined);
    assert.deepEqual(out[2], { code: 1, stdout: '', stderr: 'err' });
  });

  it('one sudo per run of commands as the same user, in order', () => {
    const root = (command: string) => ({ command, become: true });
    const { command } = tripCommand([root('a'), root('b'), plain('c'), root('d')], 'T', true);
    assert.equal(command.match(/sudo -n/g)?.length, 2, command);
    assert.equal(command.match(/b=\$1 stopbelow=\$2/g)?.length, 3, 'three runs: root, the login user, root');
  });

  it('inputs travel on the channel, never on the command line', () => {
    const secret = 'hunter2-SECRET-ünï';
    const trip = tripCommand(
      [
        { command: 'cat > /x', become: true, stdin: secret },
        plain('echo'),
        { command: 'cat', become: false, stdin: 'two' },
      ],
      'T',
      true,
    );
    for (const form of [secret, Buffer.from(secret).toString('base64'), 'hunter2'])
      assert.ok(!trip.command.includes(form), form);
    assert.equal(trip.stdin, secret + 'two');
  });
});

describe('inputs of a trip', () => {
  const step = (command: string, stdin?: string) => ({
    command,
    become: false,
    ...(stdin !== undefined ? { stdin } : {}),
  });
  const inputs = [
    step('true', 'not read at all\n'),
    step('head -c 3', 'abcdef'), // reads part of it
    step('cat', "line 1\nit's $(x) ünï\n"),
    step('echo none'),
    step('cat', ''),
    step('wc -c', 'x'.repeat(300_000)), // more than a pipe holds
    step('head -c 1', 'z'.repeat(200_000)), // leaves more unread than a pipe holds
    step('cat', 'last'),
  ];
  const expected = ['', 'abc', "line 1\nit's $(x) ünï\n", 'none\n', '', '300000\n', 'z', 'last'];

  it('each command gets exactly its own input, whatever the commands before it read', async () => {
    const conn = new CountingConnection();
    const outputs = await applySteps(conn, inputs, true);
    assert.equal(conn.runs, 1);
    assert.deepEqual(
      outputs.map((o) => o.stdout),
      expected,
    );
  });

  it('without GNU head (dd instead), the same', async () => {
    // A `head` that is not GNU's: fails whatever it is asked, so only dd can be reading.
    const bin = mkdtempSync(join(tmpdir(), 'relay-play-nognu-'));
    writeFileSync(join(bin, 'head'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const small = inputs.filter((s) => !['wc -c', 'head -c 3', 'head -c 1'].includes(s.command));
      const outputs = await applySteps(new CountingConnection(), small, true);
      assert.deepEqual(
        outputs.map((o) => o.stdout),
        ['', "line 1\nit's $(x) ünï\n", 'none\n', '', 'last'],
      );
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

/** One read through HostReads. */
const one = async (reads: HostReads, req: ReadRequest) => (await reads.read([req]))[0];

describe('HostReads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-reads-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  const readFile = plain(shScript('cat -- "$1" 2>/dev/null || echo absent', [file]));
  const readDir = plain(shScript('ls -- "$1"', [dir]));
  const readDate = plain('echo static');

  it('fetches the reads of the tasks ahead in one round trip and serves them from there', async () => {
    const conn = new CountingConnection();
    const reads = new HostReads('local', async () => conn, new ReadCache());
    const wants = [[readFile], [readDir], [], [readDate]];
    await reads.lookAhead(0, wants.length, async (i) => wants[i]);
    assert.equal(conn.runs, 1);
    assert.equal((await one(reads, readFile)).stdout, 'absent\n');
    assert.equal((await one(reads, readDate)).stdout, 'static\n');
    await reads.lookAhead(1, wants.length, async (i) => wants[i]);
    await one(reads, readDir);
    assert.equal(conn.runs, 1, 'no further round trip');
  });

  it("a read the play adds (handler markers) is not read again when the run's early reads have it", async () => {
    const conn = new CountingConnection();
    const cache = new ReadCache();
    cache.add('local', [readDate], Promise.resolve([{ code: 0, stdout: 'from the early reads\n', stderr: '' }]));
    const reads = new HostReads('local', async () => conn, cache, [readDate]);
    const wants = [[readFile], [readDir]];
    await reads.lookAhead(0, wants.length, async (i) => wants[i]);
    assert.equal(conn.runs, 1);
    assert.equal((await one(reads, readDate)).stdout, 'from the early reads\n');
  });

  it('after a change, reads are live again and see the change', async () => {
    const conn = new CountingConnection();
    const cache = new ReadCache();
    const reads = new HostReads('local', async () => conn, cache);
    const wants = [[readFile], [readDir], [readFile]];
    await reads.lookAhead(0, 3, async (i) => wants[i]);
    assert.equal((await one(reads, readFile)).stdout, 'absent\n');
    cache.changed('local'); // a step is about to run:
    reads.stale();
    writeFileSync(file, 'written\n');
    assert.equal((await one(reads, readFile)).stdout, 'written\n');
    assert.equal(conn.runs, 2);
  });

  it('after a task reports a change, looks ahead 1, then 2, then 4 tasks', async () => {
    const conn = new CountingConnection();
    const reads = new HostReads('local', async () => conn, new ReadCache());
    const wants = Array.from({ length: 12 }, (_, i) => [plain(`echo ${i}`)]);
    const asked: number[] = [];
    const w = async (i: number) => (asked.push(i), wants[i]);
    reads.stale();
    reads.slowDown();
    await reads.lookAhead(0, 12, w); // window 1: its own read only → no batch
    assert.equal(conn.runs, 0);
    await reads.lookAhead(1, 12, w); // window 2
    assert.equal(conn.runs, 1);
    await reads.lookAhead(2, 12, w); // covered
    await reads.lookAhead(3, 12, w); // window 4: tasks 3..6
    assert.equal(conn.runs, 2);
    assert.equal((await one(reads, wants[6][0])).stdout, '6\n');
    assert.equal(conn.runs, 2);
    assert.equal((await one(reads, wants[7][0])).stdout, '7\n');
    assert.equal(conn.runs, 3, 'task 7 was not looked ahead at');
    assert.deepEqual(asked, [0, 1, 2, 3, 4, 5, 6]);
  });

  it('a task whose read is not known yet reads for itself', async () => {
    const conn = new CountingConnection();
    const reads = new HostReads('local', async () => conn, new ReadCache());
    await reads.lookAhead(0, 2, async () => undefined);
    assert.equal(conn.runs, 0);
    await one(reads, readDate);
    assert.equal(conn.runs, 1);
  });

  it('looks again when a task whose read was not known comes (its register is set by then)', async () => {
    const conn = new CountingConnection();
    const reads = new HostReads('local', async () => conn, new ReadCache());
    let registered = false;
    const w = async (i: number) => (i === 0 ? [readDate] : registered ? [plain(`echo ${i}`)] : undefined);
    await reads.lookAhead(0, 4, w); // tasks 1..3 unknown: task 0 reads alone
    assert.equal(conn.runs, 0);
    await one(reads, readDate);
    registered = true;
    await reads.lookAhead(1, 4, w);
    assert.equal(conn.runs, 2, 'tasks 1..3 in one round trip');
    await reads.lookAhead(2, 4, w);
    assert.equal((await one(reads, plain('echo 3'))).stdout, '3\n');
    assert.equal(conn.runs, 2);
  });
});

describe('a playbook on this machine (ansible_connection: local)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-reads-pb-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

  const a = join(dir, 'a');
  const counter = tripCounter(dir);
  const run = (tasks: object[], ...laterPlays: object[][]) => {
    counter.reset();
    const inv = join(dir, 'inventory.yaml');
    writeFileSync(inv, stringify({ all: { hosts: { here: { ansible_connection: 'local' } } } }));
    const pb = join(dir, 'pb.yaml');
    writeFileSync(pb, stringify([tasks, ...laterPlays].map((t) => ({ hosts: 'all', gather_facts: false, tasks: t }))));
    const r = spawnSync(process.execPath, [CLI, 'run', pb, '-i', inv, '-v'], {
      encoding: 'utf8',
      env: { ...process.env, RELAY_PLAY_TRACE: '1', ...counter.env },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return r;
  };

  it('each read after a change sees that change', () => {
    const r = run([
      { name: 'before', stat: { path: a }, register: 'before' },
      { name: 'write a', copy: { content: 'one\n', dest: a } },
      { name: 'after', stat: { path: a }, register: 'after' },
      { name: 'rewrite a', copy: { content: 'two\n', dest: a } },
      { name: 'content', slurp: { src: a }, register: 'content' },
      {
        name: 'report',
        debug: { msg: '{{ before.stat.exists }} {{ after.stat.checksum }} {{ content.content | b64decode }}' },
      },
    ]);
    assert.ok(r.stdout.includes(`False ${sha1('one\n')} two`), r.stdout);
  });

  it('a run that changes nothing reads every task in one round trip', () => {
    const tasks = [
      { name: 'a', copy: { content: 'two\n', dest: a } },
      { name: 'd', file: { path: join(dir, 'd'), state: 'directory' } },
      { name: 'stat d', stat: { path: join(dir, 'd') } },
      { name: 'content', slurp: { src: a } },
      { name: 'say', debug: { msg: 'hi' } },
      { name: 'a again', copy: { content: 'two\n', dest: a } },
    ];
    assert.match(run(tasks).stdout, /changed=1/); // creates d
    const r = run(tasks);
    assert.match(r.stdout, /changed=0/, r.stdout);
    const batches = r.stderr.match(/reads in one round trip/g) ?? [];
    assert.equal(batches.length, 1, r.stderr);
    assert.match(r.stderr, /here: 4 early reads in one round trip/, r.stderr); // the same read twice is fetched once
    // ... and nothing else reached the host: no task read for itself, no step ran.
    assert.equal(counter.trips().length, 1, `round trips of the run:\n${counter.trips().join('\n---\n')}`);
  });

  it('early reads: a run that changes nothing reads all its plays in one round trip, before the first play', () => {
    const b = join(dir, 'b');
    const plays = [
      [{ name: 'a', copy: { content: 'two\n', dest: a } }],
      [{ name: 'set', set_fact: { later: b } }],
      [
        { name: 'b', copy: { content: 'bee\n', dest: '{{ later }}' } }, // its read needs a fact set in play 2
        { name: 'stat a', stat: { path: a } },
      ],
    ] as const;
    run(...(plays as unknown as [object[], ...object[][]]));
    const r = run(...(plays as unknown as [object[], ...object[][]]));
    assert.match(r.stdout, /changed=0/, r.stdout);
    assert.match(r.stderr, /here: 2 early reads in one round trip/, r.stderr);
    // The read of "b" could not be known before play 2 set its path: that task reads for itself.
    assert.equal(counter.trips().length, 2, `round trips of the run:\n${counter.trips().join('\n---\n')}`);
  });

  it('early reads: a lone read of a later play goes early too (its own trip would wait for the plays before it)', () => {
    const plays = [[{ name: 'set', set_fact: { x: 1 } }], [{ name: 'stat a', stat: { path: a } }]];
    run(...(plays as [object[], ...object[][]]));
    const r = run(...(plays as [object[], ...object[][]]));
    assert.match(r.stderr, /here: 1 early reads in one round trip/, r.stderr);
    assert.equal(counter.trips().length, 1, `round trips of the run:\n${counter.trips().join('\n---\n')}`);
  });

  it("early reads: a template's read goes early even when its text needs a fact set in an earlier play", () => {
    const tpl = join(dir, 't.j2');
    writeFileSync(tpl, '{{ later }}\n');
    const plays = [
      [{ name: 'set', set_fact: { later: 'v' } }],
      [{ name: 'render', template: { src: tpl, dest: join(dir, 'rendered') } }],
    ];
    run(...(plays as [object[], ...object[][]]));
    const r = run(...(plays as [object[], ...object[][]]));
    assert.match(r.stdout, /changed=0/, r.stdout);
    assert.match(r.stderr, /here: 1 early reads in one round trip/, r.stderr);
    assert.equal(counter.trips().length, 1, `round trips of the run:\n${counter.trips().join('\n---\n')}`);
  });

  it("early reads: a read that needs a play's result goes at that play's end, while nothing has been applied", () => {
    const plays = [
      [{ name: 'find a', stat: { path: a }, register: 'found' }],
      [{ name: 'read what was found', slurp: { src: '{{ found.stat.path }}' } }],
    ];
    const early = (r: ReturnType<typeof run>) => r.stderr.match(/here: 1 early reads in one round trip/g) ?? [];
    const r = run(...(plays as [object[], ...object[][]]));
    assert.equal(early(r).length, 2, r.stderr); // the stat at the start, the slurp once play 1 registered its path
    assert.equal(counter.trips().length, 2, `round trips of the run:\n${counter.trips().join('\n---\n')}`);
    // Something applied in play 1: a read sent early would be stale by play 2 — it reads again, and sees the change.
    const now = `${Date.now()}`;
    const changed = run(
      [...plays[0], { name: 'write a', copy: { content: `${now}\n`, dest: a } }],
      [
        { name: 'read what was found', slurp: { src: '{{ found.stat.path }}' }, register: 'c' },
        { name: 'say', debug: { msg: '{{ c.content | b64decode }}' } },
      ],
    );
    assert.match(changed.stdout, /changed=1/, changed.stdout);
    assert.ok(changed.stdout.includes(`"msg":"${now}\\n"`), changed.stdout);
  });

  it('early reads: a read named by what a task that only reads registers goes as soon as that read is back, before its play', () => {
    counter.reset();
    const inv = join(dir, 'two-hosts.yaml');
    writeFileSync(
      inv,
      stringify({ all: { hosts: { here: { ansible_connection: 'local' }, slow: { ansible_connection: 'local' } } } }),
    );
    const pb = join(dir, 'ahead.yaml');
    writeFileSync(
      pb,
      stringify([
        // Keeps the run in play 1 for a while, changing nothing.
        {
          name: 'first',
          hosts: 'slow',
          gather_facts: false,
          tasks: [{ name: 'wait', debug: { msg: '{{ item }}' }, loop: [1, 2], loop_control: { pause: 0.4 } }],
        },
        {
          name: 'second',
          hosts: 'here',
          gather_facts: false,
          tasks: [
            // Two reads must fit in play 1's 0.8 s: no `file` or lsattr run (the roles' stats skip them too).
            {
              name: 'find a',
              stat: { path: a, get_mime: false, get_attributes: false },
              register: 'found',
            },
            { name: 'read what was found', slurp: { src: '{{ found.stat.path }}' }, register: 'c' },
            { name: 'say', debug: { msg: '{{ c.content | b64decode }}' } },
          ],
        },
      ]),
    );
    writeFileSync(a, 'seen\n');
    const r = spawnSync(process.execPath, [CLI, 'run', pb, '-i', inv, '-v'], {
      encoding: 'utf8',
      env: { ...process.env, RELAY_PLAY_TRACE: '1', ...counter.env },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /"msg":"seen\\n"/, r.stdout);
    // here: the stat first; once it is back, the slurp of the path it found — both before play 2 starts.
    const lines = r.stderr.split('\n');
    const secondStarts = lines.findIndex((l) => l.includes('play second'));
    const here = lines.flatMap((l, i) => (/here: 1 early reads in one round trip/.test(l) ? [i] : []));
    assert.equal(here.length, 2, r.stderr);
    assert.ok(
      here.every((i) => i < secondStarts),
      r.stderr,
    );
    assert.doesNotMatch(lines.slice(secondStarts).join('\n'), /here: .*reads/, r.stderr);
    assert.equal(counter.trips().length, 2, `round trips of the run:\n${counter.trips().join('\n---\n')}`);
  });

  it('early reads: a task whose condition is false at the start is not read early', () => {
    const big = join(dir, 'big');
    writeFileSync(big, 'x'.repeat(1000));
    const r = run(
      [
        { name: 'stat a', stat: { path: a } },
        { name: 'stat dir', stat: { path: dir } },
      ],
      [{ name: 'read big', slurp: { src: big }, when: 'wanted | default(false)' }],
    );
    assert.match(r.stderr, /here: 2 early reads in one round trip/, r.stderr);
    assert.match(r.stdout, /skipped=1/, r.stdout);
  });

  it('early reads: after a change anywhere, a later play reads again and sees it', () => {
    const e = join(dir, 'e');
    writeFileSync(e, 'old\n');
    const r = run(
      [{ name: 'read e', slurp: { src: e }, register: 'first' }],
      [{ name: 'write e', copy: { content: 'new\n', dest: e } }],
      [
        { name: 'read e again', slurp: { src: e }, register: 'second' },
        { name: 'say', debug: { msg: '{{ first.content | b64decode }}|{{ second.content | b64decode }}' } },
      ],
    );
    assert.match(r.stderr, /here: 2 early reads in one round trip/, r.stderr); // the same slurp read once early
    assert.match(r.stdout, /"msg":"old\\n\|new\\n"/, r.stdout);
  });

  it("a run of changes costs one round trip a task: each carries the next task's read after its steps", () => {
    const files = ['c1', 'c2', 'c3', 'c4'].map((f) => join(dir, f));
    const tasks = files.map((f, i) => ({ name: `write ${i + 1}`, copy: { content: `${i}\n`, dest: f } }));
    const r = run(tasks);
    assert.match(r.stdout, /changed=4/, r.stdout);
    // The first task reads alone (nothing fetched yet), then one trip per change: its steps, and after
    // them the next task's read; the last change has no next task.
    assert.equal(
      counter.trips().length,
      1 + files.length,
      `round trips of the run:\n${counter.trips().join('\n---\n')}`,
    );
    assert.equal((r.stderr.match(/reads after the steps of "write \d"/g) ?? []).length, files.length - 1, r.stderr);
    for (const [i, f] of files.entries()) assert.equal(readFileSync(f, 'utf8'), `${i}\n`);
  });

  it('a read that rode along with steps sees the host as those steps left it', () => {
    const f = join(dir, 'seen');
    const r = run([
      { name: 'write', copy: { content: 'after\n', dest: f } },
      { name: 'read it', slurp: { src: f }, register: 'got' },
      { name: 'say', debug: { msg: '{{ got.content | b64decode }}' } },
    ]);
    assert.match(r.stderr, /reads after the steps of "write"/, r.stderr);
    assert.match(r.stdout, /"msg":"after\\n"/, r.stdout);
  });
});

describe('applySteps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-steps-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const step = (command: string, stdin?: string) => ({
    command,
    become: false,
    ...(stdin !== undefined ? { stdin } : {}),
  });

  it('runs consecutive steps in one round trip, each with its exact output and stdin', async () => {
    const conn = new CountingConnection();
    const content = 'line 1\nit\'s "quoted" $(not run) `nor this`\nünï\nno newline at end';
    const steps = [
      step('echo one'),
      step(shScript('cat > "$1"', [join(dir, 'f')]), content),
      step('cat', ''),
      step('echo err >&2; exit 0'),
    ];
    const outputs = await applySteps(conn, steps, true);
    assert.equal(conn.runs, 1);
    const alone = new CountingConnection();
    for (const [i, s] of steps.entries())
      assert.deepEqual(outputs[i], await alone.run(s.command, { stdin: s.stdin }), `step ${i}`);
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), content);
  });

  it('stops at the first failing step, as one by one would: later steps never run', async () => {
    const marker = join(dir, 'must-not-exist');
    const outputs = await applySteps(
      new CountingConnection(),
      [step('true'), step('echo nope >&2; exit 3'), step(shScript('touch "$1"', [marker]))],
      true,
    );
    assert.equal(outputs.length, 2);
    assert.deepEqual(outputs[1], { code: 3, stdout: '', stderr: 'nope\n' });
    assert.equal(existsSync(marker), false);
  });

  it('reads after the steps: their exit codes never stop the trip nor count as a step failure', async () => {
    const conn = new CountingConnection();
    const { outputs, read } = await applyStepsThenRead(conn, [step('echo one'), step('echo two')], true, [
      plain('exit 3'),
      plain('echo three'),
    ]);
    assert.equal(conn.runs, 1);
    assert.deepEqual(
      outputs.map((o) => [o.code, o.stdout]),
      [
        [0, 'one\n'],
        [0, 'two\n'],
      ],
    );
    assert.deepEqual(
      read?.map((o) => o && [o.code, o.stdout]),
      [
        [3, ''],
        [0, 'three\n'],
      ],
    );
  });

  it('reads after steps that fail: the trip stops at the failing step, no read comes back', async () => {
    const conn = new CountingConnection();
    const marker = join(dir, 'read-ran');
    const { outputs, read } = await applyStepsThenRead(conn, [step('exit 4')], true, [
      plain(shScript('touch "$1"', [marker])),
    ]);
    assert.equal(outputs.length, 1);
    assert.equal(outputs[0].code, 4);
    assert.equal(read, undefined);
    assert.equal(existsSync(marker), false, 'a read after a failed step ran');
  });

  it('without stopping (a module that reads exit codes itself) every step runs', async () => {
    const outputs = await applySteps(new CountingConnection(), [step('exit 1'), step('exit 2'), step('echo 3')], false);
    assert.deepEqual(
      outputs.map((o) => o.code),
      [1, 2, 0],
    );
  });

  it('a big input travels in the same round trip (it is not on the command line)', async () => {
    const conn = new CountingConnection();
    const big = 'x'.repeat(200_000);
    const f = join(dir, 'big');
    const outputs = await applySteps(
      conn,
      [step('echo a'), step('echo b'), step(shScript('cat > "$1"', [f]), big), step('echo c'), step('echo d')],
      true,
    );
    assert.deepEqual(
      outputs.map((o) => o.stdout),
      ['a\n', 'b\n', '', 'c\n', 'd\n'],
    );
    assert.equal(readFileSync(f, 'utf8'), big);
    assert.equal(conn.runs, 1);
  });

  it('a step whose command is too long to share a command line runs alone, in its place', async () => {
    const conn = new CountingConnection();
    const long = `: ${'y'.repeat(100_000)}; echo long`;
    const outputs = await applySteps(
      conn,
      [step('echo a'), step('echo b'), step(long), step('echo c'), step('echo d')],
      true,
    );
    assert.deepEqual(
      outputs.map((o) => o.stdout),
      ['a\n', 'b\n', 'long\n', 'c\n', 'd\n'],
    );
    assert.equal(conn.runs, 3);
  });
});
