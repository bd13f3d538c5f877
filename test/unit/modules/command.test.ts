import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync, mkdirSync } from 'node:fs';
import { cleanArgs, command, shell } from '../../../src/engine/modules/command.js';
import { parseShScript } from '../../../src/engine/util/quote.js';
import { argProblems } from '../../../src/engine/modules/args.js';
import { extractKv, parseKv, shellSplit } from '../../../src/engine/util/words.js';
import { applyPlan, exists, planWith, sandbox, sandboxCtx, type Sandbox } from './fake-host.js';

describe('shellSplit (command word splitting)', () => {
  const cases: [string, string[]][] = [
    ['ls -l', ['ls', '-l']],
    ['  a   b\tc  ', ['a', 'b', 'c']],
    [`echo "a b" 'c d'`, ['echo', 'a b', 'c d']],
    [`echo "it's"`, ['echo', "it's"]],
    [`echo 'say "hi"'`, ['echo', 'say "hi"']],
    [`echo a\\ b`, ['echo', 'a b']],
    [`echo "a\\"b" "x\\y"`, ['echo', 'a"b', 'x\\y']],
    [`echo ''`, ['echo', '']],
    [`echo a"b c"d`, ['echo', 'ab cd']],
    ['echo $HOME *.txt | wc', ['echo', '$HOME', '*.txt', '|', 'wc']],
  ];
  for (const [text, want] of cases) it(JSON.stringify(text), () => assert.deepEqual(shellSplit(text), want));
  it('rejects unterminated quotes', () => {
    assert.throws(() => shellSplit(`echo 'a`), /unterminated single quote/);
    assert.throws(() => shellSplit(`echo "a`), /unterminated double quote/);
  });
});

describe('free-form key=value', () => {
  it('extracts Ansible inline options, leaving the rest of the text as written', () => {
    assert.deepEqual(extractKv('make all creates=/opt/x chdir="/src dir"', ['creates', 'chdir']), {
      rest: 'make all',
      kv: { creates: '/opt/x', chdir: '/src dir' },
    });
    assert.deepEqual(extractKv('creates=/x   echo  "a  b" | tr a b', ['creates']), {
      rest: 'echo  "a  b" | tr a b',
      kv: { creates: '/x' },
    });
    assert.deepEqual(extractKv('echo "creates=/x" foo=bar', ['creates']), {
      rest: 'echo "creates=/x" foo=bar',
      kv: {},
    });
  });
  it('parses k=v maps', () => {
    assert.deepEqual(parseKv(`a=1 b="two words" c='x'`), { a: '1', b: 'two words', c: 'x' });
    assert.throws(() => parseKv('a=1 loose'), /expected key=value/);
  });
});

describe('command / shell', () => {
  let sb: Sandbox;
  before(() => {
    sb = sandbox();
    writeFileSync(sb.p('one.txt'), '1');
    writeFileSync(sb.p('two.txt'), '2');
    mkdirSync(sb.p('sub'));
    writeFileSync(sb.p('sub', 'inner'), 'x');
  });
  after(() => sb.cleanup());

  const run = async (mod: typeof command, args: Record<string, unknown>) => {
    const plan = await planWith(mod, args, sandboxCtx(sb));
    return { plan, ...applyPlan(plan, sb) };
  };

  /** The words a step's exec.sh runs (after its directory and, when it expands, its flags). */
  const stepWords = (plan: { steps: { command: string }[] }) => parseShScript(plan.steps[0].command)!.args;

  it('command runs argv without a shell: no globs, pipes or substitutions; set $VARS expanded as Ansible does', async () => {
    const { plan, result } = await run(command, { _raw: 'echo *.txt $HOME $NOT_SET_HERE | wc -l' });
    assert.equal(plan.steps.length, 1);
    assert.deepEqual(stepWords(plan), ['', 'a', 'echo', '*.txt', '$HOME', '$NOT_SET_HERE', '|', 'wc', '-l']);
    assert.equal(plan.changed, true);
    assert.equal(plan.acceptNonZero, true);
    assert.deepEqual(result.cmd, ['echo', '*.txt', '$HOME', '$NOT_SET_HERE', '|', 'wc', '-l']);
    assert.equal(result.stdout, `*.txt ${process.env.HOME} $NOT_SET_HERE | wc -l`);
    assert.equal(result.rc, 0);
    assert.equal(result.failed, undefined);
  });

  it('shell metacharacters in command arguments are never interpreted', async () => {
    const words = ['a;touch meta1', '$(touch meta2)', '`touch meta3`', '&& touch meta4', '\'"', '> meta5', '\n*'];
    const { plan, result } = await run(command, { argv: ['printf', '%s|', ...words] });
    assert.equal(result.stdout, words.map((w) => `${w}|`).join(''));
    // `$(` is not a variable for Python's expandvars either: the words go through the expansion unchanged.
    assert.deepEqual(stepWords(plan), ['', 'a', 'printf', '%s|', ...words]);
    const plain = await run(command, { argv: ['printf', '%s|', 'a;b', '`x`'] });
    assert.deepEqual(stepWords(plain.plan), ['', 'printf', '%s|', 'a;b', '`x`'], 'no expansion without ~ or $');
    assert.equal(plain.result.stdout, 'a;b|`x`|');
    for (const f of ['meta1', 'meta2', 'meta3', 'meta4', 'meta5']) assert.equal(exists(sb.p(f)), false, f);
  });

  it('~ and ~user expand as Python expanduser; ~nosuchuser stays', async () => {
    const { result } = await run(command, {
      argv: ['echo', '~', '~/x', '~root/y', '~nosuchuser9/z', 'a~', '${HOME}x'],
    });
    const home = process.env.HOME!.replace(/\/+$/, '');
    assert.equal(result.stdout, `${home} ${home}/x /root/y ~nosuchuser9/z a~ ${home}x`);
  });

  const missing = (extra: Record<string, unknown> = {}) => ({
    changed: false,
    failed: true,
    stdout: '',
    stderr: '',
    stdout_lines: [],
    stderr_lines: [],
    ...extra,
  });
  const pick = (r: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, r[k]]));
  const failKeys = ['changed', 'failed', 'stdout', 'stderr', 'stdout_lines', 'stderr_lines', 'rc', 'msg', 'cmd'];

  it("a missing program: rc 2, no output, Python's message, the command line as Ansible prints it", async () => {
    const { result } = await run(command, { _raw: 'nosuchprog-relay-play "a b" c$d --password=x' });
    assert.deepEqual(
      pick(result, failKeys),
      missing({
        rc: 2,
        msg: "[Errno 2] No such file or directory: b'nosuchprog-relay-play'",
        cmd: "nosuchprog-relay-play 'a b' 'c$d' '--password=********'",
      }),
    );
    const abs = await run(command, { argv: ['/nonexistent/prog', 'x'] });
    assert.deepEqual(
      pick(abs.result, failKeys),
      missing({ rc: 2, msg: "[Errno 2] No such file or directory: b'/nonexistent/prog'", cmd: '/nonexistent/prog x' }),
    );
  });

  it('a program that may not run: rc 13 (a file without x, a directory)', async () => {
    writeFileSync(sb.p('noexec'), '#!/bin/sh\necho ran\n');
    chmodSync(sb.p('noexec'), 0o644);
    const a = await run(command, { argv: ['./noexec'] });
    assert.deepEqual(
      pick(a.result, failKeys),
      missing({ rc: 13, msg: "[Errno 13] Permission denied: b'./noexec'", cmd: './noexec' }),
    );
    const d = await run(command, { argv: [sb.p('sub')] });
    assert.equal(d.result.rc, 13);
  });

  it('a first word that looks like an assignment or a reserved word is still the program name', async () => {
    for (const w of ['FOO=bar', 'if', '-x']) {
      const { result } = await run(command, { argv: [w, 'true'] });
      assert.equal(result.rc, 2, w);
      assert.equal(result.msg, `[Errno 2] No such file or directory: b'${w}'`);
    }
  });

  it('cleanArgs: shlex.quote and masked passwords, as Ansible prints a command it could not run', () => {
    const table: [string[], string][] = [
      [['a', 'b c', "it's", ''], `a 'b c' 'it'"'"'s' ''`],
      [['x', '--password', 'secret', 'y'], "x --password '********' y"],
      [['x', '-p', 'secret', '--passwd=s', 'pass=1'], "x -p secret '--passwd=********' 'pass=********'"],
      [['é', 'a@b%c+d=e:f,g./h-'], "'é' a@b%c+d=e:f,g./h-"],
    ];
    for (const [argv, want] of table) assert.equal(cleanArgs(argv), want, argv.join(' '));
  });

  it("chdir that cannot be entered: Ansible's message, rc null, not run", async () => {
    writeFileSync(sb.p('afile'), '');
    const { result } = await run(command, { cmd: 'touch chdir-ran', chdir: sb.p('nodir') });
    assert.equal(result.failed, true);
    assert.equal(result.rc, null);
    assert.equal(
      result.msg,
      `Unable to change directory before execution: [Errno 2] No such file or directory: b'${sb.p('nodir')}'`,
    );
    const f = await run(shell, { cmd: 'touch chdir-ran', chdir: sb.p('afile') });
    assert.match(String(f.result.msg), /\[Errno 20\] Not a directory: b'/);
    assert.equal(exists(sb.p('chdir-ran')), false);
    // In check mode too (Ansible enters the directory before it decides anything): one read tells.
    const ctx = sandboxCtx(sb, { check: true });
    const plan = await planWith(command, { cmd: 'true', chdir: sb.p('nodir') }, ctx);
    assert.equal(ctx.reads.length, 1);
    assert.match(String(plan.failed), /^Unable to change directory before execution: \[Errno 2\]/);
  });

  it('strip_empty_ends: false keeps the newlines; stdout_lines as Python splitlines', async () => {
    const { result } = await run(command, { argv: ['printf', '\n\nx\r\ny\n\n'], strip_empty_ends: false });
    assert.equal(result.stdout, '\n\nx\r\ny\n\n');
    assert.deepEqual(result.stdout_lines, ['', '', 'x', 'y', '']);
    const s = await run(command, { argv: ['printf', '\n\nx\n\n'] });
    assert.equal(s.result.stdout, '\n\nx');
  });

  it("executable with command: ignored, with Ansible's warning", async () => {
    const { result } = await run(command, { cmd: 'echo $0', executable: '/bin/bash' });
    assert.equal(result.stdout, '$0');
    assert.deepEqual(result.warnings, [
      "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '/bin/bash'.",
    ]);
  });

  it('shell with a missing executable: rc 2, and its command line', async () => {
    const { result } = await run(shell, { cmd: 'echo hi', executable: '/nonexistent/sh' });
    assert.deepEqual(
      pick(result, failKeys),
      missing({
        rc: 2,
        msg: "[Errno 2] No such file or directory: b'/nonexistent/sh'",
        cmd: "/nonexistent/sh -c 'echo hi'",
      }),
    );
  });

  it('command keeps quoted words together', async () => {
    const { result } = await run(command, { cmd: `printf '%s|' "a b" 'c'` });
    assert.equal(result.stdout, 'a b|c|');
  });

  it('argv is passed as-is', async () => {
    const { result } = await run(command, { argv: ['printf', '%s|', 'a b', '$(x)', "it's"] });
    assert.equal(result.stdout, "a b|$(x)|it's|");
  });

  it('shell runs its text through sh -c', async () => {
    const { plan, result } = await run(shell, { _raw: 'ls *.txt | wc -l' });
    assert.deepEqual(stepWords(plan), ['', '/bin/sh', '-c', 'ls *.txt | wc -l']);
    assert.equal(result.stdout, '2');
    assert.deepEqual(result.stdout_lines, ['2']);
    assert.equal(result.cmd, 'ls *.txt | wc -l');
    // Ansible's timing fields and an empty msg on success.
    assert.match(String(result.start), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.match(String(result.delta), /^0:00:\d\d\.\d{6}$/);
    assert.ok(String(result.end) >= String(result.start));
    assert.equal(result.msg, '');
  });

  it('non-zero exit: failed: true in the finish result, with rc and output', async () => {
    const { result } = await run(shell, { cmd: 'echo out; echo err >&2; exit 3' });
    assert.deepEqual(
      {
        rc: result.rc,
        failed: result.failed,
        msg: result.msg,
        stdout: result.stdout,
        stderr: result.stderr,
        stderr_lines: result.stderr_lines,
      },
      { rc: 3, failed: true, msg: 'non-zero return code', stdout: 'out', stderr: 'err', stderr_lines: ['err'] },
    );
  });

  it('stdin is sent, with a newline by default', async () => {
    const { plan, result } = await run(command, { cmd: 'od -c', stdin: 'hi' });
    assert.equal(plan.steps[0].stdin, 'hi\n');
    assert.match(String(result.stdout), /h\s+i\s+\\n/);
    const p2 = await planWith(command, { cmd: 'cat', stdin: 'hi', stdin_add_newline: false }, sandboxCtx(sb));
    assert.equal(p2.steps[0].stdin, 'hi');
    // As Python's run_command: an empty stdin is no data, not a newline.
    const p3 = await planWith(command, { cmd: 'cat', stdin: '' }, sandboxCtx(sb));
    assert.equal(p3.steps[0].stdin, undefined);
  });

  it('chdir', async () => {
    const { result } = await run(command, { cmd: 'ls', chdir: 'sub' });
    assert.equal(result.stdout, 'inner');
    const s = await run(shell, { cmd: 'pwd', chdir: sb.p('sub') });
    assert.equal(s.result.stdout, sb.p('sub'));
  });

  const gates: { name: string; args: Record<string, unknown>; skip?: RegExp }[] = [
    { name: 'creates exists', args: { cmd: 'false', creates: 'one.txt' }, skip: /^skipped, since one\.txt exists$/ },
    { name: 'creates glob matches', args: { cmd: 'false', creates: '*.txt' }, skip: /since \*\.txt exists/ },
    { name: 'creates relative to chdir', args: { cmd: 'false', creates: 'inner', chdir: 'sub' }, skip: /exists/ },
    { name: 'creates absent', args: { cmd: 'true', creates: 'nope' } },
    {
      name: 'removes absent',
      args: { cmd: 'false', removes: 'nope*' },
      skip: /^skipped, since nope\* does not exist$/,
    },
    { name: 'removes exists', args: { cmd: 'true', removes: 'two.txt' } },
    { name: 'inline creates= in free-form', args: { _raw: 'false creates=one.txt' }, skip: /one\.txt exists/ },
  ];
  for (const g of gates) {
    it(`creates/removes: ${g.name}`, async () => {
      const ctx = sandboxCtx(sb);
      const plan = await planWith(command, g.args, ctx);
      assert.equal(ctx.reads.length, 1, 'one read decides');
      if (g.skip) {
        assert.equal(plan.changed, false);
        assert.deepEqual(plan.steps, []);
        assert.match(String(plan.result?.stdout), g.skip);
        assert.match(String(plan.msg), /^Did not run command since '.*' (exists|does not exist)$/);
        assert.equal(plan.result?.msg, plan.msg);
        assert.equal(plan.result?.rc, 0);
      } else {
        assert.equal(plan.changed, true);
        assert.equal(plan.steps.length, 1);
      }
    });
  }

  it('no creates/removes: no read at all', async () => {
    const ctx = sandboxCtx(sb);
    await planWith(command, { cmd: 'true' }, ctx);
    assert.equal(ctx.reads.length, 0);
  });

  it('free-form creates= makes the command idempotent', async () => {
    const args = { _raw: 'touch made creates=made' };
    const first = await run(command, args);
    assert.equal(first.plan.changed, true);
    assert.ok(exists(sb.p('made')));
    const second = await planWith(command, args, sandboxCtx(sb));
    assert.equal(second.changed, false);
  });

  it('check mode: skipped, no steps, unless creates/removes decide', async () => {
    const check = sandboxCtx(sb, { check: true });
    const msg = 'Command would have run if not in check mode';
    assert.deepEqual(await planWith(shell, { cmd: 'touch check-mode-file' }, check), {
      changed: false,
      skipped: true,
      steps: [],
      msg,
      result: {
        cmd: 'touch check-mode-file',
        rc: 0,
        stdout: '',
        stderr: '',
        start: null,
        end: null,
        delta: null,
        msg,
        stdout_lines: [],
        stderr_lines: [],
      },
    });
    const skip = await planWith(command, { cmd: 'false', creates: 'one.txt' }, sandboxCtx(sb, { check: true }));
    assert.equal(skip.changed, false);
    assert.equal(skip.skipped, undefined);
    assert.equal(skip.msg, "Would not run command since 'one.txt' exists");
    const would = await planWith(command, { cmd: 'touch x', creates: 'x' }, sandboxCtx(sb, { check: true }));
    assert.equal(would.changed, true);
    assert.equal(would.skipped, undefined);
    assert.equal(exists(sb.p('check-mode-file')), false);
    assert.equal(exists(sb.p('x')), false);
  });

  it('schema', () => {
    const ok = (mod: typeof command, args: unknown) => argProblems(mod, 'm', args).length === 0;
    assert.ok(ok(command, { _raw: 'ls' }));
    assert.ok(ok(command, { argv: ['ls', '-l'], chdir: '/tmp' }));
    assert.ok(!ok(command, {}));
    assert.ok(!ok(command, { cmd: 'ls', argv: ['ls'] }));
    assert.ok(!ok(shell, { argv: ['ls'] }));
    assert.ok(!ok(command, { cmd: 'ls', bogus: 1 }));
    assert.ok(ok(shell, { cmd: 'set -o pipefail; ls', executable: '/bin/bash' }));
    assert.equal(command.freeForm, true);
    assert.equal(shell.freeForm, true);
  });

  it('shell executable', async () => {
    const { result } = await run(shell, { cmd: 'echo ${BASH_VERSION:+bash}', executable: '/bin/bash' });
    assert.equal(result.stdout, 'bash');
  });
});
