// Ansible's playbooks write booleans as `yes`/`no` (YAML 1.1): they load as booleans here too, and a
// word that is not one is bad input at its line.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/engine/util/errors.js';
import { loadPlaybook } from '../../src/engine/playbook/load.js';
import { relayApp } from '../../src/relay/app.js';
import { tempDir } from '../integration/util.js';

const load = (text: string) => {
  const file = join(tempDir(), 'play.yaml');
  writeFileSync(file, text);
  return loadPlaybook(file, relayApp);
};

describe('keyword booleans as Ansible writes them', () => {
  it('yes/no/on/off/True/False become booleans', () => {
    const pb = load(`- hosts: all
  become: yes
  gather_facts: no
  tasks:
    - name: a
      command: "true"
      ignore_errors: yes
      no_log: "off"
      become: False
    - name: b
      command: "true"
      run_once: on
`);
    const play = pb.plays[0];
    assert.equal(play.become, true);
    assert.equal(play.gatherFacts, false);
    const [a, b] = play.tasks;
    assert.deepEqual([a.ignoreErrors, a.noLog, a.become], [true, false, false]);
    assert.equal(b.runOnce, true);
  });

  it('become: "no" is false, not a truthy string', () => {
    assert.equal(load('- hosts: all\n  become: "no"\n  tasks: []\n').plays[0].become, false);
  });

  it('a word that is not a boolean is refused at its line', () => {
    assert.throws(
      () => load('- hosts: all\n  tasks:\n    - name: a\n      command: "true"\n      become: maybe\n'),
      (e: InputError) => e instanceof InputError && e.pos?.line === 5,
    );
  });
});
