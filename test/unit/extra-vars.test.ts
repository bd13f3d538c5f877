// -e / --extra-vars as ansible-playbook reads them (compared by hand with ansible-playbook 2.14 on the
// same words: `-e a=b -e 'c=d e=f' -e @file -e '{"json": 1}'`, later ones winning).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../../src/cli/index.js';
import { extraVars, renderPlayHosts } from '../../src/engine/cli/extra-vars.js';
import type { Playbook, PlayDef } from '../../src/engine/playbook/types.js';
import { InputError } from '../../src/engine/util/errors.js';

describe('extra vars (-e)', () => {
  it('key=value words (text), a YAML/JSON mapping, @FILE; later ones win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-extra-'));
    try {
      writeFileSync(join(dir, 'v.yml'), 'from_file: yes\nnum: 3\n');
      assert.deepEqual(
        extraVars(['a=b', `c="two words" num=1`, `@${join(dir, 'v.yml')}`, '{"word": "json", "n": 4}']),
        { a: 'b', c: 'two words', num: 3, from_file: true, word: 'json', n: 4 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a list is refused with a usage error', () => {
    assert.throws(
      () => extraVars(['[1, 2]']),
      (e: unknown) => e instanceof InputError && e.exit === 2,
    );
  });

  it("a play's hosts: template is rendered from the play's vars and the extra vars", () => {
    const play = {
      hosts: '{{ target }}:{{ other }}',
      vars: { other: 'b' },
      hostsPos: { file: 'p.yml', line: 2, col: 3 },
    };
    const pb = { file: 'p.yml', dir: '.', plays: [play as unknown as PlayDef] } as Playbook;
    assert.equal(renderPlayHosts(pb, { target: 'a' }).plays[0].hosts, 'a:b');
    assert.throws(
      () => renderPlayHosts(pb, {}),
      (e: unknown) => e instanceof InputError && /hosts.*undefined/.test(e.message) && e.pos?.line === 2,
    );
  });
});

const CLI = fileURLToPath(new URL('../../../bin/relay-play.js', import.meta.url));

describe('-e on apply as on run', () => {
  for (const command of ['run', 'apply']) {
    it(`${command} takes -e / --extra-vars, repeatable, read the same way`, async () => {
      const program = buildProgram();
      const cmd = program.commands.find((c) => c.name() === command)!;
      let got: string[] | undefined;
      // The command's own action would connect: only the options it is given are looked at.
      cmd.action((...args: unknown[]) => {
        got = (args.at(-2) as { extraVars?: string[] }).extraVars;
      });
      const rest = command === 'run' ? ['pb.yml', '-i', 'inv.yml'] : ['inv.yml'];
      await program.parseAsync(['node', 'relay-play', command, ...rest, '-e', 'a=b c=d', '--extra-vars', '{"n": 1}']);
      assert.deepEqual(got, ['a=b c=d', '{"n": 1}']);
      assert.deepEqual(extraVars(got!), { a: 'b', c: 'd', n: 1 });
    });
  }

  it('apply refuses extra vars that are not a mapping before any host is reached (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-extra-'));
    try {
      const inv = join(dir, 'inv.yaml');
      // Addresses nothing answers on: a run that got past -e would fail unreachable, not exit 2.
      writeFileSync(
        inv,
        'all:\n  children:\n    relay: {hosts: {server: {ansible_host: 198.18.0.250}}}\n    devices: {hosts: {}}\n',
      );
      const r = spawnSync(process.execPath, [CLI, 'apply', inv, '-e', '[1, 2]'], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /extra vars must be a mapping/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
