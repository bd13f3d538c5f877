// Free-form key=value arguments, split and parsed as ansible-playbook does. The expected values are
// ansible-core 2.14's own parse_kv output for each text (ansible.parsing.splitter, run once by hand).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError, parseKv } from '../../src/engine/util/kv.js';

/** [text, free-form (command/shell), what ansible-core parses it into]. */
const TABLE: [string, boolean, Record<string, string>][] = [
  ['path=/x state=directory', false, { path: '/x', state: 'directory' }],
  ['echo hi chdir=/tmp', true, { chdir: '/tmp', _raw_params: 'echo hi' }],
  ['echo a=b creates=/x', true, { creates: '/x', _raw_params: 'echo a=b' }],
  ['msg="hello world"', false, { msg: 'hello world' }],
  ["msg='it''s'", false, { msg: "it''s" }],
  ['msg="{{ a }} b" var=x', false, { msg: '{{ a }} b', var: 'x' }],
  ['msg={{ a | default("x y") }}', false, { msg: '{{ a | default("x y") }}' }],
  ["echo 'two  spaces'  and", true, { _raw_params: "echo 'two  spaces'  and" }],
  ['cat <<EOF\nline one\nEOF', true, { _raw_params: 'cat <<EOF\nline one\nEOF' }],
  ['printf "a\\nb"', true, { _raw_params: 'printf "a\\nb"' }],
  ['msg=a\\tb', false, { msg: 'a\tb' }],
  ['key=a\\=b', false, { key: 'a\\=b' }],
  ['x\\=y', true, { _raw_params: 'x=y' }],
  ['echo "x\n y"', true, { _raw_params: 'echo "x\n y"' }],
  ['a=1 b= c', false, { a: '1', b: '', _raw_params: 'c' }],
  ['{% if x %}y{% endif %} z=1', false, { z: '1', _raw_params: '{% if x %}y{% endif %}' }],
  ['ls -l \\\n /tmp', true, { _raw_params: 'ls -l /tmp' }],
  ['msg="quoted \'x\' and \\"y\\" here"', false, { msg: 'quoted \'x\' and "y" here' }],
  [
    'chdir=/tmp  executable=/bin/bash echo $0',
    true,
    { chdir: '/tmp', executable: '/bin/bash', _raw_params: 'echo $0' },
  ],
];

describe('free-form key=value arguments', () => {
  for (const [text, freeForm, want] of TABLE)
    it(`${JSON.stringify(text)}${freeForm ? ' (free-form)' : ''}`, () => {
      assert.deepEqual(parseKv(text, freeForm), want);
    });
  it('an unclosed quote or Jinja block is an error, as in Ansible', () => {
    assert.throws(() => parseKv('msg="unclosed'), KvError);
    assert.throws(() => parseKv('msg={{ x'), /unbalanced jinja2 block or quotes/);
  });
});
