// The table of test/unit/jinja.test.ts: templates and the results Ansible's documentation gives
// for them (and that ansible-core's own templating gives: the test checks that too where it is installed).
import { PyFloat } from '../../src/engine/util/pyfloat.js';

export const V = {
  port: 22,
  name: 'rpi1',
  on: true,
  nothing: null,
  empty: '',
  ports: [22, 80, 443],
  words: ['b', 'a', 'c', 'a'],
  users: [
    { name: 'alice', uid: 1001, admin: true, groups: ['wheel'] },
    { name: 'bob', uid: 1002, admin: false, groups: [] },
  ],
  config: { b: 2, a: 1 },
  json_text: '{"a": [1, 2], "b": null}',
  path: '/etc/ssh/sshd_config',
  whole: new PyFloat(2), // YAML's `whole: 2.0`
  groups: { all: ['rpi1', 'rpi2', 'web1', 'db1'], ungrouped: ['rpi1', 'rpi2'], web: ['web1'], db: ['db1', 'web1'] },
  // What roles' templates use (the rows after "Templates as roles write them").
  fqdn: 'web01.prod.example.com',
  csv_line: 'a, b ,c,,d',
  ver: '1.2.10',
  mixed: [3, 1, 2],
  deploy_env: 'prod',
  pkgs: { nginx: { state: 'present', version: '1.24' }, curl: { state: 'absent' } },
  ifaces: [
    { name: 'eth0', ipv4: { address: '10.0.0.5', netmask: '255.255.255.0' } },
    { name: 'lo', ipv4: { address: '127.0.0.1' } },
  ],
  kv_item: { key: 'k1', value: 'v1' },
  para: 'Line one\nline two\n\nline four',
  num_s: '42',
  float_s: '3.14',
  neg: -5,
  // Where file lookups look (relative to the directory the tests run in, the repository's).
  ansible_search_path: ['test/unit/fixtures/lookup'],
};

// [template, expected] — the result of renderString with V.
export const TABLE: [string, unknown][] = [
  // ansible-core 2.14's types: `{{ name }}` of a number, boolean or None is that value; any other result is
  // text, read back as a Python literal when it starts with [ or { or is True/False.
  ['{{ port }}', 22],
  ['{{ port + 0 }}', '22'],
  ['{{ not on }}', false],
  ['[{{ port }}, 1]', [22, 1]],
  ['{{ "[1, \'a\']" }}', [1, 'a']],
  ['{{ json_text }}', { a: [1, 2], b: null }], // JSON's true/false/null read as Python's
  ['{{ "True" }}', true],
  ['{{ "[1," }}', '[1,'],
  ['{{ config | to_json }}', '{"b": 2, "a": 1}'],
  ['{{ config | to_json | trim }}', { b: 2, a: 1 }],
  ['{{ ports | string }}', '[22, 80, 443]'],
  ['{{ 2.5 }}', '2.5'],
  // Python's int and float: a float prints as repr() does, whole or not; arithmetic keeps the kinds apart.
  ['{{ 1.0 }}|{{ 3 / 2 }}|{{ 4 / 2 }}|{{ 7 // 2 }}|{{ 7.0 // 2 }}|{{ 5 / 2.5 }}', '1.0|1.5|2.0|3|3.0|2.0'],
  ['{{ 2 ** 0.5 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ -2 ** 2 }}|{{ 2 ** 3 ** 2 }}', '1.4142135623730951|1024|0.5|4|64'],
  ['{{ 7 % 3.0 }}|{{ -7 % 3 }}|{{ 1.5 + 1.5 }}|{{ 0.1 + 0.2 }}|{{ 3 * 1.0 }}', '1.0|2|3.0|0.30000000000000004|3.0'],
  [
    '{{ 1e3 }}|{{ 1e16 }}|{{ 0.0001 }}|{{ 0.00001 }}|{{ 12345678901234567890.0 }}',
    '1000.0|1e+16|0.0001|1e-05|1.2345678901234567e+19',
  ],
  ['{{ 1 / 3 }}|{{ 1e300 * 1e10 }}|{{ "inf" | float }}', '0.3333333333333333|inf|inf'],
  ['{{ 3 | float }}|{{ "2" | float }}|{{ "x" | float }}|{{ 2.7 | int }}|{{ 2.0 | int }}', '3.0|2.0|0.0|2|2'],
  [
    '{{ 3 | round }}|{{ 3.7 | round }}|{{ 2.5 | round }}|{{ 3 | round(1) }}|{{ 3.2 | round(0, "ceil") }}',
    '3|4.0|2.0|3|4.0',
  ],
  ['{{ 10 | log(10) }}|{{ 4 | root }}|{{ 2 | pow(3) }}|{{ "1.5" | float * 2 }}', '1.0|2.0|8.0|3.0'],
  ['{{ [1.0, 2] }}', [new PyFloat(1), 2]],
  ['{{ "[1.0]" }}', [new PyFloat(1)]],
  ["{{ {'a': 1.0} }}", { a: new PyFloat(1) }],
  ['{{ whole }}', new PyFloat(2)],
  ['{{ [whole] }}', [new PyFloat(2)]],
  ['{{ whole }} x|{{ whole + 1 }}|{{ -whole }}|{{ whole | abs }}|{{ whole ~ "" }}', '2.0 x|3.0|-2.0|2.0|2.0'],
  ['{{ whole | string }}', '2.0'],
  ['{{ whole is float }}', true],
  ['{{ whole is integer }}|{{ whole == 2 }}|{{ whole | type_debug }}', 'False|True|float'],
  ['{{ {"a": whole} | to_json }}', '{"a": 2.0}'],
  ['{{ whole | to_nice_json }}', '2.0'],
  ['{{ [1.0, 1e20, 1.5e-7] | to_yaml }}', '[1.0, 1.0e+20, 1.5e-07]\n'],
  ['{{ [whole] | sum }}|{{ [1, 2.5] | sum }}|{{ 0.0 or "x" }}', '2.0|3.5|x'],
  ['{{ "%d %s %.1f" | format(whole, whole, whole) }}|{{ "{}".format(whole) }}', '2 2.0 2.0|2.0'],
  ['{{ [1, 2] * 2 }}', [1, 2, 1, 2]],
  // Macros (defaults, varargs/kwargs, caller), filter blocks, include and import (found as the template
  // module finds them: here under the lookup fixtures' directory).
  ['{% macro m(a, b=a) %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}|{{ m(1, 2) }}|{{ m(b=3, a=4) }}', '11|12|43'],
  ['{% macro m() %}{{ port }}{% endmacro %}{% set port = 1 %}{{ m() }}', '1'],
  ['{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}', "1(2,){'k': 3}"],
  ['{% macro m(a="d") %}[{{ a }}]{% endmacro %}{{ m() }}', '[d]'],
  ['{% macro m() %}<{{ caller() }}>{% endmacro %}{% call m() %}in {{ name }}{% endcall %}', '<in rpi1>'],
  [
    '{% macro list(items) %}{% for i in items %}{{ caller(i) }};{% endfor %}{% endmacro %}{% call(x) list(ports) %}p{{ x }}{% endcall %}',
    'p22;p80;p443;',
  ],
  ['{% filter upper %}abc{{ name }}{% endfilter %}', 'ABCRPI1'],
  ['{% filter replace("a", "b") | upper %}abc{% endfilter %}!', 'BBC!'],
  ['{% macro m() %}[1, 2]{% endmacro %}{{ m() }}', [1, 2]],
  ['{% macro m() %}a{% endmacro %}{{ m }}', "<Macro 'm'>"],
  ['{% macro m() %}a{% endmacro %}{{ m is callable }}', true],
  ['{% for i in [1,2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}', '12'],
  [
    '{% macro m(a) %}{{ a }}{% endmacro %}{{ users | map(attribute="name") | join(",") }} {{ m("x") ~ m("y") }}',
    'alice,bob xy',
  ],
  [
    '{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}',
    '120',
  ],
  ["{% include 'test/unit/fixtures/lookup/templates/part.j2' %}|", 'part 22 nolocal|'],
  ["{% set local = 1 %}{% include 'test/unit/fixtures/lookup/templates/part.j2' %}|", 'part 22 1|'],
  ["{% include 'test/unit/fixtures/lookup/templates/nope.j2' ignore missing %}|", '|'],
  [
    "{% include ['test/unit/fixtures/lookup/templates/nope.j2', 'test/unit/fixtures/lookup/templates/part.j2'] %}|",
    'part 22 nolocal|',
  ],
  ['{% import \'test/unit/fixtures/lookup/templates/macros.j2\' as m %}{{ m.field("a") }} {{ m.answer }}', 'a=- 42'],
  ['{% import \'test/unit/fixtures/lookup/templates/macros.j2\' as m with context %}{{ m.field("a", 1) }}', 'a=122'],
  [
    '{% from \'test/unit/fixtures/lookup/templates/macros.j2\' import field as f, answer %}{{ f("b") }}{{ answer }}',
    'b=-42',
  ],
  // Template inheritance: the parent renders with the child's blocks (super() the one replaced), sees the
  // child's top-level sets; a block that is not `scoped` does not see a loop's variable.
  [
    "{% include 'test/unit/fixtures/lookup/templates/layout-child.j2' %}",
    'before\n<child head + base head rpi1>\nbase bodyCHILD-inner-[no i][no i]1020top=set by the child',
  ],
  [
    "{% include 'test/unit/fixtures/lookup/templates/layout-grand.j2' %}",
    'before\n<grand(child head + base head rpi1, CHILD-inner-)>\nbase bodyCHILD-inner-eacheach1020top=set by the child',
  ],
  ['{% block a %}A{{ name }}{% endblock a %}|{{ self.a() }}', 'Arpi1|Arpi1'],
  ['{% for x in [1] %}{% block b scoped %}{{ x }}{% endblock %}{% endfor %}', '1'],
  // with: values taken where it stands, what is set inside stays inside.
  ['{% with a = 1, b = port %}{{ a + b }}{% endwith %}', '23'],
  ['{% set a = 5 %}{% with a = 1, b = a %}{{ a }}{{ b }}{% endwith %}{{ a }}', '155'],
  ["{% with %}{% set c = 2 %}{{ c }}{% endwith %}{{ c | default('gone') }}", '2gone'],
  // namespace(): what a loop sets on it outlives the loop.
  [
    '{% set ns = namespace(found=false, total=0) %}{% for p in ports %}{% if p > 50 %}{% set ns.found = true %}{% endif %}{% set ns.total = ns.total + p %}{% endfor %}{{ ns.found }} {{ ns.total }}',
    'True 545',
  ],
  [
    "{% set ns = namespace({'a': 1}, b=2) %}{{ ns }} {{ ns | type_debug }} {{ ns.a }}",
    "<Namespace {'a': 1, 'b': 2}> Namespace 1",
  ],
  ["{% set out | upper | replace('A', '4') %}a {{ name }}{% endset %}{{ out }}", '4 RPI1'],
  // inventory_hostnames: the `groups` variable's hosts a pattern matches, each term's in turn.
  [
    '{{ lookup("inventory_hostnames", "all") }}|{{ lookup("inventory_hostnames", "db") }}',
    'rpi1,rpi2,web1,db1|db1,web1',
  ],
  ['{{ query("inventory_hostnames", "web:db") }}', ['web1', 'db1']],
  ['{{ query("inventory_hostnames", "all:!web") }}', ['rpi1', 'rpi2', 'db1']],
  [
    '{{ query("inventory_hostnames", "web:&db") }}|{{ query("inventory_hostnames", "r*") }}',
    "['web1']|['rpi1', 'rpi2']",
  ],
  ['{{ query("inventory_hostnames", "nope") }}|{{ query("inventory_hostnames", "web", "db") }}', "[]|['web1', 'db1']"],
  // config: ansible-core's defaults of the settings relay-play reports.
  [
    '{{ lookup("config", "DEFAULT_BECOME_USER") }}|{{ lookup("config", "HOST_KEY_CHECKING") }}|{{ query("config", "DEFAULT_REMOTE_USER", "DEFAULT_STRATEGY") }}',
    "root|True|[None, 'linear']",
  ],
  ['{{ lookup("config", "DEFAULT_MANAGED_STR", on_missing="skip") }}', 'Ansible managed'],
  // to_yaml / to_nice_yaml fold long lines as Ansible's dumper (libyaml) does: 80 columns, or width=.
  [
    '{{ {"k": (["alpha"] * 20) | join(" ")} | to_yaml }}',
    '{k: alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha alpha\n    alpha alpha alpha alpha alpha alpha alpha}\n',
  ],
  [
    '{{ range(40) | list | to_yaml }}',
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,\n  23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]\n',
  ],
  [
    '{{ {"k": (["beta"] * 12) | join(" ")} | to_nice_yaml(width=40) }}',
    'k: beta beta beta beta beta beta beta beta\n    beta beta beta beta\n',
  ],
  [
    '{{ {"k": ["x" * 30, "y" * 30, "z" * 30]} | to_yaml(width=50) }}',
    'k: [xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx, yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy,\n  zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz]\n',
  ],
  ['{{ \'{"a": 1.0, "b": [2e0, 3, 1.5]}\' | from_json }}', { a: new PyFloat(1), b: [new PyFloat(2), 3, 1.5] }],
  ['{{ "a: 1.0" | from_yaml }}', { a: new PyFloat(1) }],
  // Trailing newlines: Jinja drops one, Ansible puts back as many as the string ended with.
  ['{{ name }}\n', 'rpi1\n'],
  ['{{ port }}\n', 22],
  ['{{ port + 1 }}\n\n', '23\n\n'],
  ['{{ ports }}\n', [22, 80, 443]],
  ['{% if on %}\nx\n{% endif %}\n', 'x\n'],
  ['{{ ports }}', [22, 80, 443]],
  ['{{ on }}', true],
  ['{{ nothing }}', null],
  ['port {{ port }}', 'port 22'],
  [' {{ port }}', ' 22'],
  ['{{ on }} {{ nothing }}|', 'True |'], // None prints as nothing (Ansible's finalize)
  ['{{ ports }}!', '[22, 80, 443]!'],
  ["{{ {'a': 'x'} }}!", "{'a': 'x'}!"],
  ['{{ port }}{{ port }}', '2222'],
  // default / d — docs: "Providing default values"
  ['{{ missing | default(5) }}', '5'],
  ['{{ missing | d("x") }}', 'x'],
  ['{{ nothing | default(5) }}', ''],
  ['{{ empty | default("e", true) }}', 'e'],
  ['{{ empty | default("e") }}', ''],
  ['{{ config.nope | default("deep") }}', 'deep'],
  ['{{ missing | default(other_missing | default(3)) }}', '3'],
  // bool, int, string
  ['{{ "yes" | bool }}', true],
  ['{{ "off" | bool }}', false],
  ['{{ "42" | int + 1 }}', '43'],
  ['{{ "4.7" | int }}', '4'],
  ['{{ "x" | int(7) }}', '7'],
  ['{{ "0x1F" | int(base=16) }}', '31'],
  ['{{ 3 | string }}', '3'],
  ['{{ on | string }}', 'True'],
  // lower, upper, join, length, replace
  ['{{ name | upper }}', 'RPI1'],
  ['{{ "ABC" | lower }}', 'abc'],
  ['{{ ports | join(",") }}', '22,80,443'],
  ['{{ ports | join }}', '2280443'],
  ['{{ users | join(", ", attribute="name") }}', 'alice, bob'],
  ['{{ ports | length }}', '3'],
  ['{{ config | length }}', '2'],
  ['{{ "ünï" | length }}', '3'],
  ['{{ "a-b-c" | replace("-", "+") }}', 'a+b+c'],
  ['{{ "a-b-c" | replace("-", "+", 1) }}', 'a+b-c'],
  // regex_replace — docs: "Searching strings with regular expressions"
  // Backslashes in a playbook string's {{ }} are as written (YAML handled escapes): \1 is a backreference.
  ['{{ "ansible" | regex_replace("^a.*i(.*)$", "a\\1") }}', 'able'],
  ['{{ "foobar" | regex_replace("^f.*o(.*)$", "\\1") }}', 'bar'],
  ['{{ "localhost:80" | regex_replace("^(?P<host>.+):(?P<port>\\d+)$", "\\g<host>, \\g<port>") }}', 'localhost, 80'],
  ['{{ "CAR" | regex_replace("a", "b", ignorecase=True) }}', 'CbR'],
  ['{{ "a1b22" | regex_replace("[0-9]+") }}', 'ab'],
  ['{{ "server1 server2" | regex_search("server[0-9]") }}', 'server1'],
  ['{{ "nothing" | regex_search("x") }}', ''],
  // to_json / from_json, b64
  ['{{ config | to_json }}', '{"b": 2, "a": 1}'],
  ['{{ config | to_json(sort_keys=true) }}', '{"a": 1, "b": 2}'],
  ['{{ config | to_nice_json }}', '{\n    "a": 1,\n    "b": 2\n}'],
  ['{{ json_text | from_json }}', { a: [1, 2], b: null }],
  ['{{ (json_text | from_json).a[1] }}', '2'],
  ['{{ "hello" | b64encode }}', 'aGVsbG8='],
  ['{{ "aGVsbG8=" | b64decode }}', 'hello'],
  // dict2items / items2dict — docs: "Transforming dictionaries into lists"
  [
    '{{ config | dict2items }}',
    [
      { key: 'b', value: 2 },
      { key: 'a', value: 1 },
    ],
  ],
  [
    '{{ config | dict2items(key_name="k", value_name="v") }}',
    [
      { k: 'b', v: 2 },
      { k: 'a', v: 1 },
    ],
  ],
  ['{{ [{"key": "x", "value": 1}] | items2dict }}', { x: 1 }],
  ['{{ [{"fruit": "apple", "color": "red"}] | items2dict(key_name="fruit", value_name="color") }}', { apple: 'red' }],
  // selectattr / map(attribute=) / first / last / unique / sort
  ['{{ users | selectattr("admin") | map(attribute="name") | list }}', ['alice']],
  ['{{ users | selectattr("uid", "equalto", 1002) | map(attribute="name") | first }}', 'bob'],
  ['{{ users | selectattr("uid", ">", 1001) | map(attribute="name") | list }}', ['bob']],
  ['{{ users | rejectattr("admin") | map(attribute="name") | list }}', ['bob']],
  ['{{ users | map(attribute="groups") | flatten }}', ['wheel']],
  ['{{ users | map(attribute="shell", default="/bin/sh") | list }}', ['/bin/sh', '/bin/sh']],
  ['{{ ["a", "b"] | map("upper") | list }}', ['A', 'B']],
  ['{{ ports | first }}', '22'],
  ['{{ ports | last }}', '443'],
  ['{{ words | unique }}', ['b', 'a', 'c']],
  ['{{ words | sort }}', ['a', 'a', 'b', 'c']],
  ['{{ words | sort(reverse=true) | first }}', 'c'],
  ['{{ users | sort(attribute="uid", reverse=true) | map(attribute="name") | first }}', 'bob'],
  ['{{ ports | select("gt", 50) | list }}', [80, 443]],
  ['{{ {"a": 1} | combine({"b": 2}) }}', { a: 1, b: 2 }],
  ['{{ {"a": {"x": 1}} | combine({"a": {"y": 2}}, recursive=true) }}', { a: { x: 1, y: 2 } }],
  ['{{ path | basename }}', 'sshd_config'],
  ['{{ path | dirname }}', '/etc/ssh'],
  ['{{ on | ternary("yes", "no") }}', 'yes'],
  ['{{ "it\'s" | quote }}', `'it'"'"'s'`],
  // tests: defined, undefined, none, match, search
  ['{{ port is defined }}', true],
  ['{{ missing is defined }}', false],
  ['{{ missing is undefined }}', true],
  ['{{ config.nope is not defined }}', true],
  ['{{ nothing is none }}', true],
  ['{{ port is none }}', false],
  ['{{ "http://example.com/users" is match("http://example.com/users/.*/resources") }}', false],
  ['{{ "http://example.com/users/1/resources" is match("http://example.com/users/.*/resources") }}', true],
  ['{{ "users/1/resources" is match("resources") }}', false], // match anchors at the start
  ['{{ "users/1/resources" is search("resources") }}', true],
  ['{{ "ABC" is search("b", ignorecase=true) }}', true],
  ['{{ ports is iterable and config is mapping and name is string and port is number }}', true],
  ['{{ 9 is divisibleby 3 }}', true],
  // operators, conditionals, methods
  ['{{ port + 1 }}', '23'],
  ['{{ "a" ~ port }}', 'a22'],
  ['{{ 7 // 2 }} {{ 7 % 2 }} {{ 2 * 3 }}', '3 1 6'],
  ['{{ "yes" if on else "no" }}', 'yes'],
  ['{{ 80 in ports }}', true],
  ['{{ name.upper() }}', 'RPI1'],
  ['{{ "a,b".split(",") }}', ['a', 'b']],
  ['{{ config.get("zz", 0) }}', '0'],
  ['{{ config.keys() | list | sort }}', ['a', 'b']],
  ['{{ ports[1:] }}', [80, 443]],
  ['{{ range(3) | list }}', [0, 1, 2]],
  ['{{ dict(a=1) }}', { a: 1 }],
  // ---- Jinja's built-in filters (jinja.palletsprojects.com, "List of Builtin Filters")
  ['{{ "%s-%05.1f|%d|%x|%r" | format("a", 2.25, 7, 255, "q") }}', "a-002.2|7|ff|'q'"],
  ['{{ "%(n)s=%(v)03d" | format(n="x", v=5) }}', 'x=005'],
  ['{{ users | attr("name") | default("no attribute") }}', 'no attribute'],
  [
    '{{ [1, 2, 3, 4, 5] | batch(2, "x") | list }}',
    [
      [1, 2],
      [3, 4],
      [5, 'x'],
    ],
  ],
  [
    '{{ [1, 2, 3, 4, 5] | slice(2) | list }}',
    [
      [1, 2, 3],
      [4, 5],
    ],
  ],
  [
    '{{ [1, 2, 3, 4] | slice(3, 0) | list }}',
    [
      [1, 2],
      [3, 0],
      [4, 0],
    ],
  ],
  ['[{{ "hi" | center(8) }}]', '[   hi   ]'],
  [
    '{{ config | dictsort }}',
    [
      ['a', 1],
      ['b', 2],
    ],
  ],
  [
    '{{ config | dictsort(by="value", reverse=true) }}',
    [
      ['b', 2],
      ['a', 1],
    ],
  ],
  ['{{ "<a href=\'x\'>&</a>" | e }}', '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;'],
  ['{{ "<b>" | escape }}{{ "<i>" | forceescape }}', '&lt;b&gt;&lt;i&gt;'],
  ['{{ 1 | filesizeformat }}, {{ 999 | filesizeformat }}, {{ 1234567 | filesizeformat }}', '1 Byte, 999 Bytes, 1.2 MB'],
  ['{{ 1234567 | filesizeformat(true) }}', '1.2 MiB'],
  ['{{ users | groupby("admin") | map("first") | list }}', [false, true]],
  [
    '{{ [{"a": "x", "v": 1}, {"a": "X", "v": 2}, {"a": "y", "v": 3}] | groupby("a") }}',
    [
      [
        'x',
        [
          { a: 'x', v: 1 },
          { a: 'X', v: 2 },
        ],
      ],
      ['y', [{ a: 'y', v: 3 }]],
    ],
  ],
  ['{{ config | pprint }}', { a: 1, b: 2 }], // pprint's text starts with "{": read back as a dict
  ['{{ config | pprint }}!', "{'a': 1, 'b': 2}!"],
  ['{{ "<p>a <b>x</b>\n  y</p>" | striptags }}', 'a x y'],
  ['{{ "hello-world foo(bar) BAZ" | title }}', 'Hello-World Foo(Bar) Baz'],
  ['{{ {"b": [1, "<&>"], "a": "\'"} | tojson }}', { a: "'", b: [1, '<&>'] }],
  ['{{ {"b": 1} | tojson | string }}', '{"b": 1}'],
  ['{{ "hello world foo" | truncate(9) }}', 'hello...'],
  ['{{ "hello world foo" | truncate(9, True) }}', 'hello ...'],
  ['{{ "hello world" | truncate(9, leeway=2) }}', 'hello world'],
  ['{{ "a b/c&ü" | urlencode }}', 'a%20b/c%26%C3%BC'],
  ['{{ {"a": "b c", "d": "/"} | urlencode }}', 'a=b+c&d=%2F'],
  [
    '{{ "see https://example.org now" | urlize }}',
    'see <a href="https://example.org" rel="noopener">https://example.org</a> now',
  ],
  ['{{ "one two, three-four" | wordcount }}', '4'],
  ['{{ "aaa bbb ccc ddd" | wordwrap(7) }}', 'aaa bbb\nccc ddd'],
  ['{{ "abcdefghij" | wordwrap(4) }}', 'abcd\nefgh\nij'],
  ['{{ {"a": 1, "b": none, "c": "<"} | xmlattr }}', ' a="1" c="&lt;"'],
  ['{{ "  xxhixx  " | trim }}|{{ "xxhixx" | trim("x") }}', 'xxhixx|hi'],
  ['{{ ["a", "A", "b"] | unique }}', ['a', 'b']],
  ['{{ ["a", "A", "b"] | unique(case_sensitive=true) }}', ['a', 'A', 'b']],
  ['{{ users | unique(attribute="admin") | map(attribute="name") | list }}', ['alice', 'bob']],
  ['{{ ["b", "A", "c"] | max }}|{{ ["b", "A", "c"] | min }}', 'c|A'],
  ['{{ users | max(attribute="uid") | attr("x") | default("") }}{{ (users | max(attribute="uid")).name }}', 'bob'],
  // Python rounds the exact binary value, halves to even.
  [
    '{{ 2.567 | round(2) }}|{{ 2.675 | round(2) }}|{{ 0.125 | round(2) }}|{{ 0.375 | round(2) }}|{{ 2.11 | round(1, "ceil") }}',
    '2.57|2.67|0.12|0.38|2.2',
  ],
  ['{{ [3, 1, 2] | sum }}|{{ users | sum(attribute="uid") }}', '6|2003'],
  ['{{ "abc" | reverse }}|{{ "abc" | first }}|{{ "abc" | last }}|{{ "abc" | list }}', "cba|a|c|['a', 'b', 'c']"],
  [
    '{{ config | items | list }}',
    [
      ['b', 2],
      ['a', 1],
    ],
  ],
  ['{{ config | items | list }}!', "[('b', 2), ('a', 1)]!"],
  ['{{ "x" | safe }}', 'x'],
  ['{{ -3 | abs }}', '3'],
  ['{{ "1.5" | float }}', '1.5'],
  ['{{ [1, 2] | join("-") | length }}', '3'],
  ['{{ "Hello" | capitalize }}{{ "hello WORLD" | capitalize }}', 'HelloHello world'],
  ['{{ "ab\ncd" | indent(2) }}', 'ab\n  cd'],
  ['{{ "ab\ncd" | indent(2, true) }}', '  ab\n  cd'],
  ['{{ [1, 2, 3] | map("string") | join }}', '123'],
  ['{{ users | map(attribute="groups") | map("length") | list }}', [1, 0]],
  ['{{ ports | select("odd") | list }}|{{ ports | reject("lt", 100) | list }}', '[443]|[443]'],
  ['{{ ports | select("divisibleby", 11) | list }}', [22]],
  ['{{ [0, 1, "", "x", none] | select | list }}', [1, 'x']],
  // ---- Jinja's built-in tests
  ['{{ on is true }}|{{ on is false }}|{{ 1 is true }}|{{ nothing is false }}', 'True|False|False|False'],
  [
    '{{ on is boolean }}|{{ on is number }}|{{ on is integer }}|{{ 1.5 is float }}|{{ 2 is integer }}',
    'True|True|False|True|True',
  ],
  ['{{ "lower" is lower }}|{{ "UP" is upper }}|{{ name is sequence }}|{{ config is sequence }}', 'True|True|True|True'],
  [
    '{{ 3 is odd }}|{{ 4 is even }}|{{ 3 is eq 3 }}|{{ 3 is ne 3 }}|{{ 3 is ge 3 }}|{{ 2 is lt 3 }}',
    'True|True|True|False|True|True',
  ],
  ['{{ 3 is in ports }}|{{ 22 is in ports }}|{{ ports is sameas ports }}', 'False|True|True'],
  [
    '{{ "upper" is filter }}|{{ "defined" is test }}|{{ name is callable }}|{{ name is escaped }}',
    'True|True|False|False',
  ],
  [
    '{{ port is greaterthan 3 }}|{{ port is lessthan 3 }}|{{ ports | select("==", 22) | list }}|{{ ports | select("!=", 22) | list }}',
    'True|False|[22]|[80, 443]',
  ],
  // ---- Ansible's filters (docs: "Using filters to manipulate data")
  ['{{ [1, 2, 3] | intersect([2, 3, 4]) }}', [2, 3]],
  ['{{ [1, 2, 3] | difference([2]) }}', [1, 3]],
  ['{{ [1, 2, 3] | symmetric_difference([2, 3, 4]) }}', [1, 4]],
  ['{{ [1, 2, 2] | union([2, 3]) }}', [1, 2, 3]],
  [
    '{{ [1, 2] | product(["a", "b"]) | list }}',
    [
      [1, 'a'],
      [1, 'b'],
      [2, 'a'],
      [2, 'b'],
    ],
  ],
  [
    '{{ [1, 2, 3] | permutations(2) | list }}',
    [
      [1, 2],
      [1, 3],
      [2, 1],
      [2, 3],
      [3, 1],
      [3, 2],
    ],
  ],
  [
    '{{ [1, 2, 3] | combinations(2) | list }}',
    [
      [1, 2],
      [1, 3],
      [2, 3],
    ],
  ],
  [
    '{{ [1, 2, 3] | zip(["a", "b"]) | list }}',
    [
      [1, 'a'],
      [2, 'b'],
    ],
  ],
  [
    '{{ [1, 2, 3] | zip_longest(["a"], fillvalue="-") | list }}',
    [
      [1, 'a'],
      [2, '-'],
      [3, '-'],
    ],
  ],
  ['{{ [1, [2, [3, [4]]], none, "None"] | flatten }}', [1, 2, 3, 4]],
  ['{{ [1, [2, [3, [4]]]] | flatten(levels=1) }}', [1, 2, [3, [4]]]],
  ['{{ [{"a": 1}, {"b": 2}] | combine }}', { a: 1, b: 2 }],
  ['{{ {"a": [1]} | combine({"a": [2]}, list_merge="append") }}', { a: [1, 2] }],
  ['{{ {"a": [1]} | combine({"a": [2]}, list_merge="prepend") }}', { a: [2, 1] }],
  ['{{ users | subelements("groups") | map("last") | list }}', ['wheel']],
  ['{{ users | subelements("shell", skip_missing=true) }}', []],
  ['{{ users | rekey_on_member("name") | list }}', ['alice', 'bob']],
  ['{{ "a" | extract({"a": 1}) }}|{{ 1 | extract(["x", "y"]) }}|{{ "a" | extract({"a": {"b": 3}}, "b") }}', '1|y|3'],
  [
    '{{ 10 | log }}|{{ 1000 | log(10) > 2.9 }}|{{ 2 | pow(0.5) }}|{{ 2 | root }}|{{ 10 | root(3) }}',
    '2.302585092994046|True|1.4142135623730951|1.4142135623730951|2.154434690031884',
  ],
  [
    '{{ 1024 | human_readable }}|{{ 1536 | human_readable(unit="K") }}|{{ 10 | human_readable(isbits=true) }}',
    '1.00 KB|1.50 KB|10.00 bits',
  ],
  [
    '{{ "1.5K" | human_to_bytes }}|{{ "10 MB" | human_to_bytes }}|{{ 2 | human_to_bytes("G") }}',
    '1536|10485760|2147483648',
  ],
  ['{{ "1Mb" | human_to_bytes(isbits=true) }}', '1048576'],
  ['{{ ["/etc", "ssh", "sshd_config"] | path_join }}|{{ ["a", "/b", "c"] | path_join }}', '/etc/ssh/sshd_config|/b/c'],
  [
    '{{ "/a/b.tar.gz" | splitext }}|{{ ".bashrc" | splitext }}|{{ "a/b" | splitext }}',
    "('/a/b.tar', '.gz')|('.bashrc', '')|('a/b', '')",
  ],
  ['{{ "/a/b/../c" | realpath }}|{{ "/a/b/c" | relpath("/a/d") }}', '/a/c|../b/c'],
  [
    '{{ "C:/x/y.txt" | win_basename }}|{{ "C:/x/y.txt" | win_dirname }}|{{ "C:/x/y.txt" | win_splitdrive }}',
    "y.txt|C:/x|('C:', '/x/y.txt')",
  ],
  [
    '{{ "a b" | regex_escape }}|{{ "a.b*c/d" | regex_escape }}|{{ "^a.b$" | regex_escape("posix_basic") }}',
    'a\\ b|a\\.b\\*c/d|\\^a\\.b\\$',
  ],
  ['{{ "aBc" | md5 }}|{{ "aBc" | sha1 }}', 'dbbbbe4975e026e04a687871f296a2b2|a792075841df16e50563ef4d3aab7424604a505b'],
  ['{{ "abc" | hash("sha256") }}', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  [
    '{{ "secret" | password_hash("sha512", "mysalt") }}',
    '$6$mysalt$UX6P1VKOf6dr0s2pg4pLNvIUB6hLXvP6M5f/Yj9hJgMPdAJ4oArvk5YUD9/XWtk1JOpVwt/JTsczMJr8sFVML1',
  ],
  ['{{ "secret" | password_hash("sha256", "mysalt") }}', '$5$mysalt$I2SNajjJ3Gc5gIR/tkrLOGngF8wqv59buJCqxh.o9s8'],
  ['{{ "secret" | password_hash("md5", "mysalt") }}', '$1$mysalt$n/EfEiV74OYgBdqhKQzSW/'],
  [
    '{{ "secret" | password_hash("sha512", "mysalt", rounds=10000) }}',
    '$6$rounds=10000$mysalt$9XTP7570fxVN/uTspSrH6kRPdR4KKGzGz7.TmJjDYGrKSwZuavW/3YaLur8JX6WP75Czcxa.megIO0lKreY0R.',
  ],
  ['{{ "rpi1" | to_uuid }}', '9ea1bca7-dbbb-5a0b-b4fe-4cd7769744e1'],
  ['{{ "x" | to_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8") }}', '05b16a01-46c6-56dd-bd6e-c6dfb4a1427a'],
  ['{{ "%Y-%m-%d %H:%M:%S" | strftime(0, utc=true) }}', '1970-01-01 00:00:00'],
  ['{{ "%a %b %j %y %%" | strftime(86400 * 40, utc=true) }}', 'Tue Feb 041 70 %'],
  ['{{ "a%20b+c%C3%BC" | urldecode }}', 'a b cü'],
  [
    '{{ "https://u:p@Example.com:8080/p?q=1#f" | urlsplit }}',
    {
      fragment: 'f',
      hostname: 'example.com',
      netloc: 'u:p@Example.com:8080',
      password: 'p',
      path: '/p',
      port: 8080,
      query: 'q=1',
      scheme: 'https',
      username: 'u',
    },
  ],
  ['{{ "https://example.com/p" | urlsplit("hostname") }}', 'example.com'],
  [
    '{{ port | type_debug }}|{{ ports | type_debug }}|{{ nothing | type_debug }}|{{ on | type_debug }}',
    'int|list|NoneType|bool',
  ],
  ['{{ "text" | comment }}', '#\n# text\n#'],
  ['{{ "a\nb" | comment("c") }}', '//\n// a\n// b\n//'],
  ['{{ "text" | comment("xml") }}', '<!--\n -\n - text\n -\n-->'],
  ['{{ "a: 1\n---\nb: 2" | from_yaml_all | list }}', [{ a: 1 }, { b: 2 }]],
  ['{{ "a: [1, 2]" | from_yaml }}', { a: [1, 2] }],
  ['{{ {"b": [1, 2], "a": {"x": "y z"}, "c": "ü"} | to_yaml }}', 'a: {x: y z}\nb: [1, 2]\nc: ü\n'],
  [
    '{{ {"b": [1, 2], "a": {"x": "y: z"}, "c": none, "d": true, "e": "1.5", "f": ""} | to_nice_yaml }}',
    "a:\n    x: 'y: z'\nb:\n- 1\n- 2\nc: null\nd: true\ne: '1.5'\nf: ''\n",
  ],
  ['{{ [{"n": 1, "m": [1]}, "x"] | to_nice_yaml }}', '-   m:\n    - 1\n    n: 1\n- x\n'],
  ['{{ [{"n": 1, "m": [1]}, "x"] | to_nice_yaml(indent=2) }}', '- m:\n  - 1\n  n: 1\n- x\n'],
  ['{{ {"c": "ü", "a": [1, {"b": none}]} | to_json }}', '{"c": "\\u00fc", "a": [1, {"b": null}]}'],
  ['{{ {"c": "ü", "a": []} | to_nice_json }}', '{\n    "a": [],\n    "c": "\\u00fc"\n}'],
  ['{{ {"c": "ü"} | to_json(ensure_ascii=false) }}', '{"c": "ü"}'],
  ['{{ none | ternary("a", "b", "n") }}|{{ 0 | ternary("a", "b") }}', 'n|b'],
  ['{{ ports | random in ports }}', true],
  ['{{ 10 | random(start=5) >= 5 }}', true],
  ['{{ ports | shuffle | sort }}', [22, 80, 443]],
  ['{{ "~/x" | expanduser == "~/x" }}', false],
  ['{{ "Nothing" | quote }}|{{ "" | quote }}|{{ "a b" | quote }}', "Nothing|''|'a b'"],
  ['{{ "ünï" | b64encode | b64decode }}', 'ünï'],
  ['{{ ["x", "y"] | ansible.builtin.union(["z"]) }}', ['x', 'y', 'z']],
  // ---- Ansible's tests (docs: "Tests")
  [
    '{{ [1, 2] is subset([1, 2, 3]) }}|{{ [1, 2] is issubset([1]) }}|{{ [1, 2, 3] is issuperset([3]) }}',
    'True|False|True',
  ],
  ['{{ ports is contains 80 }}|{{ ports is all }}|{{ [0, 1] is any }}|{{ [0, ""] is any }}', 'True|True|True|False'],
  [
    '{{ "2.14.1" is version("2.9", ">") }}|{{ "2.14.1" is version("2.14.1", "eq") }}|{{ "1.0" is version_compare("1.0.1", "<") }}',
    'True|True|True',
  ],
  [
    '{{ "1.2.3-rc.1" is version("1.2.3", "lt", version_type="semver") }}|{{ "1.2b3" is version("1.2", "<", strict=true) }}',
    'True|True',
  ],
  [
    '{{ "1.0rc1" is version("1.0", "<", version_type="pep440") }}|{{ "1.0.post1" is version("1.0", ">", version_type="pep440") }}',
    'True|True',
  ],
  [
    '{{ "/etc" is abs }}|{{ "etc" is is_abs }}|{{ "/etc" is directory }}|{{ "/etc/hostname" is file }}|{{ "/nope" is exists }}',
    'True|False|True|True|False',
  ],
  ['{{ "/" is mount }}|{{ "/etc" is same_file("/etc/") }}|{{ "/etc" is link }}', 'True|True|False'],
  [
    '{{ "https://a.org/x" is url }}|{{ "mailto:x@y" is uri }}|{{ "urn:isbn:0451450523" is urn }}|{{ "x" is url }}',
    'True|True|True|False',
  ],
  ['{{ {"results": [{"changed": true}]} is changed }}|{{ {"unreachable": true} is reachable }}', 'True|False'],
  [
    '{{ {"failed": false} is success }}|{{ {"failed": true} is failure }}|{{ {"skipped": true} is skip }}',
    'True|True|True',
  ],
  ['{{ {"finished": 1} is finished }}|{{ {"started": 0} is started }}', 'True|False'],
  ['{{ port is nan }}|{{ name is vault_encrypted }}', 'False|False'],
  [
    '{{ "abc" is regex("B", ignorecase=true) }}|{{ "a\nb" is match("^b", multiline=true) }}|{{ "a\nb" is search("^b", multiline=true) }}',
    'True|False|True',
  ],
  // ---- Python regular expressions, translated (docs: "Searching strings with regular expressions")
  ['{{ "a\nb\n" | regex_search("b$") }}|{{ "a\nb\n" | regex_search("a$") }}', 'b|'],
  ['{{ "a\nb" | regex_search("^b") }}|{{ "a\nb" | regex_search("^b", multiline=true) }}', '|b'],
  [
    '{{ "a\nb" | regex_search("(?m)^b$") }}|{{ "a\nb" | regex_search("\\Ab") }}|{{ "ab\n" | regex_search("b\\Z") }}',
    'b||',
  ],
  ['{{ "ab" | regex_search("\\Aa") }}|{{ "ab" | regex_search("b\\Z") }}', 'a|b'],
  [
    '{{ "a\nb" | regex_search("a.b") }}|{{ "a\nb" | regex_search("(?s)a.b") }}|{{ "a\tb" | regex_search("a.b") }}',
    '|a\nb|a\tb',
  ],
  ['{{ "AB" | regex_search("(?i)ab") }}|{{ "a b" | regex_search("(?x) a \\  b  # comment") }}', 'AB|a b'],
  ['{{ "key=val" | regex_search("(?P<k>\\w+)=(?P<v>\\w+)", "\\g<v>", "\\1") }}', ['val', 'key']],
  [
    '{{ "abab" | regex_search("(?P<x>ab)(?P=x)") }}|{{ "aaa" | regex_search("a{,2}") }}|{{ "a{1" | regex_search("a{1") }}',
    'abab|aa|a{1',
  ],
  ['{{ "été über" | regex_findall("\\w+") }}|{{ "x٣y" | regex_findall("\\d") }}', "['été', 'über']|['٣']"],
  ['{{ "été" | regex_findall("(?a)\\w+") }}|{{ "a-b c" | regex_findall("\\b\\w") }}', "['t']|['a', 'b', 'c']"],
  [
    '{{ "k1=v1 k2=v2" | regex_findall("(\\w)(\\d)=") }}',
    [
      ['k', '1'],
      ['k', '2'],
    ],
  ],
  [
    '{{ "ab" | regex_findall("(a)|(b)") }}',
    [
      ['a', ''],
      ['', 'b'],
    ],
  ],
  ['{{ "a.b-c" | regex_replace("[.\\-]", "_") }}|{{ "x(y)" | regex_replace("\\(|\\)", "") }}', 'a_b_c|xy'],
  ['{{ "tab\there" | regex_replace("\\t", " ") }}|{{ "a1" | regex_replace("\\x61", "b") }}', 'tab here|b1'],
  ['{{ "one two" | regex_replace("(?P<first>\\w+) (\\w+)", "\\2 \\g<first>") }}', 'two one'],
  ['{{ "line1\nline2" | regex_replace("^", "> ", multiline=true) }}', '> line1\n> line2'],
  ['{{ "a\nb\n" | regex_replace("$", "!") }}', 'a\nb!\n!'],
  [
    '{{ "x" is regex("(?P<n>x)") }}|{{ "ab" is match("(?i)A") }}|{{ "ab" is search("B\\Z", ignorecase=true) }}',
    'True|True|True',
  ],
  // ---- lookups (docs: "Lookup plugins"), run on the controller
  ['{{ lookup("file", "hello.txt") }}', 'hello from a file'],
  ['{{ lookup("file", "hello.txt", rstrip=false) }}', 'hello from a file\n\n'],
  ['{{ lookup("file", "hello.txt", "top.txt") }}', 'hello from a file,top-level'],
  ['{{ query("file", "hello.txt", "top.txt") }}', ['hello from a file', 'top-level']],
  ['{{ lookup("ansible.builtin.file", "files/a.conf") }}', 'a'],
  ['{{ lookup("file", "nope.txt", errors="ignore") }}', ''],
  ['{{ query("file", "nope.txt", errors="ignore") }}', []],
  [
    '{{ lookup("env", "RELAY_PLAY_NO_SUCH_VARIABLE") }}|{{ lookup("env", "RELAY_PLAY_NO_SUCH_VARIABLE", default="d") }}',
    '|d',
  ],
  ['{{ lookup("pipe", "echo one; echo two") }}', 'one\ntwo'],
  ['{{ query("lines", "printf \'a\\nb\\n\'") }}', ['a', 'b']],
  ['{{ lookup("template", "greet.j2") }}', 'port=22\n22 80 443 \n'],
  ['{{ lookup("template", "list.j2") }}', [22, 'rpi1']],
  ['{{ lookup("vars", "name") }}|{{ lookup("vars", "nope", default="x") }}', 'rpi1|x'],
  ['{{ query("vars", "port", "name") }}', [22, 'rpi1']],
  // ini: configparser's reading (`=` or `:`, comments, continued lines, %(name)s), inline or keyword options
  [
    '{{ lookup("ini", "user section=integration file=users.ini") }}|{{ lookup("ini", "pass section=integration file=users.ini") }}',
    'yannig|secret',
  ],
  ['{{ lookup("ini", "home section=integration file=users.ini") }}', '/home/yannig'],
  ['{{ lookup("ini", "multi section=integration file=users.ini") }}', 'first\nsecond line'],
  [
    '{{ lookup("ini", "nope section=integration file=users.ini default=dflt") }}|{{ lookup("ini", "nope section=integration file=users.ini") }}',
    'dflt|',
  ],
  ['{{ lookup("ini", "user.* section=production file=users.ini re=true") }}', 'bob,carol'],
  ['{{ query("ini", "user_\\d section=production file=users.ini re=true") }}', ['carol']],
  [
    '{{ lookup("ini", "KEY section=production file=users.ini") }}|{{ lookup("ini", "Key section=production file=users.ini case_sensitive=true") }}',
    'Mixed|Mixed',
  ],
  ['{{ lookup("ini", "user", "pass", section="integration", file="users.ini") }}', 'yannig,secret'],
  [
    '{{ lookup("ini", "java.version type=properties file=app.properties") }}|{{ lookup("ini", "name", type="properties", file="app.properties") }}',
    '17|relay play',
  ],
  // csvfile: the first row whose first field is the key; TAB-separated unless told
  [
    '{{ lookup("csvfile", "Li file=elements.csv delimiter=,") }}|{{ lookup("csvfile", "Li file=elements.csv delimiter=, col=2") }}',
    'lithium|6.94',
  ],
  ['{{ lookup("csvfile", "Na, x file=elements.csv delimiter=,") }}', 'sodium'],
  [
    '{{ lookup("csvfile", "He file=elements.tsv") }}|{{ lookup("csvfile", "He file=elements.tsv delimiter=TAB col=0") }}',
    'helium|He',
  ],
  ['{{ lookup("csvfile", "Xx file=elements.csv delimiter=, default=none") }}', 'none'],
  ['{{ query("csvfile", "Xx file=elements.csv delimiter=,") }}', []],
  ['{{ lookup("csvfile", "He", file="elements.csv", delimiter=",", col="2") }}', '4.0'],
  ['{{ lookup("items", ports) }}', [22, 80, 443]],
  ['{{ query("items", [1, [2, [3]]]) }}', [1, [2, [3]]]],
  ['{{ query("list", [1, [2]]) }}', [[1, [2]]]],
  [
    '{{ query("indexed_items", ["a", "b"]) }}',
    [
      [0, 'a'],
      [1, 'b'],
    ],
  ],
  ['{{ query("sequence", "start=1 end=5 stride=2") }}', ['1', '3', '5']],
  [
    '{{ query("sequence", "4:host%02d") }}|{{ lookup("sequence", "2-4") }}',
    "['host01', 'host02', 'host03', 'host04']|2,3,4",
  ],
  ['{{ query("sequence", "start=0x0f00 count=3 format=%04x") }}', ['0f00', '0f01', '0f02']],
  ['{{ query("sequence", "start=10 end=1 stride=-3") }}', ['10', '7', '4', '1']],
  [
    '{{ query("dict", config) }}',
    [
      { key: 'b', value: 2 },
      { key: 'a', value: 1 },
    ],
  ],
  [
    '{{ query("together", [1, 2, 3], ["a", "b"]) }}',
    [
      [1, 'a'],
      [2, 'b'],
      [3, null],
    ],
  ],
  [
    '{{ query("nested", [1, 2], ["a", "b"]) }}',
    [
      [1, 'a'],
      [1, 'b'],
      [2, 'a'],
      [2, 'b'],
    ],
  ],
  ['{{ query("subelements", users, "groups") | map("last") | list }}', ['wheel']],
  ['{{ query("subelements", users, "shell", {"skip_missing": True}) }}', []],
  ['{{ lookup("first_found", ["nope.txt", "hello.txt", "top.txt"]) | basename }}', 'hello.txt'],
  ['{{ lookup("first_found", {"files": ["nope", "a.conf"], "paths": ["files"]}) | basename }}', 'a.conf'],
  ['{{ query("first_found", ["nope.txt"], skip=True) }}', []],
  ['{{ query("fileglob", "*.conf") | map("basename") | sort }}', ['a.conf', 'b.conf']],
  ['{{ lookup("password", "test/unit/fixtures/lookup/pw.txt") }}', 'stored-Secret1'],
  [
    '{{ lookup("password", "test/unit/fixtures/lookup/pw.txt encrypt=sha512_crypt") }}',
    '$6$abcdefgh$LYsnJ6NB4uTUFcW69cDSH0XWPVCsxaoy0fwctRQsGEHPm9rxzKzsfDvA2DSCbYa2Va1D1M6YNYDxPS5OtolZa/',
  ],
  ['{{ lookup("password", "/dev/null length=12 chars=digits") | length }}', '12'],
  ['{{ lookup("password", "/dev/null length=30 chars=ascii_lowercase") is match("^[a-z]{30}$") }}', true],
  ['{{ lookup("random_choice", "a", "b") in ["a", "b"] }}', true],
  // ---- Python string methods
  ['{{ "{} and {}".format("a", 1) }}|{{ "{x:>4}|{0:.2f}".format(3.14159, x="y") }}', 'a and 1|   y|3.14'],
  [
    '{{ "a,b,c".rsplit(",", 1) }}|{{ "ab".zfill(4) }}|{{ "x=y=z".partition("=") }}',
    "['a,b', 'c']|00ab|('x', '=', 'y=z')",
  ],
  [
    '{{ "xxhixx".strip("x") }}|{{ "abc".find("c") }}|{{ "aXa".count("a") }}|{{ "42".isdigit() }}|{{ "hello world".title() }}',
    'hi|2|2|True|Hello World',
  ],
  // statements
  ['{% if port > 20 %}big{% else %}small{% endif %}', 'big'],
  ['{% if missing is defined %}a{% elif port == 22 %}b{% endif %}', 'b'],
  ['{% for p in ports %}{{ p }}{% if not loop.last %},{% endif %}{% endfor %}', '22,80,443'],
  ['{% for u in users if u.admin %}{{ loop.index }}:{{ u.name }}{% endfor %}', '1:alice'],
  ['{% for k, v in config.items() %}{{ k }}={{ v }} {% endfor %}', 'b=2 a=1 '],
  ['{% for i in [] %}x{% else %}none{% endfor %}', 'none'],
  ['{% set n = port * 2 %}{{ n }}', '44'],
  ['{% for x in [1, 2] %}{% set y = x %}{% endfor %}{{ y | default("unset") }}', 'unset'], // set in a loop stays there
  ['{% set block %}in {{ name }}{% endset %}[{{ block }}]', '[in rpi1]'],
  ['{# a comment #}x', 'x'],
  ['{% raw %}{{ not rendered }}{% endraw %}', '{{ not rendered }}'],
  // trim_blocks (Ansible's default): the newline after a block tag goes; `-` strips whitespace.
  ['{% if on %}\nyes\n{% endif %}\nend', 'yes\nend'],
  ['a  {%- if on -%}  b  {%- endif %}', 'ab'],
  ['{{ name -}}   !', 'rpi1!'],
  // Python's bool is an int in arithmetic; Ansible's bool filter keeps None.
  [
    "{{ true + 1 }} {{ true * 3 }} {{ 2 - false }} {{ true / 2 }} {{ [true, true, false] | sum }} {{ 'a' * true }}",
    '2 3 2 0.5 2 a',
  ],
  ["{{ (nothing | bool) is none }} {{ 'off' | bool }}", 'True False'],
  // Templates as roles write them: string methods, filters with keyword arguments, tests, slicing, loop.*,
  // whitespace control, raw and comments, namespace(), % and format (each checked against ansible-core).
  [
    "{{ fqdn.split('.')[0] }}|{{ fqdn.split('.', 1)[1] }}|{{ fqdn.split('.')[-2:] | join('.') }}",
    'web01|prod.example.com|example.com',
  ],
  ["{{ csv_line.split(',') | map('trim') | reject('equalto', '') | list }}", ['a', 'b', 'c', 'd']],
  [
    "{{ name.startswith('rpi') }} {{ name.endswith(('1', '2')) }} {{ path.startswith('/etc') and path.endswith('_config') }}",
    'True True True',
  ],
  [
    "{{ '{}:{}'.format(name, port) }} {{ '{0}-{0}'.format(name) }} {{ '{:05d}'.format(port) }} {{ '{:>8}|{:<6}|{:^7}'.format('a', 'b', 'c') }}",
    'rpi1:22 rpi1-rpi1 00022        a|b     |   c   ',
  ],
  [
    "{{ '%s has %d ports' % (name, ports | length) }} {{ '%-6s|%5.2f' % ('ab', 3.14159) }}",
    'rpi1 has 3 ports ab    | 3.14',
  ],
  [
    "{{ config.items() | list }} {{ config.get('a') }} {{ config.get('z', 'dflt') }} {{ config.get('z') }}",
    "[('b', 2), ('a', 1)] 1 dflt ",
  ],
  ['{% for k, v in config.items() | sort %}{{ k }}={{ v }};{% endfor %}', 'a=1;b=2;'],
  [
    '{{ ports[1:] }} {{ ports[:-1] }} {{ ports[::2] }} {{ ports[::-1] }} {{ name[::-1] }} {{ name[1:3] }}',
    '[80, 443] [22, 80] [22, 443] [443, 80, 22] 1ipr pi',
  ],
  [
    "{% for p in ports %}{{ loop.index }}/{{ loop.length }}:{{ p }}{{ ',' if not loop.last }}{% endfor %}",
    '1/3:22,2/3:80,3/3:443',
  ],
  [
    '{% for p in ports %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{% endfor %}',
    '032True121False210False',
  ],
  ["{% for p in ports %}{{ loop.cycle('odd', 'even') }} {% endfor %}", 'odd even odd '],
  [
    '{% for u in users %}{% for g in u.groups %}{{ loop.depth }}{{ loop.depth0 }}{{ g }}{% endfor %}{% endfor %}',
    '10wheel',
  ],
  ['{% for p in ports %}{% if loop.changed(p > 50) %}[{{ p }}]{% endif %}{% endfor %}', '[22][80]'],
  [
    "{% for p in ports %}{{ loop.previtem | default('none') }}>{{ p }}>{{ loop.nextitem | default('none') }} {% endfor %}",
    'none>22>80 22>80>443 80>443>none ',
  ],
  [
    "{{ users | selectattr('admin') | map(attribute='name') | first }} {{ users | rejectattr('admin') | map(attribute='uid') | list }}",
    'alice [1002]',
  ],
  [
    "{{ users | selectattr('uid', 'gt', 1001) | map(attribute='name') | list }} {{ users | selectattr('name', 'in', ['bob', 'x']) | list | length }}",
    "['bob'] 1",
  ],
  [
    "{{ users | map(attribute='groups') | flatten | list }} {{ users | sum(attribute='uid') }} {{ users | map(attribute='uid') | max }}",
    "['wheel'] 2003 1002",
  ],
  ["{{ users | items2dict(key_name='name', value_name='uid') }}", { alice: 1001, bob: 1002 }],
  [
    "{{ pkgs | dict2items | selectattr('value.state', 'equalto', 'present') | map(attribute='key') | list }}",
    ['nginx'],
  ],
  [
    "{{ ifaces | map(attribute='ipv4.address') | list }} {{ ifaces | selectattr('ipv4.netmask', 'defined') | map(attribute='name') | list }}",
    "['10.0.0.5', '127.0.0.1'] ['eth0']",
  ],
  [
    "{{ ports | map('string') | join(',') }} {{ ports | map('int') | sum }} {{ ['1', '2'] | map('int') | list }}",
    '22,80,443 545 [1, 2]',
  ],
  [
    '{{ words | unique | sort | join }} {{ words | sort(reverse=true) | first }} {{ mixed | sort | last }} {{ words | length }}',
    'abc c 3 4',
  ],
  [
    "{{ (ports | min) }} {{ ports | max }} {{ [1, 2, 3] | sum(start=10) }} {{ ports | map('abs') | list }}",
    '22 443 16 [22, 80, 443]',
  ],
  [
    "{{ words | select('match', '^[ab]$') | list }} {{ words | reject('search', 'a') | list }}",
    "['b', 'a', 'a'] ['b', 'c']",
  ],
  [
    "{{ para.splitlines() }} {{ para.splitlines() | length }} {{ para | regex_replace('\\n+', ' ') }}",
    "['Line one', 'line two', '', 'line four'] 4 Line one line two line four",
  ],
  [
    "{{ para.split('\\n') | select | list | length }} {{ para | lower | regex_findall('line \\w+') }}",
    "1 ['line one', 'line two', 'line four']",
  ],
  [
    "{{ ver is version('1.2.9', '>') }} {{ ver is version('1.10', '<') }} {{ ver.split('.') | map('int') | list }}",
    'True True [1, 2, 10]',
  ],
  [
    '{{ num_s | int + 1 }} {{ float_s | float * 2 }} {{ num_s is number }} {{ num_s | int is number }} {{ neg | abs }}',
    '43 6.28 False True 5',
  ],
  [
    "{{ deploy_env == 'prod' | ternary('yes', 'no') }} {{ (deploy_env == 'prod') | ternary('yes', 'no') }}",
    'False yes',
  ],
  [
    "{{ 'a' ~ port ~ 'b' }} {{ name | upper }} {{ name | capitalize }} {{ 'hello world' | title }} {{ name | replace('rpi', 'pi') }}",
    'a22b RPI1 Rpi1 Hello World pi1',
  ],
  [
    "{{ missing | default({}) | combine({'a': 1}) }} {{ config | combine({'a': 5, 'c': 3}) }}",
    "{'a': 1} {'b': 2, 'a': 5, 'c': 3}",
  ],
  [
    "{{ {'a': {'x': 1}} | combine({'a': {'y': 2}}, recursive=true) }} {{ [config, {'z': 0}] | combine }}",
    "{'a': {'x': 1, 'y': 2}} {'b': 2, 'a': 1, 'z': 0}",
  ],
  ["{{ port | string | length }} {{ 'x' * 3 }} {{ [0] * 3 }} {{ ports | length > 2 }}", '2 xxx [0, 0, 0] True'],
  [
    "{{ (port | string).zfill(5) }} {{ name.upper().lower() }} {{ '  x  '.strip() }}|{{ ' x '.lstrip() }}|{{ ' x '.rstrip() }}|",
    '00022 rpi1 x|x | x|',
  ],
  [
    "{{ 'a-b-c'.replace('-', '_') }} {{ 'a,b'.split(',') | list }} {{ 'abc'.find('z') }} {{ 'Hello'.lower().count('l') }}",
    "a_b_c ['a', 'b'] -1 2",
  ],
  [
    "{{ path | basename }} {{ path | dirname }} {{ path | splitext }} {{ 'a/b' | path_join }} {{ ['/etc', 'ssh', 'x'] | path_join }}",
    "sshd_config /etc/ssh ('/etc/ssh/sshd_config', '') a/b /etc/ssh/x",
  ],
  [
    "{{ 'secret' | hash('sha1') }} {{ 'secret' | checksum }} {{ 'hi' | b64encode }} {{ 'aGk=' | b64decode }}",
    'e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4 e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4 aGk= hi',
  ],
  [
    '{{ ports | to_json }} {{ config | to_nice_json(indent=2) }} {{ \'{"a": 1}\' | from_json }}',
    '[22, 80, 443] {\n  "a": 1,\n  "b": 2\n} {\'a\': 1}',
  ],
  ['{{ ports | to_yaml }}{{ config | to_nice_yaml }}', '[22, 80, 443]\na: 1\nb: 2\n'],
  [
    "{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5) | map('pow', 2) | map('int') | list }}",
    '[0, 1, 2] [1, 4, 7] [0, 1, 4, 9, 16]',
  ],
  [
    "{{ ports | zip(['a', 'b', 'c']) | list }} {{ ports | batch(2) | list }} {{ ports | slice(2) | list }}",
    "[(22, 'a'), (80, 'b'), (443, 'c')] [[22, 80], [443]] [[22, 80], [443]]",
  ],
  [
    "{{ dict(a=1, b=2) }} {{ dict([['a', 1]]) if false else 'x' }} {{ {'a': 1}.keys() | list }} {{ {'a': 1}.values() | list }}",
    "{'a': 1, 'b': 2} x ['a'] [1]",
  ],
  [
    "{{ config | dictsort }} {{ config | dictsort(by='value', reverse=true) }}",
    "[('a', 1), ('b', 2)] [('b', 2), ('a', 1)]",
  ],
  [
    "{{ 'abc' in name }} {{ 'rpi' in name }} {{ 22 in ports }} {{ 'a' in config }} {{ 'x' not in words }}",
    'False True True True True',
  ],
  [
    '{{ port is divisibleby 11 }} {{ port is even }} {{ port is odd }} {{ name is lower }} {{ name is string }} {{ ports is iterable }}',
    'True True False True True True',
  ],
  [
    '{{ users[0] is mapping }} {{ ports is sequence }} {{ none is none }} {{ config is not none }} {{ on is boolean }} {{ port is integer }}',
    'True True True True True True',
  ],
  [
    '{{ ports is contains 80 }} {{ [1, 2] is subset([1, 2, 3]) }} {{ ports is all }} {{ [0, 1] is any }}',
    'True True True True',
  ],
  [
    "{{ 'http://x.com/a?b=1' | urlsplit('hostname') }} {{ 'a b&c' | urlencode }} {{ {'a': 'b c', 'd': 1} | urlencode }}",
    'x.com a%20b%26c a=b+c&d=1',
  ],
  [
    "{{ name | regex_search('\\d+') }} {{ 'abc123def' | regex_replace('(\\d+)', '<\\1>') }} {{ fqdn | regex_search('^(\\w+)\\.', '\\1') }}",
    "1 abc<123>def ['web01']",
  ],
  ["{{ 'foo=1;bar=2' | split(';') | map('split', '=') | map('first') | list }}", ['foo', 'bar']],
  [
    "{{ '  padded  ' | trim }} {{ 'abcdef' | truncate(5, true, '...', 0) }} {{ 'x' | center(5) }}|{{ 'word ' * 2 | wordcount }}",
    'padded ab...   x  |word ',
  ],
  [
    "{{ lookup('vars', 'name') }} {{ query('vars', 'name', 'port') }} {{ lookup('items', ports) }} {{ lookup('list', ports) }}",
    "rpi1 ['rpi1', 22] [22, 80, 443] [22, 80, 443]",
  ],
  ['{% raw %}{{ untouched }}{% endraw %} {# comment #}x{#- trimmed -#}  y', '{{ untouched }} xy'],
  ['a\n  {%- if on %}\n  b\n  {%+ endif %}\nc', 'a  b\n  c'],
  ['{% for i in range(3) -%}\n  {{ i }}\n{%- endfor %}', '012'],
  ['{% set x = [] %}{% for i in ports %}{% set x = x + [i] %}{% endfor %}{{ x }}', []],
  [
    '{% set ns = namespace(items=[]) %}{% for i in ports %}{% set ns.items = ns.items + [i * 2] %}{% endfor %}{{ ns.items }}',
    [44, 160, 886],
  ],
  ["{% if port is defined and port > 20 and name is match('rpi') %}ok{% endif %}", 'ok'],
  ["{{ users | map(attribute='name') | map('regex_replace', '^(.)', 'u_\\1') | list }}", ['u_alice', 'u_bob']],
  [
    "{{ ['a', 'b'] | product(['1', '2']) | map('join') | list }} {{ [1, 2, 3] | combinations(2) | list | length }}",
    "['a1', 'a2', 'b1', 'b2'] 3",
  ],
  [
    '{{ ports | difference([80]) }} {{ ports | intersect([80, 8080]) }} {{ ports | union([22, 1]) }} {{ [1, 2] | symmetric_difference([2, 3]) }}',
    '[22, 443] [80] [22, 80, 443, 1] [1, 3]',
  ],
  [
    "{{ 1024 | filesizeformat }} {{ 1048576 | human_readable }} {{ '1K' | human_to_bytes }} {{ 3.7 | round | int }} {{ 10 / 3 | round(2) }}",
    '1.0 kB 1.00 MB 1024 4 3.3333333333333335',
  ],
  ['{{ (10 / 3) | round(2) }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 8 }} {{ -7 // 2 }}', '3.33 3 1 256 -4'],
  [
    "{{ name ~ '-' ~ port if on else 'off' }} {{ 'yes' if nothing else 'no' }} {{ (port > 10) and 'big' or 'small' }}",
    'rpi1-22 no big',
  ],
  [
    "{{ users | selectattr('groups') | list | length }} {{ users | map(attribute='missing', default='d') | list }}",
    "1 ['d', 'd']",
  ],
  [
    "{{ kv_item.key }}={{ kv_item.value }} {{ kv_item['key'] }} {{ ifaces[0].ipv4['address'] }} {{ ifaces[-1].name }}",
    'k1=v1 k1 10.0.0.5 lo',
  ],
  [
    "{{ config.b + config['a'] }} {{ pkgs.nginx.version | default('latest') }} {{ pkgs.curl.version | default('latest') }}",
    '3 1.24 latest',
  ],
  [
    '{{ name | list }} {{ config | list }} {{ ports | join }} {{ name | length }} {{ config | length }}',
    "['r', 'p', 'i', '1'] ['b', 'a'] 2280443 4 2",
  ],
  [
    "{{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ config == {'a': 1, 'b': 2} }} {{ 1 == 1.0 }} {{ '1' == 1 }}",
    'True True True True False',
  ],
  [
    "{{ ports | select('>', 50) | list }} {{ ports | select('lt', 100) | list }} {{ ports | reject('==', 22) | list }}",
    '[80, 443] [22, 80] [80, 443]',
  ],
  [
    "{{ 'ABC' | lower is lower }} {{ name.isalnum() }} {{ 'a1'.isalpha() }} {{ '  '.isspace() }} {{ 'Title Case'.istitle() if false else '' }}",
    'True True False True ',
  ],
  [
    "{{ '%.2f' | format(3.14159) }} {{ '%s=%s' | format('a', 1) }} {{ '%05.1f' | format(2.5) }} {{ '%x %o %e' | format(255, 8, 12345.678) }}",
    '3.14 a=1 002.5 ff 10 1.234568e+04',
  ],
  [
    "{{ \"it's\" | quote }} {{ 'a b' | quote }} {{ 'x' | to_uuid }} {{ '[1, 2]' | from_yaml }} {{ 'a: 1' | from_yaml }}",
    "'it'\"'\"'s' 'a b' 66b2f013-1baa-5313-9c8c-e6f1182e0e90 [1, 2] {'a': 1}",
  ],
  [
    "{{ ports | map('string') | map('regex_replace', '$', '/tcp') | list }} {{ ports | map('quote') | join(' ') }}",
    "['22/tcp', '80/tcp', '443/tcp'] 22 80 443",
  ],
  [
    "{{ {'b': 1, 'a': 2} | dict2items | sort(attribute='key') | items2dict }} {{ users | sort(attribute='uid', reverse=true) | map(attribute='name') | first }}",
    "{'a': 2, 'b': 1} bob",
  ],
  [
    "{{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ ['b', 'A', 'c'] | max }} {{ ['B', 'a'] | unique(case_sensitive=false) }}",
    "['A', 'b', 'c'] ['A', 'b', 'c'] c ['B', 'a']",
  ],
  [
    '{{ [3, [1, [2]]] | flatten }} {{ [3, [1, [2]]] | flatten(levels=1) }} {{ [[1, 2], [3]] | sum(start=[]) }}',
    '[3, 1, 2] [3, 1, [2]] [1, 2, 3]',
  ],
  [
    "{{ 'x' if 'y' in name else 'z' }} {{ not on }} {{ not nothing }} {{ on and not nothing }} {{ port != 22 or name }}",
    'z False True True rpi1',
  ],
  [
    "{{ ((ports | length) * 2) | string + 'x' }} {{ (port | string) + (port | string) }} {{ ports | join(', ') | upper }}",
    '6x 2222 22, 80, 443',
  ],
  ["{{ users | map(attribute='name') | map('upper') | map('truncate', 3, true, '') | list }}", ['ALICE', 'BOB']],
  ['{{ "{{ nested }}" if false else "lit" }} {{ \'{% raw %}\' if false else \'r\' }}', 'lit r'],
  [
    "{{ port | int(default=5) }} {{ 'x' | int(default=5) }} {{ '0x1F' | int(base=16) }} {{ '0b101' | int(0) }} {{ '12' | int(base=8) }}",
    '22 5 31 0 10',
  ],
  [
    "{{ 'a.b.c' | split('.') }} {{ 'abc' | regex_escape }} {{ 'a.c' | regex_escape }} {{ ports | string | b64encode | b64decode }}",
    "['a', 'b', 'c'] abc a\\.c [22, 80, 443]",
  ],
  [
    "{{ config | dict2items(key_name='k', value_name='v') }} {{ [{'k': 'x', 'v': 1}] | items2dict(key_name='k', value_name='v') }}",
    "[{'k': 'b', 'v': 2}, {'k': 'a', 'v': 1}] {'x': 1}",
  ],
  [
    '{{ ports | length is divisibleby(3) }} {{ ports is not string }} {{ (ports | first) is number }} {{ port is gt 10 }} {{ port is ge(22) }}',
    'True True True True True',
  ],
  [
    "{{ users | map('dict2items') | map('length') | list }} {{ users | map(attribute='groups') | map('length') | list }}",
    '[4, 4] [1, 0]',
  ],
  [
    "{{ ports | map('min') | list if false else ports | map('float') | list }}",
    [new PyFloat(22), new PyFloat(80), new PyFloat(443)],
  ],
  [
    "{{ name.split() }} {{ ' a  b '.split() }} {{ 'a  b'.split(' ') }} {{ 'a,b,,c'.split(',', 2) }} {{ 'k=v=w'.rpartition('=') if false else 'k=v=w'.partition('=') }}",
    "['rpi1'] ['a', 'b'] ['a', '', 'b'] ['a', 'b', ',c'] ('k', '=', 'v=w')",
  ],
  [
    "{{ '%s' % port }} {{ '%s' % (ports,) }} {{ '%(a)s-%(b)s' % {'a': 1, 'b': 2} }} {{ 'x%%y' % () }}",
    '22 [22, 80, 443] 1-2 x%y',
  ],
  [
    "{{ '{:,}'.format(1234567) }} {{ '{:.1%}'.format(0.256) }} {{ '{:x}'.format(255) }} {{ '{!r}'.format('a') }} {{ '{a[0]}'.format(a=ports) }}\n",
    "1,234,567 25.6% ff 'a' 22\n",
  ],
];

// YAML's dates, as PyYAML reads them (a date, a datetime), through templates: [template, expected].
export const DATE_VARS = `
d: 2001-12-14
later: 2002-12-14
ts: 2001-12-14t21:59:43.10-05:00
spaced: 2001-12-14 21:59:43.10 -5
naive: 2001-12-14 21:59:43.10
utc: 2001-12-15T02:59:43.1Z
whole: 2001-12-14 21:59:43
india: 2001-12-14 21:59:43.10 +5:30
zero: 2001-12-14 21:59:00 +00:00
listed: [2001-12-14, x]
nested: {when: 2001-12-14, n: 1}
quoted: "2001-12-14"
short: 2001-1-4
`;
export const DATE_TABLE: [string, unknown][] = [
  ['{{ d }}', '2001-12-14'],
  ['{{ listed }}', "[datetime.date(2001, 12, 14), 'x']"],
  ['{{ nested }}', "{'when': datetime.date(2001, 12, 14), 'n': 1}"],
  ['{{ [d] | length }}|{{ nested.when }}|{{ short }}', '1|2001-12-14|2001-1-4'],
  ['{{ d | type_debug }} {{ ts | type_debug }} {{ short is string }}', 'date datetime True'],
  [
    '{{ ts }}|{{ spaced }}|{{ naive }}|{{ utc }}|{{ whole }}|{{ india }}',
    '2001-12-14 21:59:43.100000-05:00|2001-12-14 21:59:43.100000-05:00|2001-12-14 21:59:43.100000|2001-12-15 02:59:43.100000+00:00|2001-12-14 21:59:43|2001-12-14 21:59:43.100000+05:30',
  ],
  [
    '{{ [ts, utc, india, naive, whole, zero] }}',
    '[datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400))), datetime.datetime(2001, 12, 15, 2, 59, 43, 100000, tzinfo=datetime.timezone.utc), datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800))), datetime.datetime(2001, 12, 14, 21, 59, 43, 100000), datetime.datetime(2001, 12, 14, 21, 59, 43), datetime.datetime(2001, 12, 14, 21, 59, tzinfo=datetime.timezone.utc)]',
  ],
  [
    '{{ d == quoted }} {{ d < later }} {{ d | string == quoted }} {{ ts == utc }} {{ ts < utc }} {{ naive == ts }} {{ d == naive }} {{ d > later }}',
    'False True True True False False False False',
  ],
  [
    '{{ d | to_json }} {{ ts | to_json }} {{ listed | to_json }} {{ nested | to_json }}',
    '"2001-12-14" "2001-12-14T21:59:43.100000-05:00" ["2001-12-14", "x"] {"when": "2001-12-14", "n": 1}',
  ],
  [
    '{{ d | to_yaml }}|{{ ts | to_yaml }}|{{ listed | to_yaml }}|{{ nested | to_nice_yaml }}',
    '2001-12-14\n|2001-12-14 21:59:43.100000-05:00\n|[2001-12-14, x]\n|n: 1\nwhen: 2001-12-14\n',
  ],
  [
    '{{ d.year }} {{ d.month }} {{ d.day }} {{ ts.hour }} {{ ts.minute }} {{ ts.microsecond }}',
    '2001 12 14 21 59 100000',
  ],
  [
    "{{ ts.isoformat() }} {{ naive.isoformat(' ') }} {{ d.isoformat() }} {{ d.strftime('%d/%m/%Y') }} {{ ts.strftime('%H:%M') }}",
    '2001-12-14T21:59:43.100000-05:00 2001-12-14 21:59:43.100000 2001-12-14 14/12/2001 21:59',
  ],
  [
    '{{ [later, d] | sort | first }} {{ [d, d] | unique | length }} {{ d in [later, d] }} {{ [later, d] | max }}',
    '2001-12-14 1 True 2002-12-14',
  ],
  [
    '{{ d is string }} {{ d is number }} {{ d is mapping }} {{ d is iterable }} {{ d | bool }}',
    'False False False False False',
  ],
];
