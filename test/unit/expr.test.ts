import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExprError,
  OPAQUE,
  UndefinedVarError,
  evalExpr,
  exprRootNames,
  parseExpr,
  truthy,
} from '../../src/engine/template/expr.js';

const ev = (text: string, vars: Record<string, unknown> = {}) => evalExpr(parseExpr(text), vars);

function syntaxError(text: string, column?: number, message?: RegExp): ExprError {
  let caught: unknown;
  try {
    parseExpr(text);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ExprError, `expected ExprError for ${JSON.stringify(text)}, got ${String(caught)}`);
  if (column !== undefined) assert.equal(caught.column, column, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

function undefinedVar(text: string, vars: Record<string, unknown>, name: string): void {
  assert.throws(
    () => ev(text, vars),
    (e: unknown) =>
      e instanceof UndefinedVarError && e.name === name && e.varName === name && e.message.includes(`"${name}"`),
  );
}

const VARS = {
  n: 5,
  s: 'Hello',
  list: [1, 2, 3],
  empty: [],
  obj: { a: { b: 'deep' }, 'with space': 1, items: [{ k: 'v' }] },
  nothing: null,
  yes: true,
  res_changed: { changed: true, failed: false, rc: 0 },
  res_failed: { changed: false, failed: true, rc: 1 },
  res_skipped: { changed: false, skipped: true },
};

describe('expr: literals and names', () => {
  it('numbers, strings, booleans, none, lists', () => {
    assert.equal(ev('42'), 42);
    assert.equal(ev('-3.5'), -3.5);
    assert.equal(ev("'single'"), 'single');
    assert.equal(ev('"dou\\"ble"'), 'dou"ble');
    assert.equal(ev("'a\\nb'"), 'a\nb');
    for (const t of ['true', 'True']) assert.equal(ev(t), true);
    for (const f of ['false', 'False']) assert.equal(ev(f), false);
    for (const n of ['none', 'None', 'null']) assert.equal(ev(n), null);
    assert.deepEqual(ev('[1, "a", [true], n]', VARS), [1, 'a', [true], 5]);
    assert.deepEqual(ev('[]'), []);
    assert.deepEqual(ev('[1, 2,]'), [1, 2]);
  });

  it('names, attributes, subscripts, parentheses', () => {
    assert.equal(ev('n', VARS), 5);
    assert.equal(ev('obj.a.b', VARS), 'deep');
    assert.equal(ev("obj['a']['b']", VARS), 'deep');
    assert.equal(ev('obj["with space"]', VARS), 1);
    assert.equal(ev('list[0]', VARS), 1);
    assert.equal(ev('list[-1]', VARS), 3);
    assert.equal(ev('list.1', VARS), 2);
    assert.equal(ev('obj.items[0].k', VARS), 'v');
    assert.equal(ev('obj.items.0.k', VARS), 'v');
    assert.equal(ev('s[1]', VARS), 'e');
    assert.equal(ev('obj[key]', { ...VARS, key: 'with space' }), 1);
    assert.equal(ev('(1 + 2) - (3 - 1)'), 1);
  });

  it('strips a {{ }} wrapping the whole text, keeping columns relative to the original', () => {
    assert.equal(ev('{{ n == 5 }}', VARS), true);
    assert.equal(ev('  {{n}}  ', VARS), 5);
    syntaxError('{{ n == }}', 9);
    syntaxError('{{ a }} and {{ b }}', undefined, /\{\{ \}\}/);
  });
});

describe('expr: operators', () => {
  it('comparisons', () => {
    assert.equal(ev('n == 5', VARS), true);
    assert.equal(ev('n != 5', VARS), false);
    assert.equal(ev('n < 6', VARS), true);
    assert.equal(ev('n > 6', VARS), false);
    assert.equal(ev('n <= 5', VARS), true);
    assert.equal(ev('n >= 5.5', VARS), false);
    assert.equal(ev("s == 'Hello'", VARS), true);
    assert.equal(ev("'a' < 'b'"), true);
    assert.equal(ev('list == [1, 2, 3]', VARS), true);
    // Maps compare by content: an equal map that is another object, and maps that differ.
    const maps = {
      ...VARS,
      same: { b: 'deep' },
      otherValue: { b: 'shallow' },
      moreKeys: { b: 'deep', c: 1 },
      sameList: [1, 2, 3],
    };
    assert.equal(ev('obj.a == same', maps), true);
    assert.equal(ev('obj.a != same', maps), false);
    assert.equal(ev('obj.a == otherValue', maps), false);
    assert.equal(ev('obj.a == moreKeys', maps), false);
    assert.equal(ev('moreKeys == obj.a', maps), false);
    assert.equal(ev('list == sameList', maps), true);
    assert.equal(ev('list == [1, 2]', maps), false);
    assert.equal(ev('1 < n < 10', VARS), true);
    assert.equal(ev('1 < n < 3', VARS), false);
    assert.equal(ev("n == '5'", VARS), false);
    assert.equal(ev('nothing == none', VARS), true);
  });

  it('ordering different types is an error, not a guess', () => {
    assert.throws(
      () => ev("n < 'a'", VARS),
      (e: unknown) => e instanceof ExprError && /cannot compare int with string/.test(e.message),
    );
  });

  it('and / or / not, with short-circuit', () => {
    assert.equal(ev('yes and n', VARS), 5);
    assert.equal(ev('empty and undefined_thing', VARS), VARS.empty);
    assert.equal(ev('yes or undefined_thing', VARS), true);
    assert.equal(ev('empty or n', VARS), 5);
    assert.equal(ev('not yes', VARS), false);
    assert.equal(ev('not empty', VARS), true);
    assert.equal(ev('not n == 4', VARS), true); // not binds looser than ==
    assert.equal(ev('yes and not yes or yes', VARS), true); // (yes and (not yes)) or yes
    assert.equal(ev('false or false and true'), false);
  });

  it('in / not in', () => {
    assert.equal(ev('2 in list', VARS), true);
    assert.equal(ev('7 in list', VARS), false);
    assert.equal(ev('7 not in list', VARS), true);
    assert.equal(ev("'ell' in s", VARS), true);
    assert.equal(ev("'a' in obj", VARS), true);
    assert.equal(ev("'zz' not in obj", VARS), true);
    assert.equal(ev('[1] in [[1], [2]]'), true);
    assert.throws(() => ev('1 in n', VARS), ExprError);
  });

  it('+ and - on numbers, strings and lists; ~ concatenates as strings', () => {
    assert.equal(ev('n + 1', VARS), 6);
    assert.equal(ev('n - 10', VARS), -5);
    assert.equal(ev('1 - 2 - 3'), -4);
    assert.equal(ev("s + ' world'", VARS), 'Hello world');
    assert.deepEqual(ev('list + [4]', VARS), [1, 2, 3, 4]);
    assert.equal(ev("'port ' ~ n", VARS), 'port 5');
    assert.equal(ev('n * 2 + 1', VARS), 11);
    assert.equal(ev('7 // 2'), 3);
    assert.equal(ev('7 % 3'), 1);
    assert.throws(
      () => ev('s + 1', VARS),
      (e: unknown) => e instanceof ExprError && /cannot apply "\+" to string and int/.test(e.message),
    );
    assert.throws(() => ev('1 / 0'), /division by zero/);
  });
});

describe('expr: tests', () => {
  it('defined / undefined / not defined', () => {
    assert.equal(ev('n is defined', VARS), true);
    assert.equal(ev('zz is defined', VARS), false);
    assert.equal(ev('zz is undefined', VARS), true);
    assert.equal(ev('zz is not defined', VARS), true);
    assert.equal(ev('n is not defined', VARS), false);
    assert.equal(ev('obj.a.b is defined', VARS), true);
    assert.equal(ev('obj.a.zz is defined', VARS), false);
    assert.equal(ev('zz.a.b is defined', VARS), false);
    assert.equal(ev('list[10] is defined', VARS), false);
    assert.equal(ev('nothing is defined', VARS), true);
  });

  it('none', () => {
    assert.equal(ev('nothing is none', VARS), true);
    assert.equal(ev('n is none', VARS), false);
    assert.equal(ev('n is not none', VARS), true);
  });

  it('changed / failed / succeeded / success / skipped read a registered result', () => {
    assert.equal(ev('res_changed is changed', VARS), true);
    assert.equal(ev('res_failed is changed', VARS), false);
    assert.equal(ev('res_failed is failed', VARS), true);
    assert.equal(ev('res_changed is failed', VARS), false);
    assert.equal(ev('res_changed is succeeded', VARS), true);
    assert.equal(ev('res_changed is success', VARS), true);
    assert.equal(ev('res_failed is succeeded', VARS), false);
    assert.equal(ev('res_skipped is skipped', VARS), true);
    assert.equal(ev('res_changed is skipped', VARS), false);
    assert.equal(ev('res_changed is not skipped', VARS), true);
    assert.equal(ev('res_failed is failed and res_changed is changed', VARS), true);
    assert.throws(
      () => ev('n is changed', VARS),
      (e: unknown) => e instanceof ExprError && /registered task result/.test(e.message),
    );
    undefinedVar('nope is changed', VARS, 'nope');
  });

  it('unknown test → ExprError at the test name', () => {
    syntaxError('n is oddish', 6, /unknown test "oddish"/);
  });
});

describe('expr: filters', () => {
  it('length', () => {
    assert.equal(ev('list | length', VARS), 3);
    assert.equal(ev('s|length', VARS), 5);
    assert.equal(ev('obj | length', VARS), 3);
    assert.equal(ev('empty | length == 0', VARS), true);
    assert.throws(() => ev('n | length', VARS), ExprError);
  });

  it('int and bool', () => {
    assert.equal(ev("'42' | int", VARS), 42);
    assert.equal(ev("' 7 ' | int + 1", VARS), 8);
    assert.equal(ev("'3.9' | int"), 3);
    assert.equal(ev("'abc' | int"), 0);
    assert.equal(ev("'abc' | int(-1)"), -1);
    assert.equal(ev('true | int'), 1);
    for (const t of ["'yes'", "'True'", "'on'", "'1'", '1', 'true']) assert.equal(ev(`${t} | bool`), true, t);
    for (const f of ["'no'", "'false'", "'off'", "''", '0', '2', 'false']) assert.equal(ev(`${f} | bool`), false, f);
    assert.equal(ev('none | bool'), null); // ansible-core's bool filter keeps None
  });

  it('lower, upper, trim', () => {
    assert.equal(ev('s | lower', VARS), 'hello');
    assert.equal(ev('s | upper', VARS), 'HELLO');
    assert.equal(ev("'  x \\n' | trim"), 'x');
    assert.equal(ev("s | lower | upper == 'HELLO'", VARS), true);
  });

  it('default / d', () => {
    assert.equal(ev('zz | default(3)', VARS), 3);
    assert.equal(ev('zz | d("x")', VARS), 'x');
    assert.equal(ev('zz | default', VARS), '');
    assert.equal(ev('n | default(3)', VARS), 5);
    assert.equal(ev('nothing | default(3)', VARS), null); // only undefined is replaced…
    assert.equal(ev("'' | default('e', true)"), 'e'); // …unless the boolean flag is set
    assert.equal(ev('obj.zz.yy | default(1) + 1', VARS), 2);
    assert.equal(ev('zz | default(n) | int', VARS), 5);
  });

  it('unknown filter → ExprError at the filter name', () => {
    syntaxError('n | shell', 5, /unknown filter "shell"/);
    syntaxError('n | lower(1)', 5, /takes at most 0/);
  });
});

describe('expr: undefined variables', () => {
  it('raise UndefinedVarError naming the full dotted path', () => {
    undefinedVar('missing', VARS, 'missing');
    undefinedVar('missing == 1', VARS, 'missing');
    undefinedVar('obj.a.c', VARS, 'obj.a.c');
    undefinedVar('obj.nope.deeper.still', VARS, 'obj.nope.deeper.still');
    undefinedVar('missing.b.c', VARS, 'missing.b.c');
    undefinedVar('list[7]', VARS, 'list[7]');
    undefinedVar("obj['x y'].z", VARS, 'obj["x y"].z');
    undefinedVar('n.b', VARS, 'n.b');
    undefinedVar('missing | lower', VARS, 'missing');
    undefinedVar('yes and missing', VARS, 'missing');
    undefinedVar('[missing]', VARS, 'missing');
  });
});

describe('expr: syntax errors', () => {
  it('report a message and a 1-based column', () => {
    syntaxError('', 1, /empty/);
    syntaxError('n ==', 5, /end of expression/);
    syntaxError('(n == 1', 8, /expected "\)"/);
    syntaxError('n = 1', 3, /use "=="/);
    syntaxError("'open", 1, /unterminated string/);
    syntaxError('n and and', 7, /unexpected "and"/);
    syntaxError('n n', 3, /unexpected "n"/);
    syntaxError('n ! 1', 3);
    syntaxError('[1, 2', 6, /expected "]"/);
    syntaxError('a.', 3, /attribute name/);
    syntaxError('a && b', 3, /use "and"/);
  });
});

describe('expr: no code execution', () => {
  it('only the listed methods and functions can be called', () => {
    syntaxError("constructor.constructor('return process')()", 24, /unknown method "constructor"/);
    syntaxError("''.constructor.constructor('return 1')()", undefined, /unknown method/);
    syntaxError('lower(s)', 6, /unknown function "lower"/);
    syntaxError("lookup('nope', 'HOME')", 8, /unknown lookup "nope"/);
    syntaxError("query('unvault', 'x')", 7, /unknown lookup "unvault"/);
    syntaxError('s.upper()()', 10, /function calls are not supported/);
    assert.equal(ev('s.upper()', VARS), 'HELLO');
  });

  it('prototype properties are never reachable', () => {
    undefinedVar('__proto__', VARS, '__proto__');
    undefinedVar('constructor', VARS, 'constructor');
    undefinedVar('toString', VARS, 'toString');
    undefinedVar('obj.__proto__', VARS, 'obj.__proto__');
    undefinedVar('obj.constructor', VARS, 'obj.constructor');
    undefinedVar("obj['constructor']['constructor']", VARS, 'obj.constructor.constructor');
    undefinedVar('s.length', VARS, 's.length');
    undefinedVar('list.length', VARS, 'list.length');
    undefinedVar('obj.hasOwnProperty', VARS, 'obj.hasOwnProperty');
    assert.equal(ev('obj.constructor is defined', VARS), false);
    assert.equal(ev("'constructor' in obj", VARS), false);
  });

  it('functions inside vars are never called', () => {
    let called = 0;
    const vars = { f: () => called++, o: { m: () => called++, list: [() => called++] } };
    syntaxError('f()');
    syntaxError('o.m()');
    assert.equal(typeof ev('f', vars), 'function');
    assert.equal(typeof ev('o.m', vars), 'function');
    assert.equal(typeof ev("o['m']", vars), 'function');
    assert.equal(typeof ev('o.list[0]', vars), 'function');
    assert.equal(ev('f is defined and o.m is defined', vars), true);
    assert.equal(called, 0);
  });

  it('an accessor is read as its value, once per read, and only when read (hostvars is built of them)', () => {
    // src/engine/runner/state.ts: hostvars computes each host's vars on access, and is marked OPAQUE so that
    // naming it does not walk (and so compute) every host looking for templates to render.
    let reads = 0;
    const vars = {
      o: {
        [OPAQUE]: true,
        get g() {
          reads++;
          return 'computed';
        },
      },
    };
    assert.equal(typeof ev('o', vars), 'object');
    assert.equal(ev("'g' in o", vars), true);
    assert.equal(reads, 0, 'naming the map does not read its accessors');
    assert.equal(ev('o.g', vars), 'computed');
    assert.equal(ev("o['g'] ~ '!'", vars), 'computed!');
    assert.equal(reads, 2);
  });
});

describe('truthy', () => {
  it('follows Jinja', () => {
    for (const v of [[], {}, '', 0, null, false, undefined]) assert.equal(truthy(v), false, JSON.stringify(v));
    for (const v of [[0], { a: 1 }, ' ', 1, -1, true, 'false']) assert.equal(truthy(v), true, JSON.stringify(v));
  });
});

describe('exprRootNames', () => {
  const names = (t: string) => exprRootNames(parseExpr(t));

  it('lists top-level names once, in order, without literals or attributes', () => {
    assert.deepEqual(names("a.b == 1 and c[d] in e or 'x' | length > f.g.h"), ['a', 'c', 'd', 'e', 'f']);
    assert.deepEqual(names('a and a.b and a[0]'), ['a']);
    assert.deepEqual(names('true and none == 1'), []);
  });

  it('leaves out names used only under is defined / is undefined / default()', () => {
    assert.deepEqual(names('x is defined'), []);
    assert.deepEqual(names('x.y is not defined'), []);
    assert.deepEqual(names('x is undefined or y'), ['y']);
    assert.deepEqual(names('x | default(y)'), ['y']);
    assert.deepEqual(names('x | d(1) > z'), ['z']);
    assert.deepEqual(names('x[k] is defined'), ['k']);
    assert.deepEqual(names('x is defined or x > 1'), ['x']); // used unguarded
    assert.deepEqual(names('x > 1 and x is defined'), ['x']);
    assert.deepEqual(names('r is changed'), ['r']);
  });

  it('treats `x is defined and …x…` (and `x is undefined or …x…`) as guarded', () => {
    assert.deepEqual(names('x is defined and x > 1'), []);
    assert.deepEqual(names('x is defined and y is defined and x + y > 1'), []);
    assert.deepEqual(names('x is undefined or x == 1'), []);
    assert.deepEqual(names('x is not defined or x.port == 22'), []);
    assert.deepEqual(names('not (x is defined) or x == 1'), []);
    assert.deepEqual(names('(x is defined and x) or x'), ['x']);
  });
});
