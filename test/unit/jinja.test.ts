// The template language against Ansible's documented results: one table of (template, variables,
// expected result) rows, each from Ansible's or Jinja's documentation (filters, tests, statements)
// or from what ansible-playbook renders for it; then errors and positions, laziness, pre-flight names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import {
  OMIT,
  TemplateError,
  renderDeep,
  renderString,
  renderTemplateText,
  templateRootNames,
} from '../../src/engine/template/jinja.js';
import { DATE_TABLE, DATE_VARS, TABLE, V } from './jinja-table.js';
import { parse as parseYaml } from 'yaml';
import { PYYAML } from '../../src/engine/yaml/pyyaml.js';
import { pyYamlDump } from '../../src/engine/template/pyyaml.js';
import { isPlainObject } from '../../src/engine/template/values.js';
import { floatRepr, isFloat, jsonText } from '../../src/engine/util/pyfloat.js';

describe('Jinja expressions and templates, as Ansible renders them', () => {
  for (const [tpl, want] of TABLE) {
    it(tpl.replace(/\n/g, '\\n'), () => assert.deepEqual(renderString(tpl, V), want));
  }
});

// The same table through ansible-core's own templating, where it is installed (scripts/install-deps
// installs it): ansible-core 2.14 (Debian 12) must give exactly the expected value, types included
// ('3' where the result is text, [1] where it reads back as a list).
const ANSIBLE = `
import json, sys
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader
d = json.load(sys.stdin)
t = Templar(loader=DataLoader(), variables=d['V'])
def tag(x):
    if isinstance(x, float): return {'float': repr(x)}
    if isinstance(x, list): return [tag(i) for i in x]
    if isinstance(x, dict): return {k: tag(v) for k, v in x.items()}
    return x
out = []
for tpl, _ in d['TABLE']:
    try:
        out.append(tag(t.template(tpl)))
    except Exception as e:
        out.append({'error': str(e)})
print(json.dumps(out))
`;

/** Floats as {float: repr}, as the script above writes them: JSON alone can't tell 2.0 from 2. */
function tagFloats(x: unknown): unknown {
  if (isFloat(x)) return { float: floatRepr(Number(x)) };
  if (Array.isArray(x)) return x.map(tagFloats);
  if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, tagFloats(v)]));
  return x;
}
const python = ['/usr/bin/python3', 'python3'].find(
  (p) => spawnSync(p, ['-c', 'import ansible.template'], { encoding: 'utf8' }).status === 0,
);

// On CI ansible-core is installed (scripts/install-deps): there a missing one is a failure, not a skip.
const skipAnsible = !python && process.env.CI !== 'true' ? 'ansible-core is not installed' : false;

describe('the table agrees with ansible-core', { skip: skipAnsible }, () => {
  it('every row renders the same under ansible-core', () => {
    assert.ok(python, 'ansible-core must be installed here (scripts/install-deps)');
    const r = spawnSync(python!, ['-c', ANSIBLE], { input: jsonText({ TABLE, V }), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = JSON.parse(r.stdout) as unknown[];
    const differ = TABLE.filter(([, ours], i) => JSON.stringify(theirs[i]) !== JSON.stringify(tagFloats(ours))).map(
      ([tpl, ours]) =>
        `${tpl} → ours ${JSON.stringify(ours)}, ansible ${JSON.stringify(theirs[TABLE.findIndex((t) => t[0] === tpl)])}`,
    );
    assert.deepEqual(differ, []);
  });
});

// YAML's dates: the variables read by PyYAML (Ansible's loader) there, by relay-play's reader here.
const DATES = `
import json, sys
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.yaml.loader import AnsibleLoader
d = json.load(sys.stdin)
t = Templar(loader=DataLoader(), variables=AnsibleLoader(d['vars']).get_single_data())
out = []
for tpl, _ in d['table']:
    try:
        out.append(t.template(tpl))
    except Exception as e:
        out.append({'error': str(e)})
print(json.dumps(out))
`;

describe('YAML dates, as PyYAML makes them and Ansible prints them', () => {
  const vars = parseYaml(DATE_VARS, PYYAML) as Record<string, unknown>;
  for (const [tpl, want] of DATE_TABLE) it(tpl, () => assert.deepEqual(renderString(tpl, vars), want));

  it('every row renders the same under ansible-core', { skip: skipAnsible }, () => {
    const r = spawnSync(python!, ['-c', DATES], {
      input: JSON.stringify({ vars: DATE_VARS, table: DATE_TABLE }),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const theirs = JSON.parse(r.stdout) as unknown[];
    assert.deepEqual(
      DATE_TABLE.filter(([, ours], i) => JSON.stringify(theirs[i]) !== JSON.stringify(ours)).map(
        ([tpl]) => `${tpl} → ansible ${JSON.stringify(theirs[DATE_TABLE.findIndex((t) => t[0] === tpl)])}`,
      ),
      [],
    );
  });

  it('a date and a datetime compare as Python compares them; a string or a naive datetime is refused', () => {
    templateError(() => renderString("{{ d < '2002' }}", vars), /cannot compare date with string/);
    templateError(() => renderString('{{ naive < ts }}', vars), /cannot compare datetime with datetime/);
    templateError(() => renderString('{{ d | length }}', vars), /got date/);
  });
});

// Ansible's to_yaml/to_nice_yaml: yaml.dump with its AnsibleDumper (libyaml's emitter when it is there).
const DUMP = `
import json, sys, yaml
from ansible.parsing.yaml.dumper import AnsibleDumper
out = []
for c in json.load(sys.stdin):
    o = c['opts']
    kw = dict(Dumper=AnsibleDumper, allow_unicode=True, default_flow_style=None if o['flow'] else False, indent=o['indent'])
    if o.get('width'): kw['width'] = o['width']
    out.append(yaml.dump(c['v'], **kw))
print(json.dumps(out))
`;

describe('to_yaml folds lines as ansible-core does', { skip: skipAnsible }, () => {
  it('generated documents dump to the same text, byte for byte', () => {
    const words = [
      'alpha',
      "it's",
      'x',
      'yes',
      'key: value',
      '#hash',
      'ünï',
      'tab\there',
      'new\nline',
      ' two  spaces ',
      'a-long-word-without-spaces-that-goes-on-and-on',
      '- dash',
      ':colon',
      'q"uote',
      'http://x.y/z?a=b#c',
      'e😀',
    ];
    let seed = 11;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const sentence = () => Array.from({ length: 1 + rnd(30) }, () => words[rnd(words.length)]).join(' ');
    const value = (d: number): unknown => {
      const k = rnd(d > 2 ? 3 : 6);
      if (k === 0) return sentence();
      if (k === 1) return rnd(100);
      if (k === 2) return rnd(2) ? sentence().slice(0, 10) : null;
      if (k === 3) return Array.from({ length: rnd(15) }, () => value(d + 1));
      return Object.fromEntries(
        Array.from({ length: rnd(6) }, (_, i) => [`k${i}${rnd(2) ? ' long' : ''}`, value(d + 1)]),
      );
    };
    const cases = Array.from({ length: 200 }, () => ({
      v: value(0),
      opts: { indent: [2, 4, 3][rnd(3)], flow: rnd(2) === 0, width: [undefined, 40, 120][rnd(3)] },
    }));
    const r = spawnSync(python!, ['-c', DUMP], { input: JSON.stringify(cases), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = (JSON.parse(r.stdout) as string[]).map((t) => t.replace(/\n\.\.\.\n$/, '\n'));
    const differ = cases.filter((c, i) => pyYamlDump(c.v, c.opts) !== theirs[i]);
    assert.deepEqual(differ.slice(0, 1), []);
  });
});

function templateError(fn: () => unknown, message: RegExp, line?: number, col?: number): TemplateError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TemplateError, `expected a TemplateError, got ${String(caught)}`);
  assert.match(caught.message, message);
  if (line !== undefined) assert.deepEqual([caught.line, caught.col], [line, col], caught.message);
  return caught;
}

describe('mistakes are found where they are written', () => {
  it('unknown filter, wrong filter arguments, unknown test: at parse time, with line and column', () => {
    templateError(() => templateRootNames('{{ port | frobnicate }}'), /unknown filter "frobnicate"/, 1, 11);
    templateError(
      () => templateRootNames('x\n  {{ name | replace("a") }}'),
      /filter "replace" needs at least 2 argument/,
      2,
      13,
    );
    templateError(() => templateRootNames('{{ name | lower(1) }}'), /filter "lower" takes at most 0/, 1, 11);
    templateError(() => templateRootNames('{{ x | default(1, 2, 3) }}'), /takes at most 2/);
    templateError(() => templateRootNames('{{ x | to_json(indnt=2) }}'), /filter "to_json" has no argument "indnt"/);
    templateError(() => templateRootNames('{{ x is frob }}'), /unknown test "frob"/, 1, 9);
  });

  it('statement errors: unclosed, unknown, stray', () => {
    templateError(() => templateRootNames('a\n{% if on %}\nb'), /"\{% if %\}" is never closed/, 2, 1);
    templateError(() => templateRootNames('{% for x in ports %}{% endif %}'), /never closed|without a matching/);
    templateError(() => templateRootNames('{% endfor %}'), /without a matching opening tag/, 1, 1);
    // ansible-core loads no Jinja extension: do, break and continue are unknown tags there too.
    templateError(
      () => templateRootNames('{% do ports.append(1) %}'),
      /Encountered unknown tag 'do'\. \(Ansible enables no Jinja extension: "do" needs jinja2\.ext\.do\)/,
      1,
      1,
    );
    templateError(
      () => templateRootNames('{% for x in ports %}\n{% if x %}{% break %}{% endif %}{% endfor %}'),
      /unknown tag 'break'\. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'\. The innermost block that needs to be closed is 'if'\./,
      2,
      11,
    );
    templateError(() => templateRootNames('{% for x in ports %}{% continue %}{% endfor %}'), /'endfor' or 'else'/);
    templateError(
      () => templateRootNames('{% block a %}{% endblock b %}'),
      /expected token 'end of statement block', got 'b'/,
    );
    templateError(
      () => templateRootNames('{% block a %}{% endblock %}{% block a %}{% endblock %}'),
      /block 'a' defined twice/,
    );
    templateError(
      () => renderString('{% block a %}{{ super() }}{% endblock %}', V),
      /there is no parent block called 'a'/,
    );
    // ansible-core 2.14 joins a block called as super() or self.x() with Python's "".join: a number fails.
    templateError(
      () => renderString('{% block a %}x{{ port }}{% endblock %}{{ self.a() }}', V),
      /sequence item 1: expected str instance, int found/,
    );
    assert.equal(renderString('{% block a %}{{ 1 + 1 }}{{ port ~ "" }}{% endblock %}{{ self.a() }}', V), '222222');
    templateError(
      () => renderString('{% set d = {} %}{% set d.x = 1 %}', V),
      /cannot assign attribute on non-namespace object/,
    );
    templateError(() => templateRootNames('{% macro m() %}x'), /"\{% macro %\}" is never closed/, 1, 1);
    templateError(() => templateRootNames('{% call m() %}x{% endcall %}'), /unknown function "m"/);
    templateError(() => templateRootNames('{{ nomacro() }}'), /unknown function "nomacro"/);
    templateError(() => templateRootNames('{{ port '), /never closed/, 1, 1);
    templateError(() => templateRootNames('{% for in ports %}{% endfor %}'), /expected a loop variable/);
  });

  it('an undefined variable is an error naming it, where it is used', () => {
    const e = templateError(
      () => renderString('line\nport={{ nope.deeper }}', V),
      /undefined variable "nope.deeper"/,
      2,
      8,
    );
    assert.equal(e.undefinedName, 'nope.deeper');
    templateError(() => renderString('{{ config.nope }}', V), /"config.nope"/);
    templateError(() => renderString('{% for x in nope %}{% endfor %}', V), /"nope"/);
  });
});

describe('lookups that refuse what they cannot give', () => {
  it('config: a setting relay-play does not report, or an option it does not take, is an error saying so', () => {
    templateError(
      () => renderString('{{ lookup("config", "DEFAULT_FORKS") }}', V),
      /does not report the setting DEFAULT_FORKS/,
    );
    templateError(
      () => renderString('{{ lookup("config", "X", plugin_type="become") }}', V),
      /"plugin_type" is not supported/,
    );
  });
});

describe('macros, as Jinja calls them', () => {
  it('too many arguments, an unknown keyword, a missing template: errors as Jinja words them', () => {
    templateError(
      () => renderString('{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}', V),
      /macro 'm' takes not more than 1 argument/,
    );
    templateError(
      () => renderString('{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, k=3) }}', V),
      /macro 'm' takes no keyword argument 'k'/,
    );
    templateError(
      () => renderString('{% macro m(a) %}{{ a }}{% endmacro %}{{ m() }}', V),
      /parameter 'a' was not provided/,
    );
    templateError(() => renderString("x\n{% include 'nope.j2' %}", V), /template not found: nope.j2/, 2, 12);
  });

  it('pre-flight: names a macro, a call block or an import binds are not variables the template needs', () => {
    assert.deepEqual(
      templateRootNames(
        '{% macro m(a, b=dflt) %}{{ a }}{{ b }}{{ caller() }}{{ varargs }}{{ other }}{% endmacro %}' +
          '{% call(x) m(1) %}{{ x }}{{ inside }}{% endcall %}{% from "f.j2" import g as h %}{{ h() }}' +
          '{% import "f.j2" as ns %}{{ ns.k(1) }}{% filter upper %}{{ lower }}{% endfilter %}',
      ),
      ['dflt', 'other', 'inside', 'lower'],
    );
  });
});

describe('variables that hold templates are rendered lazily, as in Ansible', () => {
  it('a variable refers to others, at any depth, with the values of the place that uses it', () => {
    const vars = {
      url: 'http://{{ host }}:{{ port }}/',
      host: '{{ name }}.lan',
      port: 80,
      name: 'a',
      cfg: { urls: ['{{ url }}x'] },
    };
    assert.equal(renderString('{{ url }}', vars), 'http://a.lan:80/');
    assert.deepEqual(renderString('{{ cfg }}', vars), { urls: ['http://a.lan:80/x'] });
    assert.equal(renderString('{{ cfg.urls[0] }}', { ...vars, name: 'b' }), 'http://b.lan:80/x');
    // ansible-core 2.14: `typed` is 80 inside an expression (its own `{{ port }}` keeps the number), but
    // "{{ typed }}" is text, as typed's value is a template, not a number.
    assert.equal(renderString('{{ typed }}', { typed: '{{ port }}', port: 80 }), '80');
    assert.equal(renderString('{{ typed is number }}', { typed: '{{ port }}', port: 80 }), true);
  });

  it('a variable that refers to itself is an error, not a hang', () => {
    templateError(() => renderString('{{ a }}', { a: '{{ b }}', b: '{{ a }}' }), /recursive loop detected.*a → b → a/);
  });
});

describe('renderDeep and omit', () => {
  it('renders every string in nested objects/arrays, keeps keys and non-strings, leaves out omit', () => {
    const input = {
      '{{ name }}': 'key kept',
      dest: '/home/{{ name }}',
      port: '{{ port }}',
      mode: '{{ nope | default(omit) }}',
      list: ['{{ ports }}', 3, null, '{{ omit }}'],
    };
    const out = renderDeep(input, { ...V, omit: OMIT });
    assert.deepEqual(out, { '{{ name }}': 'key kept', dest: '/home/rpi1', port: 22, list: [[22, 80, 443], 3, null] });
    assert.equal(input.dest, '/home/{{ name }}', 'input is not mutated');
  });
});

/** `fn` with a new temporary directory and a writer of files under it (their directories made), removed after. */
function inTempDir(prefix: string, fn: (dir: string, put: (path: string, text: string) => void) => void): void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    fn(dir, (p, text) => {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('template files (.j2)', () => {
  it('always text; a loop over dict2items with trim_blocks, as the template module writes it', () => {
    const text = '# managed\n{% for item in config | dict2items %}\n{{ item.key }} = {{ item.value }}\n{% endfor %}\n';
    assert.equal(renderTemplateText(text, V), '# managed\nb = 2\na = 1\n');
    assert.equal(renderTemplateText('{{ port }}', V), '22');
  });

  it("extends a template of the role's templates/ or the playbook's, as the template module finds it", () => {
    inTempDir('relay-play-extends-', (dir, put) => {
      put('templates/base.j2', '# {% block title %}base{% endblock %}\n{% block body %}{% endblock %}\n');
      put('roles/r/templates/mid.j2', "{% extends 'base.j2' %}{% block body %}port={{ port }}\n{% endblock %}");
      put('roles/r/templates/app.j2', "{% extends 'mid.j2' %}\n{% block title %}{{ super() }} + app{% endblock %}\n");
      const vars = { playbook_dir: dir, role_path: join(dir, 'roles/r'), port: 22 };
      const file = join(dir, 'roles/r/templates/app.j2');
      // trim_blocks: the newline after each endblock goes (ansible-playbook writes the same).
      assert.equal(renderTemplateText(readFileSync(file, 'utf8'), vars, file), '# base + appport=22\n');
    });
  });
});

describe('templateRootNames (pre-flight)', () => {
  it('names a template needs, without those a loop or set binds or default/defined guards', () => {
    assert.deepEqual(
      templateRootNames(
        '{{ a }} {{ b.c | default(d) }} {% for x in e if x.y %}{{ x }}{{ loop.index }}{{ f }}{% endfor %}{% set g = 1 %}{{ g }}',
      ),
      ['a', 'd', 'e', 'f'],
    );
    assert.deepEqual(templateRootNames('{% if h is defined %}{{ h }}{% endif %}{{ i if i is defined else 1 }}'), ['h']);
    assert.deepEqual(templateRootNames('plain text'), []);
  });
});

describe('Python regular expressions', () => {
  it('what JavaScript cannot match the same way is refused with a reason, bad patterns are errors', () => {
    const refused = (p: string, why: RegExp) =>
      assert.throws(() => renderString(`{{ "x" | regex_search('${p}') }}`, V), why);
    refused('(?i:x)', /flags for part of a pattern, as in \(\?i:\.\.\.\), are not supported/);
    refused('(?>x)', /atomic groups/);
    refused('x++', /possessive quantifiers/);
    refused('(x)?(?(1)a|b)', /conditional groups/);
    refused('\\N{DIGIT ONE}', /named Unicode escapes/);
    refused('\\q', /invalid pattern "\\\\q": bad escape \\q/);
    refused('a(?i)', /global flags not at the start/);
    refused('(a', /missing \), unterminated subpattern/);
    refused('*a', /nothing to repeat/);
  });
});

describe('lookups run on the controller', () => {
  it('an unknown lookup is refused when the template is read', () => {
    templateError(() => templateRootNames('{{ lookup("unvault", "x") }}'), /unknown lookup "unvault"/, 1, 11);
    templateError(() => templateRootNames('{{ query("nope") }}'), /unknown lookup "nope"/);
  });

  it('url: options as Ansible names them; what it cannot do is refused, an unknown scheme fails as urllib', () => {
    templateError(
      () => renderString('{{ lookup("url", "http://198.18.0.1/", nope=1) }}', V),
      /Requested option nope was not defined in configuration/,
    );
    templateError(
      () => renderString('{{ lookup("url", "http://198.18.0.1/", unix_socket="/s") }}', V),
      /option "unix_socket" is not supported/,
    );
    templateError(
      () => renderString('{{ lookup("url", "ftp://198.18.0.1/x") }}', V),
      /Failed lookup url for ftp:\/\/198\.18\.0\.1\/x : <urlopen error unknown url type: ftp>/,
    );
    assert.equal(renderString('{{ lookup("url", "ftp://198.18.0.1/x", errors="ignore") is none }}', V), true);
  });

  it('password: a new one is stored (0600) and the same comes back; /dev/null stores nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-pw-'));
    try {
      const vars = { playbook_dir: dir };
      const first = renderString('{{ lookup("password", "creds/db length=16 chars=ascii_letters,digits") }}', vars);
      assert.match(String(first), /^[A-Za-z0-9]{16}$/);
      assert.equal(readFileSync(join(dir, 'creds/db'), 'utf8'), `${String(first)}\n`);
      assert.equal(statSync(join(dir, 'creds/db')).mode & 0o777, 0o600);
      assert.equal(renderString('{{ lookup("password", "creds/db length=16") }}', vars), first);
      const hashed = String(renderString('{{ lookup("password", "creds/db encrypt=sha512_crypt") }}', vars));
      const salt = /^\$6\$([./A-Za-z0-9]{16})\$/.exec(hashed)?.[1];
      assert.ok(salt, hashed);
      assert.equal(readFileSync(join(dir, 'creds/db'), 'utf8'), `${String(first)} salt=${salt}\n`);
      assert.equal(renderString('{{ lookup("password", "creds/db encrypt=sha512_crypt") }}', vars), hashed);
      assert.notEqual(
        renderString('{{ lookup("password", "/dev/null") }}', vars),
        renderString('{{ lookup("password", "/dev/null") }}', vars),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('file, template and first_found look in the role, then the playbook, files/ or templates/ first', () => {
    inTempDir('relay-play-lookup-', (dir, put) => {
      put('files/a.txt', 'playbook files/');
      put('a.txt', 'playbook');
      put('b.txt', 'playbook b');
      put('roles/r/files/a.txt', 'role files/');
      put('roles/r/templates/t.j2', '{{ who }} in role');
      const play = { playbook_dir: dir, role_path: '', who: 'me' };
      const role = { ...play, role_path: join(dir, 'roles/r') };
      assert.equal(renderString('{{ lookup("file", "a.txt") }}', play), 'playbook files/');
      assert.equal(renderString('{{ lookup("file", "a.txt") }}', role), 'role files/');
      assert.equal(renderString('{{ lookup("file", "b.txt") }}', role), 'playbook b');
      assert.equal(renderString('{{ lookup("template", "t.j2") }}', role), 'me in role');
      assert.equal(renderString('{{ lookup("first_found", ["nope", "b.txt"]) }}', role), join(dir, 'b.txt'));
      templateError(
        () => renderString('{{ lookup("file", "nope.txt") }}', role),
        /could not locate file in lookup: nope.txt/,
      );
      assert.equal(renderString('{{ lookup("pipe", "pwd") }}', play), dir);
    });
  });
});
