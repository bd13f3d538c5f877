import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { command, shell } from '../../../src/engine/modules/command.js';
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

  it('command runs argv without a shell: no globs, variables or pipes', async () => {
    const { plan, result } = await run(command, { _raw: 'echo *.txt $HOME | wc -l' });
    assert.equal(plan.steps.length, 1);
    assert.equal(plan.steps[0].command, `echo '*.txt' '$HOME' '|' wc -l`);
    assert.equal(plan.changed, true);
    assert.equal(plan.acceptNonZero, true);
    assert.deepEqual(result.cmd, ['echo', '*.txt', '$HOME', '|', 'wc', '-l']);
    assert.equal(result.stdout, '*.txt $HOME | wc -l');
    assert.equal(result.rc, 0);
    assert.equal(result.failed, undefined);
  });

  it('command keeps quoted words together', async () => {
    const { result } = await run(command, { cmd: `printf '%s|' "a b" 'c'` });
    assert.equal(result.stdout, 'a b|c|');
  });

  it('argv is passed as-is', async () => {
    const { result } = await run(command, { argv: ['printf', '%s|', 'a b', '$(x)', "it's"] });
    assert.equal(result.stdout, "a b|$(x)|it's|");
  });

  it('a first word that looks like an assignment is still the program name', async () => {
    const { plan, result } = await run(command, { argv: ['FOO=bar', 'true'] });
    assert.match(plan.steps[0].command, /exec "\$@"/);
    assert.equal(result.rc, 127);
    assert.equal(result.failed, true);
  });

  it('shell runs its text through sh -c', async () => {
    const { plan, result } = await run(shell, { _raw: 'ls *.txt | wc -l' });
    assert.equal(plan.steps[0].command, `/bin/sh -c 'ls *.txt | wc -l'`);
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
        assert.match(String(plan.msg), g.skip);
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
    assert.deepEqual(await planWith(shell, { cmd: 'touch check-mode-file' }, check), {
      changed: false,
      skipped: true,
      steps: [],
      msg: 'skipped in check mode',
      result: { cmd: 'touch check-mode-file' },
    });
    const skip = await planWith(command, { cmd: 'false', creates: 'one.txt' }, sandboxCtx(sb, { check: true }));
    assert.equal(skip.changed, false);
    assert.equal(skip.skipped, undefined);
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
