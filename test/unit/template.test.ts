import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
// Handlebars: role templates `templates/*.hbs` only (everything else is Jinja: test/unit/jinja.test.ts).
import {
  TemplateError,
  renderHandlebars as renderString,
  handlebarsRootNames as templateRootNames,
} from '../../src/engine/template/handlebars.js';

const VARS = {
  name: 'rpi1',
  port: 2201,
  ports: [22, 2201],
  cfg: { user: 'relay', keys: ['a', 'b'] },
  on: true,
  off: false,
  nothing: null,
  text: 'line1\nline2\n\nline4',
  items: [{ host: 'rpi1' }, { host: 'rpi2' }],
  hostvars: { rpi1: { tunnel_port: 2201 }, rpi2: { tunnel_port: 2202 } },
  groups: { devices: ['rpi1', 'rpi2'] },
};

function undefinedName(fn: () => unknown, name: string): TemplateError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TemplateError, `expected TemplateError, got ${String(caught)}`);
  assert.equal(caught.undefinedName, name, caught.message);
  return caught;
}

describe('renderString', () => {
  it('returns text without {{ unchanged', () => {
    assert.equal(renderString('plain { text }', VARS), 'plain { text }');
    assert.equal(renderString('', VARS), '');
  });

  it('substitutes variables without HTML escaping', () => {
    assert.equal(renderString('host={{name}} port={{ port }}', VARS), 'host=rpi1 port=2201');
    assert.equal(renderString('{{cfg.user}}@{{name}}', VARS), 'relay@rpi1');
    assert.equal(renderString('<{{x}}>', { x: '&"<' }), '<&"<>');
  });

  it('whole-value rule: a lone {{ path }} returns the raw value', () => {
    assert.equal(renderString('{{port}}', VARS), 2201);
    assert.equal(renderString('  {{ port }}\n', VARS), '  2201\n');
    assert.deepEqual(renderString('{{ports}}', VARS), [22, 2201]);
    assert.deepEqual(renderString('{{cfg}}', VARS), VARS.cfg);
    assert.equal(renderString('{{on}}', VARS), true);
    assert.equal(renderString('{{nothing}}', VARS), null);
    assert.equal(renderString('{{cfg.keys.[1]}}', VARS), 'b');
    // anything around it makes a string
    assert.equal(renderString('{{port}}/tcp', VARS), '2201/tcp');
    assert.equal(renderString('{{port}}{{port}}', VARS), '22012201'); // concatenated, never added
    assert.equal(renderString('{{#each ports}}{{this}}{{this}}|{{/each}}', VARS), '2222|22012201|');
    assert.equal(renderString('{{on}}{{off}}', VARS), 'truefalse');
    // a string value keeps the whitespace around it (content: "{{ x }}\n" ends with a newline)
    assert.equal(renderString('{{cfg.keys.[1]}}\n', VARS), 'b\n');
    assert.equal(renderString(' {{hostvar "rpi1" "name"}} ', { ...VARS, hostvars: { rpi1: { name: 'n' } } }), ' n ');
  });

  it("whole-value rule also keeps a lone helper call's value", () => {
    assert.equal(renderString('{{hostvar "rpi2" "tunnel_port"}}', VARS), 2202);
    assert.equal(renderString('{{default missing 10}}', VARS), 10);
    assert.equal(renderString('{{eq port 2201}}', VARS), true);
  });

  it('strict: an undefined variable is a TemplateError naming it', () => {
    const e = undefinedName(() => renderString('x {{missing}} y', VARS), 'missing');
    assert.match(e.message, /undefined variable "missing"/);
    undefinedName(() => renderString('{{missing}}', VARS), 'missing');
    undefinedName(() => renderString('{{cfg.nope}}', VARS), 'cfg.nope');
    undefinedName(() => renderString('a {{cfg.nope}}', VARS), 'cfg.nope');
    undefinedName(() => renderString('{{missing.deep.er}}', VARS), 'missing.deep.er');
    undefinedName(() => renderString('a {{missing.deep}}', VARS), 'missing.deep');
    undefinedName(() => renderString('{{#each items}}{{nope}}{{/each}}', VARS), 'nope');
    undefinedName(() => renderString('{{join missing ","}}', VARS), 'missing');
  });

  it('syntax errors and unknown helpers are TemplateErrors', () => {
    assert.throws(
      () => renderString('{{ name ', VARS),
      (e: unknown) => e instanceof TemplateError && /syntax error/.test(e.message),
    );
    assert.throws(
      () => renderString('{{ name | upper }}', VARS),
      (e: unknown) => e instanceof TemplateError && /Jinja filters/.test(e.message),
    );
    assert.throws(() => renderString('{{shout name}}', VARS), TemplateError);
  });

  it('built-in blocks: each, if, lookup', () => {
    assert.equal(renderString('{{#each ports}}{{this}},{{/each}}', VARS), '22,2201,');
    assert.equal(renderString('{{#each items as |it|}}{{it.host}}:{{@index}} {{/each}}', VARS), 'rpi1:0 rpi2:1 ');
    assert.equal(renderString('{{#each items}}{{host}}@{{../port}} {{/each}}', VARS), 'rpi1@2201 rpi2@2201 ');
    assert.equal(renderString('{{#if on}}yes{{else}}no{{/if}}', VARS), 'yes');
    assert.equal(renderString('{{#if off}}yes{{else}}no{{/if}}', VARS), 'no');
    assert.equal(renderString('{{lookup cfg "user"}}', VARS), 'relay');
  });
});

// Handlebars with noEscape joins outputs with a bare `+`: without care, outputs that meet before any text
// are added (`{{a}}{{b}}` with 1 and 2 gives 3). Every case here is one that would add.
describe('adjacent outputs concatenate as text, never add', () => {
  const N = { a: 1, b: 2, p: 22, on: true, off: false, list: [3, 4], rows: [{ x: 5, y: 6 }] };

  it('two variables, the same one twice, triple-stash', () => {
    assert.equal(renderString('{{a}}{{b}}', N), '12');
    assert.equal(renderString('{{p}}{{p}}', N), '2222');
    assert.equal(renderString('{{{a}}}{{{b}}}', N), '12');
    assert.equal(renderString('{{a}}{{{b}}}', N), '12');
    assert.equal(renderString('{{on}}{{off}}', N), 'truefalse');
  });

  it('numbers then text, and whitespace control that makes them adjacent', () => {
    assert.equal(renderString('{{a}}{{b}} ports', N), '12 ports');
    assert.equal(renderString('{{p}}{{p}}\n', N), '2222\n');
    assert.equal(renderString('{{a}} {{~b}}/tcp', N), '12/tcp');
    assert.equal(renderString('{{a~}}\n  {{b}}', N), '12');
  });

  it('inside #each, with this, fields and block params', () => {
    assert.equal(renderString('{{#each list}}{{this}}{{this}} {{/each}}', N), '33 44 ');
    assert.equal(renderString('{{#each list}}{{this}}{{@index}}{{/each}}', N), '3041');
    assert.equal(renderString('{{#each rows}}{{x}}{{y}}{{/each}}', N), '56');
    assert.equal(renderString('{{#each rows as |r|}}{{r.x}}{{r.y}}{{../a}}{{/each}}', N), '561');
    assert.equal(renderString('{{#each list}}{{this}}{{@root.a}}{{/each}}', N), '3141');
  });

  it('helper results and block outputs', () => {
    assert.equal(renderString('{{default missing 1}}{{default missing 2}}', N), '12');
    assert.equal(renderString('{{eq a 1}}{{eq b 2}}', N), 'truetrue');
    assert.equal(renderString('{{#if on}}{{a}}{{/if}}{{#if on}}{{b}}{{/if}}', N), '12');
    assert.equal(renderString('{{#if off}}x{{else}}{{a}}{{b}}{{/if}}', N), '12');
    assert.equal(renderString('{{#with rows.[0]}}{{x}}{{y}}{{/with}}', N), '56');
  });

  it('a null item in #each stays null (renders empty), not an empty object', () => {
    assert.equal(renderString('{{#each xs}}[{{this}}]{{.}}{{/each}}', { xs: [null, 1, undefined, 0] }), '[][1]1[][0]0');
    assert.equal(renderString('{{#each xs}}{{#if this}}y{{else}}n{{/if}}{{/each}}', { xs: [null, 1] }), 'ny');
  });
});

describe('helpers', () => {
  it('default', () => {
    assert.equal(renderString('{{default missing "fallback"}}', VARS), 'fallback');
    assert.equal(renderString('{{default name "fallback"}}', VARS), 'rpi1');
    assert.equal(renderString('{{default nothing "fallback"}}', VARS), 'fallback');
    assert.equal(renderString('{{default off "fallback"}}', VARS), false);
  });

  it('eq, ne, and, or, not', () => {
    assert.equal(renderString('{{#if (eq name "rpi1")}}Y{{else}}N{{/if}}', VARS), 'Y');
    assert.equal(renderString('{{#if (ne name "rpi1")}}Y{{else}}N{{/if}}', VARS), 'N');
    assert.equal(renderString('{{#if (and on port)}}Y{{else}}N{{/if}}', VARS), 'Y');
    assert.equal(renderString('{{#if (and on off)}}Y{{else}}N{{/if}}', VARS), 'N');
    assert.equal(renderString('{{#if (or off nothing ports)}}Y{{else}}N{{/if}}', VARS), 'Y');
    assert.equal(renderString('{{#if (not off)}}Y{{else}}N{{/if}}', VARS), 'Y');
    // Lists and maps compare by content: an equal list that is another object, and ones that differ.
    const more = {
      ...VARS,
      samePorts: [22, 2201],
      otherPorts: [22, 2202],
      sameCfg: { user: 'relay', keys: ['a', 'b'] },
    };
    assert.equal(renderString('{{eq ports samePorts}}', more), true);
    assert.equal(renderString('{{ne ports samePorts}}', more), false);
    assert.equal(renderString('{{eq ports otherPorts}}', more), false);
    assert.equal(renderString('{{ne ports otherPorts}}', more), true);
    assert.equal(renderString('{{eq cfg sameCfg}}', more), true);
    assert.equal(renderString('{{eq cfg.keys ports}}', more), false);
  });

  it('join', () => {
    assert.equal(renderString('{{join ports ","}}', VARS), '22,2201');
    assert.equal(renderString('ports: {{join ports ", "}}', VARS), 'ports: 22, 2201');
    assert.equal(renderString('{{join cfg.keys}}', VARS), 'a,b');
    assert.throws(() => renderString('{{join name ","}}', VARS), /join needs a list/);
  });

  it('hostvar with a literal or a variable host name', () => {
    assert.equal(renderString('port {{hostvar "rpi1" "tunnel_port"}}', VARS), 'port 2201');
    assert.equal(
      renderString('{{#each groups.devices}}{{this}}={{hostvar this "tunnel_port"}} {{/each}}', VARS),
      'rpi1=2201 rpi2=2202 ',
    );
    assert.equal(renderString('{{#each items}}{{hostvar host "tunnel_port"}} {{/each}}', VARS), '2201 2202 ');
    const e1 = undefinedName(() => renderString('{{hostvar "rpi9" "tunnel_port"}}', VARS), 'hostvars.rpi9');
    assert.match(e1.message, /no host "rpi9"/);
    const e2 = undefinedName(() => renderString('{{hostvar "rpi1" "nope"}}', VARS), 'hostvars.rpi1.nope');
    assert.match(e2.message, /host "rpi1" has no variable "nope"/);
    undefinedName(() => renderString('{{hostvar "rpi1" "x"}}', { name: 'a' }), 'hostvars');
  });

  it('json, lower, upper, indent', () => {
    assert.equal(renderString('{{json cfg}}', VARS), '{"user":"relay","keys":["a","b"]}');
    assert.equal(renderString('x={{json ports}}', VARS), 'x=[22,2201]');
    assert.equal(renderString('{{json cfg 2}}', VARS), JSON.stringify(VARS.cfg, null, 2));
    assert.equal(renderString('{{lower "AbC"}}-{{upper name}}', VARS), 'abc-RPI1');
    assert.equal(renderString('  key: {{indent text 4}}', VARS), '  key: line1\n    line2\n\n    line4');
    assert.equal(renderString('{{indent text}}', VARS), 'line1\n    line2\n\n    line4');
  });
});

describe('templateRootNames', () => {
  it('returns root names of plain mustaches, in order, once', () => {
    assert.deepEqual(templateRootNames('{{a}} {{b.c}} {{a.d}}'), ['a', 'b']);
    assert.deepEqual(templateRootNames('no templates here'), []);
    assert.deepEqual(templateRootNames('{{this.x}} {{this}}'), ['x']);
  });

  it('includes helper params and sub-expressions but not helper names or literals', () => {
    assert.deepEqual(templateRootNames('{{default x "y"}} {{join list ","}} {{hostvar h "port"}}'), ['x', 'list', 'h']);
    assert.deepEqual(templateRootNames('{{#if (eq a (lower b))}}{{c}}{{else}}{{d}}{{/if}}'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(templateRootNames('{{json k=v}}'), ['v']);
    assert.deepEqual(templateRootNames('{{hostvar "rpi1" "tunnel_port"}}'), []);
  });

  it('skips paths relative to #each/#with, but includes the block param and parent references', () => {
    assert.deepEqual(templateRootNames('{{#each groups.devices}}{{this}} {{name}} {{@index}}{{/each}}'), ['groups']);
    assert.deepEqual(templateRootNames('{{#each items as |it|}}{{it.host}}{{../port}}{{@root.top}}{{/each}}'), [
      'items',
      'port',
      'top',
    ]);
    assert.deepEqual(templateRootNames('{{#each items}}{{x}}{{else}}{{fallback}}{{/each}}'), ['items', 'fallback']);
    assert.deepEqual(templateRootNames('{{#with cfg}}{{user}}{{#each keys}}{{../../outer}}{{/each}}{{/with}}'), [
      'cfg',
      'outer',
    ]);
    assert.deepEqual(templateRootNames('{{#if on}}{{inside_if}}{{/if}}'), ['on', 'inside_if']);
  });

  it('counts an unknown helper call as a variable (rendering reports it undefined too)', () => {
    assert.deepEqual(templateRootNames('{{shout name}}'), ['shout', 'name']);
  });

  it('throws TemplateError on syntax errors', () => {
    assert.throws(() => templateRootNames('{{#if x}}'), TemplateError);
  });
});
