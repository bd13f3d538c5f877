// group_vars/ and host_vars/ beside the inventory and the playbook. The expected values are what
// `ansible-inventory -i inv/hosts.yaml --playbook-dir pb --host h1` (ansible-core 2.14) prints for
// the same files.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadInventory } from '../../src/engine/inventory/index.js';
import { InputError } from '../../src/engine/util/errors.js';
import { RunState } from '../../src/engine/runner/state.js';

const INVENTORY = `all:
  vars:
    a_all_inline: inline-all
    b_group_file_vs_child_inline: inline-all
  children:
    web:
      vars:
        b_group_file_vs_child_inline: inline-web
        c_web: inline-web
        d_host: inline-web
      children:
        front:
          vars:
            c_web: inline-front
      hosts:
        h1:
          d_host: inline-h1
          e_hostvars: inline-h1
        h2: {}
`;

const FILES: Record<string, string> = {
  'inv/hosts.yaml': INVENTORY,
  'inv/group_vars/all.yml': 'b_group_file_vs_child_inline: inv-gv-all\nf_all: inv-gv-all\n',
  'inv/group_vars/web/10-a.yml': 'c_web: inv-gv-web-a\ng_dir: a\n',
  'inv/group_vars/web/20-b.yaml': 'g_dir: b\n',
  'inv/group_vars/web/.hidden.yml': 'g_dir: hidden\n',
  'inv/group_vars/web/30-c.yml~': 'g_dir: backup\n',
  'inv/group_vars/web/40.txt': 'g_dir: txt\n',
  // The file without an extension is found first: the .json beside it is never read.
  'inv/host_vars/h1.json': '{"d_host": "inv-hv-h1-json"}\n',
  'inv/host_vars/h1': 'e_hostvars: inv-hv-h1\n',
  'pb/group_vars/all.yml': 'f_all: pb-gv-all\n',
  'pb/group_vars/web.yml': 'c_web: pb-gv-web\n',
  'pb/host_vars/h1.yml': 'e_hostvars: pb-hv-h1\n',
};

describe('inventory: group_vars/ and host_vars/ beside the inventory and the playbook', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'relay-play-vars-dirs-'));
    for (const [name, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('with the playbook directory: as ansible-inventory --playbook-dir', () => {
    const inv = loadInventory(join(dir, 'inv/hosts.yaml'), { playbookDir: join(dir, 'pb') });
    assert.deepEqual(inv.hosts.get('h1')!.vars, {
      a_all_inline: 'inline-all',
      b_group_file_vs_child_inline: 'inv-gv-all',
      c_web: 'pb-gv-web',
      d_host: 'inline-h1',
      e_hostvars: 'pb-hv-h1',
      f_all: 'pb-gv-all',
      g_dir: 'b',
    });
  });

  it('the inventory directory only', () => {
    const inv = loadInventory(join(dir, 'inv/hosts.yaml'));
    assert.deepEqual(inv.hosts.get('h2')!.vars, {
      a_all_inline: 'inline-all',
      b_group_file_vs_child_inline: 'inv-gv-all',
      c_web: 'inv-gv-web-a',
      d_host: 'inline-web',
      f_all: 'inv-gv-all',
      g_dir: 'b',
    });
    assert.equal(inv.hosts.get('h1')!.vars.e_hostvars, 'inv-hv-h1');
  });

  it('a file that is not a mapping: an error naming it', () => {
    const bad = join(dir, 'bad');
    mkdirSync(join(bad, 'group_vars'), { recursive: true });
    writeFileSync(join(bad, 'hosts.yaml'), 'all:\n  hosts:\n    h: {}\n');
    writeFileSync(join(bad, 'group_vars', 'all.yml'), '- a list\n');
    assert.throws(
      () => loadInventory(join(bad, 'hosts.yaml')),
      (e: unknown) => e instanceof InputError && e.message.includes(join(bad, 'group_vars', 'all.yml')),
    );
  });
});

describe('a host add_host makes', () => {
  it('gets its group_vars/ and host_vars/ files, beside the inventory and the playbook, over its add_host vars', () => {
    const d = mkdtempSync(join(tmpdir(), 'relay-play-addhost-'));
    try {
      const put = (path: string, text: string) => {
        mkdirSync(dirname(join(d, path)), { recursive: true });
        writeFileSync(join(d, path), text);
      };
      put('inv.yaml', 'all:\n  vars: {v_all: inv_all}\n  hosts:\n    h1: {}\n');
      put('group_vars/all.yml', 'v_all: gv_all_inv\n');
      put('group_vars/newgrp.yml', 'v_grp: gv_newgrp_inv\nv_order: group\n');
      put('host_vars/newhost.yml', 'v_host: hv_inv\nv_order: hostvars_file\n');
      put('pb/host_vars/newhost.yml', 'v_pbh: hv_pb\n');
      put('pb/group_vars/newgrp.yml', 'v_pbg: gv_pb\n');
      const state = new RunState(loadInventory(join(d, 'inv.yaml'), { playbookDir: join(d, 'pb') }));
      state.addHost('newhost', ['newgrp'], { v_order: 'add_host', v_mine: 'add_host' });
      const v = state.inventory.hosts.get('newhost')!.vars;
      // What ansible-playbook 2.14 printed for the same files: the host_vars file over add_host's vars.
      assert.deepEqual(
        [v.v_all, v.v_grp, v.v_host, v.v_pbh, v.v_pbg, v.v_order, v.v_mine],
        ['gv_all_inv', 'gv_newgrp_inv', 'hv_inv', 'hv_pb', 'gv_pb', 'hostvars_file', 'add_host'],
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
