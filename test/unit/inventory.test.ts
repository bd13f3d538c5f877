import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/engine/util/errors.js';
import {
  loadInventory,
  parseInventory,
  matchHosts,
  selectHosts,
  type Inventory,
} from '../../src/engine/inventory/index.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/inventory/basic.yaml', import.meta.url));

const inv = (lines: string[]) => parseInventory(lines.join('\n') + '\n', 'inv.yaml');

/** Asserts fn throws an InputError at inv.yaml:line (and col, if given); returns it. */
function throwsAt(fn: () => unknown, line: number, col?: number, message?: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InputError, `expected InputError, got ${String(caught)}`);
  const err = caught as InputError;
  assert.equal(err.pos?.file, 'inv.yaml', err.format());
  assert.equal(err.pos?.line, line, err.format());
  if (col !== undefined) assert.equal(err.pos?.col, col, err.format());
  if (message) assert.match(err.message, message);
  assert.ok(err.hint, 'every input error carries a hint');
  return err;
}

describe('inventory: fixture basic.yaml', () => {
  const i = loadInventory(FIXTURE);

  it('lists hosts in definition order', () => {
    assert.deepEqual([...i.hosts.keys()], ['bastion', 'spare', 'rpi1', 'rpi2', 'jetson1', '10.0.0.7']);
  });

  it('resolves children and lists every group', () => {
    assert.deepEqual([...i.groups.keys()], ['all', 'ungrouped', 'devices', 'rpi', 'jetson', 'prod', 'lab']);
    assert.deepEqual(i.groups.get('all'), ['bastion', 'spare', 'rpi1', 'rpi2', 'jetson1', '10.0.0.7']);
    assert.deepEqual(i.groups.get('devices'), ['rpi1', 'rpi2', 'jetson1']);
    assert.deepEqual(i.groups.get('rpi'), ['rpi1', 'rpi2']);
    assert.deepEqual(i.groups.get('prod'), ['bastion', 'rpi1']);
    assert.deepEqual(i.groups.get('lab'), ['10.0.0.7']);
  });

  it('puts hosts that are in no other group into ungrouped', () => {
    assert.deepEqual(i.groups.get('ungrouped'), ['spare']);
    assert.deepEqual(i.hosts.get('spare')!.groups, ['all', 'ungrouped']);
    assert.ok(!i.hosts.get('bastion')!.groups.includes('ungrouped'));
  });

  it('gives each host all its groups, including ancestors', () => {
    assert.deepEqual(i.hosts.get('rpi1')!.groups, ['all', 'devices', 'rpi', 'prod']);
    assert.deepEqual(i.hosts.get('jetson1')!.groups, ['all', 'devices', 'jetson']);
    assert.deepEqual(i.hosts.get('10.0.0.7')!.groups, ['all', 'lab']);
  });

  it('applies variable precedence host > child > parent > all', () => {
    assert.equal(i.hosts.get('rpi1')!.vars.tunnel_port, 2401); // host
    assert.equal(i.hosts.get('rpi2')!.vars.tunnel_port, 2400); // rpi (child)
    assert.equal(i.hosts.get('jetson1')!.vars.tunnel_port, 2300); // devices (parent)
    assert.equal(i.hosts.get('bastion')!.vars.tunnel_port, 2200); // all
    assert.equal(i.hosts.get('rpi2')!.vars.role, 'device');
    assert.equal(i.hosts.get('rpi2')!.vars.relay_user, 'relay');
    assert.equal(i.hosts.get('bastion')!.vars.ssh_port, 2222); // second definition of bastion
    assert.equal(i.hosts.get('bastion')!.vars.ansible_host, '203.0.113.10'); // first definition kept
  });

  it("keeps each group's own vars", () => {
    assert.deepEqual(i.groupVars.get('rpi'), { tunnel_port: 2400 });
    assert.deepEqual(i.groupVars.get('all'), { relay_user: 'relay', tunnel_port: 2200, ssh_port: 22 });
    assert.deepEqual(i.groupVars.get('jetson'), {});
  });

  it('knows where each host is first defined', () => {
    assert.deepEqual(i.hostPos('rpi1'), { file: FIXTURE, line: 21, col: 13 });
    assert.deepEqual(i.hostPos('bastion'), { file: FIXTURE, line: 8, col: 5 });
  });

  it('reports a missing file as an InputError', () => {
    assert.throws(
      () => loadInventory(FIXTURE + '.missing'),
      (e: unknown) => e instanceof InputError && /cannot read/.test(e.message),
    );
  });
});

describe('inventory: variable precedence', () => {
  it('merges groups at the same depth alphabetically (later wins), not in definition order', () => {
    const i = inv([
      'zeta:', //
      '  vars: {x: zeta, only_zeta: 1}',
      '  hosts: {h1: }',
      'alpha:',
      '  vars: {x: alpha, y: alpha}',
      '  hosts: {h1: }',
      'beta:',
      '  vars: {y: beta}',
      '  hosts: {h1: }',
    ]);
    const v = i.hosts.get('h1')!.vars;
    assert.equal(v.x, 'zeta');
    assert.equal(v.y, 'beta');
    assert.equal(v.only_zeta, 1);
  });

  it('lets a deeper group win over a shallower one whatever the names', () => {
    const i = inv([
      'all:',
      '  vars: {x: all}',
      '  children:',
      '    zzz:',
      '      vars: {x: zzz}',
      '      hosts: {h1: }',
      '    parent:',
      '      vars: {x: parent}',
      '      children:',
      '        aaa:',
      '          vars: {x: aaa}',
      '          hosts: {h1: }',
    ]);
    assert.equal(i.hosts.get('h1')!.vars.x, 'aaa');
  });

  it('merges a host defined twice, later definition wins, values replaced whole (no deep merge)', () => {
    const i = inv([
      'all:',
      '  hosts:',
      '    h1:',
      '      x: 1',
      '      cfg: {a: 1, b: 2}',
      '  children:',
      '    web:',
      '      hosts:',
      '        h1:',
      '          cfg: {a: 9}',
      '          y: 2',
    ]);
    assert.deepEqual(i.hosts.get('h1')!.vars, { x: 1, cfg: { a: 9 }, y: 2 });
    assert.deepEqual(i.hostPos('h1'), { file: 'inv.yaml', line: 3, col: 5 });
  });

  it('host vars beat every group var, and a group defined twice merges its vars', () => {
    const i = inv([
      'all:',
      '  children:',
      '    a:',
      '      vars: {x: a1, y: a1}',
      '      children:',
      '        b:',
      '          hosts:',
      '            h1: {x: host}',
      '    b:',
      '      vars: {y: b}',
      '      hosts: {h2: }',
    ]);
    assert.equal(i.hosts.get('h1')!.vars.x, 'host');
    assert.equal(i.hosts.get('h1')!.vars.y, 'b');
    assert.deepEqual(i.groups.get('b'), ['h1', 'h2']);
    assert.deepEqual(i.groups.get('a'), ['h1', 'h2']);
    assert.deepEqual(i.hosts.get('h2')!.groups, ['all', 'a', 'b']);
  });

  it('keeps an explicit ungrouped group only for hosts in no other group', () => {
    const i = inv(['ungrouped:', '  vars: {u: 1}', '  hosts: {u1: , w1: }', 'web:', '  hosts: {w1: }']);
    assert.deepEqual(i.groups.get('ungrouped'), ['u1']);
    assert.deepEqual(i.hosts.get('w1')!.groups, ['all', 'web']);
    assert.equal(i.hosts.get('u1')!.vars.u, 1);
    assert.equal(i.hosts.get('w1')!.vars.u, undefined);
  });

  it('makes other top-level groups children of all, and accepts null groups/hosts', () => {
    const i = inv(['web:', '  hosts:', '    w1:', 'empty:', 'db:', '  hosts:']);
    assert.deepEqual(i.groups.get('all'), ['w1']);
    assert.deepEqual(i.groups.get('empty'), []);
    assert.deepEqual(i.groups.get('db'), []);
    assert.deepEqual(i.hosts.get('w1')!.groups, ['all', 'web']);
  });
});

describe('inventory: errors point at the YAML', () => {
  it('wrong type: hosts given as a list', () => {
    throwsAt(
      () => inv(['all:', '  hosts:', '    - rpi1', '    - rpi2']),
      3,
      5,
      /"all\.hosts" must be a map of host names/,
    );
  });

  it('wrong type: host vars given as a scalar', () => {
    throwsAt(() => inv(['all:', '  hosts:', '    rpi1: 10.0.0.5']), 3, 11, /host vars must be a map/);
    throwsAt(() => inv(['all:', '  vars: [1, 2]']), 2, 9, /must be a map of variables/);
    throwsAt(() => inv(['all:', '  children:', '    web: 3']), 3, 10, /group "web" must be a map/);
  });

  it('unknown key in a group', () => {
    const e = throwsAt(
      () => inv(['all:', '  children:', '    web:', '      host:', '        w1:']),
      4,
      7,
      /unknown key "host"/,
    );
    assert.match(e.hint!, /"hosts:", "vars:", "children:"/);
  });

  it('host/vars/children at the top level', () => {
    throwsAt(() => inv(['hosts:', '  rpi1:']), 1, 1, /top level/);
  });

  it('host name with shell metacharacters', () => {
    const e = throwsAt(
      () => inv(['all:', '  children:', '    web:', '      hosts:', '        ok1:', '        "rpi1; rm -rf /":']),
      6,
      9,
    );
    assert.match(e.message, /invalid host name "rpi1; rm -rf \/"/);
  });

  it('host names may start with a digit, group names may not', () => {
    assert.ok(inv(['all:', '  hosts:', '    192.168.1.2:']).hosts.has('192.168.1.2'));
    throwsAt(() => inv(['all:', '  children:', '    1web:']), 3, 5, /invalid group name/);
    throwsAt(() => inv(['all:', '  hosts:', '    -rf:']), 3, 5, /invalid host name/);
    throwsAt(() => inv(['all:', '  hosts:', '    "h$(id)":']), 3, 5, /invalid host name/);
  });

  it('bad group name with spaces', () => {
    throwsAt(
      () => inv(['all:', '  children:', '    "my group":', '      hosts: {a: }']),
      3,
      5,
      /invalid group name "my group"/,
    );
  });

  it('bad variable name', () => {
    throwsAt(() => inv(['all:', '  vars:', '    ok: 1', '    "bad-name": 2']), 4, 5, /invalid variable name/);
    throwsAt(() => inv(['all:', '  hosts:', '    h1:', '      __proto__: {x: 1}']), 4, 7, /invalid variable name/);
  });

  it('group that is its own ancestor', () => {
    const e = throwsAt(
      () =>
        inv([
          'all:',
          '  children:',
          '    a:',
          '      children:',
          '        b:',
          '          children:',
          '            a:',
        ]),
      7,
      13,
      /group "a" is its own ancestor \(a → b → a\)/,
    );
    assert.match(e.hint!, /remove "a" from the children of "b"/);
    throwsAt(() => inv(['a:', '  children:', '    a:']), 3, 5, /its own ancestor/);
    throwsAt(() => inv(['a:', '  children:', '    b:', 'b:', '  children:', '    a:']), 6, 5, /its own ancestor/);
    throwsAt(() => inv(['a:', '  children:', '    all:']), 3, 5, /"all" cannot be a child/);
  });

  it('name used for both a host and a group', () => {
    throwsAt(() => inv(['all:', '  hosts:', '    web:', '  children:', '    web:']), 3, 5, /both a host and a group/);
  });

  it('YAML syntax error line', () => {
    throwsAt(() => inv(['all:', '  hosts:', '    rpi1: {a: 1', '    rpi2:']), 4, undefined, /YAML syntax error/);
  });

  it('duplicate key', () => {
    // the yaml library reports it at the first key's pair
    throwsAt(
      () => inv(['all:', '  hosts:', '    rpi1:', '    rpi1:']),
      3,
      undefined,
      /YAML syntax error: Map keys must be unique/,
    );
  });

  it('empty inventory', () => {
    throwsAt(() => inv(['# nothing']), 1, 1, /empty/);
  });

  it('top level must be a map', () => {
    throwsAt(() => inv(['- all']), 1, 1);
  });
});

describe('selectHosts', () => {
  const i: Inventory = loadInventory(FIXTURE);
  const sel = (p: string) => selectHosts(i, p);

  it('all and *', () => {
    assert.deepEqual(sel('all'), ['bastion', 'spare', 'rpi1', 'rpi2', 'jetson1', '10.0.0.7']);
    assert.deepEqual(sel('*'), sel('all'));
  });

  it('group and host names', () => {
    assert.deepEqual(sel('rpi'), ['rpi1', 'rpi2']);
    assert.deepEqual(sel('devices'), ['rpi1', 'rpi2', 'jetson1']);
    assert.deepEqual(sel('rpi2'), ['rpi2']);
    assert.deepEqual(sel('10.0.0.7'), ['10.0.0.7']);
    assert.deepEqual(sel('ungrouped'), ['spare']);
  });

  it('union with : and , in inventory order, no duplicates', () => {
    assert.deepEqual(sel('jetson:bastion'), ['bastion', 'jetson1']);
    assert.deepEqual(sel('jetson,bastion,rpi1'), ['bastion', 'rpi1', 'jetson1']);
    assert.deepEqual(sel('rpi:prod'), ['bastion', 'rpi1', 'rpi2']);
    assert.deepEqual(sel(' rpi , jetson '), ['rpi1', 'rpi2', 'jetson1']);
  });

  it('intersection :&', () => {
    assert.deepEqual(sel('devices:&prod'), ['rpi1']);
    assert.deepEqual(sel('rpi:jetson:&prod'), ['rpi1']);
    assert.deepEqual(sel('&prod'), ['bastion', 'rpi1']); // only &-terms start from all
  });

  it('exclusion :!', () => {
    assert.deepEqual(sel('devices:!rpi1'), ['rpi2', 'jetson1']);
    assert.deepEqual(sel('all:!devices:!lab'), ['bastion', 'spare']);
    assert.deepEqual(sel('!devices'), ['bastion', 'spare', '10.0.0.7']);
    assert.deepEqual(sel('all:!prod:&devices'), ['rpi2', 'jetson1']); // & applied before ! whatever the order
  });

  it('globs over host and group names', () => {
    assert.deepEqual(sel('rpi*'), ['rpi1', 'rpi2']);
    assert.deepEqual(sel('*1'), ['rpi1', 'jetson1']);
    assert.deepEqual(sel('jet*'), ['jetson1']); // group jetson and host jetson1
    assert.deepEqual(sel('10.0.0.?'), ['10.0.0.7']); // "." is literal
    assert.deepEqual(sel('10x0*'), []);
    assert.deepEqual(sel('nomatch*'), []);
  });

  it('unknown name → InputError at `where`, listing the groups', () => {
    const where = { file: 'play.yaml', line: 3, col: 10 };
    let err: unknown;
    try {
      selectHosts(i, 'rpi:webservers', where);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof InputError);
    assert.equal(err.message, `no host or group named "webservers" in inventory ${FIXTURE}`);
    assert.deepEqual(err.pos, where);
    assert.match(err.hint!, /groups: all, ungrouped, devices, rpi, jetson, prod, lab/);
    assert.ok(err.format().startsWith('error: play.yaml:3:10: no host or group named "webservers"'));
  });

  it('unknown names in & and ! terms are errors too; without `where` there is no position', () => {
    assert.throws(() => sel('all:&nope'), /no host or group named "nope"/);
    assert.throws(
      () => sel('all:!nope'),
      (e: unknown) => e instanceof InputError && e.pos === undefined,
    );
  });

  it('matchHosts: names that match nothing are returned beside the hosts, not thrown', () => {
    assert.deepEqual(matchHosts(i, 'rpi:webservers:!nope'), {
      hosts: selectHosts(i, 'rpi'),
      unmatched: ['webservers', 'nope'],
    });
    assert.deepEqual(matchHosts(i, 'nomatch*').unmatched, []);
    assert.throws(() => matchHosts(i, 'rpi;reboot'), /invalid host pattern/);
  });

  it('invalid or empty patterns', () => {
    assert.throws(() => sel('rpi;reboot'), /invalid host pattern/);
    assert.throws(() => sel('$(id)'), /invalid host pattern/);
    assert.throws(() => sel(' : '), /empty host pattern/);
  });
});
