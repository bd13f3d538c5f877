// The shell scripts that run on hosts, as src/engine/util/sh-file.ts reads them from dist/src/: without
// comment-only and blank lines, never one inside a string or a here-document (bash, which drops exactly
// the comments when it prints a function back, says every script parses the same stripped); sourced
// files put in; @NAME@ replaced.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { shFile, stripShell } from '../../src/engine/util/sh-file.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** Every .sh file under src/, relative to it. */
const shipped = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.sh'))
  .map((f) => f.split('\\').join('/'))
  .sort();
const raw = (path: string) => readFileSync(join(SRC, path), 'utf8');

/** How bash reads `script`: a function of it, printed back (no comments, layout of bash's own; strings as written). */
function parsed(script: string): string {
  const r = spawnSync('bash', ['-c', 'eval "f() {\n$1\n}" && declare -f f', 'bash', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `bash cannot read it: ${r.stderr}\n${script}`);
  return r.stdout;
}

/** `script` stripped, and shown to parse as the original does. */
function stripped(script: string): string {
  const out = stripShell(script);
  assert.equal(parsed(out), parsed(script), `parses differently stripped:\n${out}`);
  return out;
}

describe('stripShell: what hosts need not receive', () => {
  it('drops comment-only and blank lines (a shebang and shellcheck directives too), the last newline; keeps indentation and comments after code', () => {
    const script = [
      '#!/bin/sh',
      '# shellcheck shell=sh',
      '',
      'a=1 # the first',
      '   # indented comment',
      '\t',
      'if [ "$a" = 1 ]; then',
      '  # inside a block',
      '  echo "$#" ${#a} $(echo "#")',
      'fi',
      '',
      '',
    ].join('\n');
    assert.equal(stripped(script), 'a=1 # the first\nif [ "$a" = 1 ]; then\n  echo "$#" ${#a} $(echo "#")\nfi');
  });

  it('keeps every line of a here-document (quoted or not, <<-, two on one line, inside $( ))', () => {
    const docs = [
      "cat <<'EOF'\n# not a comment\n\n  # nor this\nEOF\n# gone\necho done",
      'cat <<EOF\n# $HOME\n\nEOF',
      'cat <<-\tEND\n\t# tabbed\n\n\tEND\n# gone',
      "cat <<A; cat <<'B'\n# a\n\nA\n# b\n\nB\n# gone",
      'x=$(cat <<EOF\n# in a command substitution\n\nEOF\n)\n# gone\necho "$x"',
      'cat <<"E F"\n# quoted marker with a blank\nE F',
      'cat <<\\EOF\n# escaped marker\nEOF',
    ];
    for (const doc of docs) {
      const out = stripped(doc);
      for (const line of doc.split('\n').filter((l) => !l.includes('gone')))
        assert.ok(out.split('\n').includes(line), `${JSON.stringify(line)} lost from\n${doc}\n---\n${out}`);
      assert.ok(!out.includes('gone'), out);
      const a = spawnSync('sh', ['-c', doc], { encoding: 'utf8' });
      const b = spawnSync('sh', ['-c', out], { encoding: 'utf8' });
      assert.deepEqual([b.status, b.stdout], [a.status, a.stdout], doc);
    }
  });

  it('keeps every line of a multi-line quoted string: single, double, with $( ) and quotes inside, an awk program', () => {
    const strings = [
      "echo 'one\n# two\n\nthree'",
      'echo "one\n# two\n\n$(echo "a)b" \'#\')\n# three"',
      `awk '\n  # awk comment\n\n  { print }' /dev/null`,
      'echo "${x:-"\n# default\n"}"',
      "echo `echo '\n# in backquotes\n'`",
      'echo $((1 << 2))\n# gone',
    ];
    for (const s of strings) {
      const out = stripped(s);
      assert.equal(out, s.replace('\n# gone', ''), s);
      const a = spawnSync('sh', ['-c', s], { encoding: 'utf8' });
      assert.equal(spawnSync('sh', ['-c', out], { encoding: 'utf8' }).stdout, a.stdout, s);
    }
  });

  it('keeps the line after a backslash-newline (a # there is no comment; a blank line ends the command)', () => {
    for (const s of ['echo a \\\n# b', 'echo a\\\n#b', 'echo a \\\n\necho c', 'echo "a \\\n# b"']) {
      const out = stripped(s);
      assert.equal(out, s);
      assert.equal(
        spawnSync('sh', ['-c', out], { encoding: 'utf8' }).stdout,
        spawnSync('sh', ['-c', s], { encoding: 'utf8' }).stdout,
      );
    }
  });

  it('a case in a $( ), and ) of patterns: still knows where the $( ) ends', () => {
    const s = 'x=$(case a in a) echo "(";; esac)\n# gone\ny="$x\n# kept"\necho "$y"';
    assert.equal(stripped(s), 'x=$(case a in a) echo "(";; esac)\ny="$x\n# kept"\necho "$y"');
  });

  it('refuses a script whose quoting does not close (it would not tell comments from strings)', () => {
    for (const s of ["echo 'open\n# x", 'echo "open', 'cat <<EOF\nno end', 'echo $(open', 'echo a \\'])
      assert.throws(() => stripShell(s, 'bad.sh'), /bad\.sh:\d+: .*cannot tell which lines are comments/, s);
  });
});

describe('the .sh files', () => {
  it('there are some, and each loads: stripped, parsing as written, sourced files put in', () => {
    assert.ok(shipped.length >= 20, shipped.join(' '));
    for (const path of shipped) {
      // The file with its sourced files put in as they are, then stripped as shFile does.
      const expand = (p: string): string =>
        raw(p).replace(/^\. \.\/(\S+\.sh)$/gm, (_, f: string) => expand(posix.join(dirname(p), f)));
      const sent = stripShell(raw(path), path, (f) => stripShell(expand(posix.join(dirname(path), f))));
      assert.equal(parsed(sent), parsed(expand(path)), `${path} parses differently stripped:\n${sent}`);
    }
  });

  it('@NAME@: every one needs a plain word, and every value given must be used', () => {
    const path = 'relay/modules/relay_tunnel/read-rollback.sh';
    assert.match(
      shFile(path, { DIR: '/etc/relay-play', RB: 'rollback' }),
      /cat -- \/etc\/relay-play\/rollback\/armed /,
    );
    assert.throws(() => shFile(path), /no value for @DIR@/);
    assert.throws(() => shFile(path, { DIR: '/etc/relay play', RB: 'rollback' }), /not a plain shell word/);
    assert.throws(() => shFile(path, { DIR: '/etc/relay-play', RB: 'rollback', UNIT: 'x' }), /no @UNIT@ in the script/);
    assert.throws(() => shFile('relay/no-such.sh'), /cannot read .*dist\/src\/relay\/no-such\.sh/);
  });

  it('a sourced file is put in where it is sourced, as sent', () => {
    const take = shFile('engine/connection/batch/take.sh');
    assert.ok(shFile('engine/connection/batch/run.sh').startsWith(`${take}\none() {`));
    const reload = shFile('relay/modules/relay_tunnel/reload-if-needed.sh');
    assert.ok(shFile('relay/modules/relay_tunnel/switch.sh').includes(`"$rbunit"\n${reload}\nif [ -n "$stale" ]`));
  });
});
