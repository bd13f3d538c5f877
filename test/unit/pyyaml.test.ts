// Plain scalars as Ansible's loader (PyYAML, YAML 1.1) reads them, in playbooks, vars files and from_yaml.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { PYYAML } from '../../src/engine/yaml/pyyaml.js';
import { parseYaml } from '../../src/engine/yaml/source.js';
import { PyFloat } from '../../src/engine/util/pyfloat.js';
import { PyDate } from '../../src/engine/util/pydate.js';

// [plain scalar, what PyYAML's safe_load makes of it]
const TABLE: [string, unknown][] = [
  ['yes', true],
  ['Yes', true],
  ['YES', true],
  ['on', true],
  ['ON', true],
  ['true', true],
  ['no', false],
  ['Off', false],
  ['FALSE', false],
  ['y', 'y'],
  ['n', 'n'],
  ['yEs', 'yEs'],
  ['0644', 420],
  ['0755', 493],
  ['09', '09'],
  ['00', 0],
  ['0', 0],
  ['-3', -3],
  ['1_000', 1000],
  ['1:30', 90],
  ['1:30.5', 90.5],
  ['0x1F', 31],
  ['0b101', 5],
  ['1.5', 1.5],
  ['.5', 0.5],
  ['1.0e+3', new PyFloat(1000)], // a float, whole or not
  ['2.0', new PyFloat(2)],
  ['-0.0', new PyFloat(-0)],
  ['1e3', '1e3'],
  ['1.0e3', '1.0e3'],
  ['.', '.'],
  ['.inf', Infinity],
  ['-.Inf', -Infinity],
  ['~', null],
  ['null', null],
  ['2001-12-14', new PyDate('date', 2001, 12, 14)],
  ['2001-12-14 21:59:43.10 -5', new PyDate('datetime', 2001, 12, 14, 21, 59, 43, 100000, -300)],
  ['2001-12-14T21:59:43Z', new PyDate('datetime', 2001, 12, 14, 21, 59, 43, 0, 0)],
  ['2001-1-4', '2001-1-4'], // a date alone needs both digits
  ['2001-02-30', '2001-02-30'], // no such day: PyYAML fails, relay-play keeps the text
];

describe('YAML 1.1 as PyYAML reads it', () => {
  for (const [text, want] of TABLE)
    it(`${text} → ${JSON.stringify(want)}`, () => {
      assert.deepEqual(parse(`v: ${text}`, PYYAML), { v: want });
    });

  it('a quoted scalar stays text; merge keys work; playbooks load the same way', () => {
    assert.deepEqual(parse(`a: "yes"\nb: '0644'\nc: {<<: {x: 1}, y: 2}`, PYYAML), {
      a: 'yes',
      b: '0644',
      c: { x: 1, y: 2 },
    });
    assert.deepEqual(parseYaml('- debug: {msg: yes}\n  become: on\n', 'p.yml').toJS(), [
      { debug: { msg: true }, become: true },
    ]);
  });
});
