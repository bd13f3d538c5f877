// -e / --extra-vars as ansible-playbook reads them (compared by hand with ansible-playbook 2.14 on the
// same words: `-e a=b -e 'c=d e=f' -e @file -e '{"json": 1}'`, later ones winning).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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
