// Validators compiled at build time: every schema has one, and each answers exactly as ajv
// compiling the same schema at run time would (same verdicts, same errors).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { allSchemas } from '../../src/cli/schemas.js';
import { precompiled } from '../../src/engine/schema/precompiled.js';
import { AJV_OPTIONS, schemaId, validatorFor } from '../../src/engine/schema/validator.js';
import { relayModules as modules } from '../../src/relay/modules/index.js';
import { INVENTORY_SCHEMA } from '../../src/engine/inventory/load.js';
import { playSchema, taskSchema } from '../../src/engine/playbook/schema.js';

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
const Ajv = createRequire(import.meta.url)('ajv');
const ajv = new (Ajv.default ?? Ajv)(AJV_OPTIONS);

describe('precompiled schema validators', () => {
  it('the build precompiled every schema relay-play validates with', () => {
    const missing = allSchemas().filter((s) => !precompiled[schemaId(s)]);
    assert.equal(
      missing.length,
      0,
      `not precompiled: ${missing.map((s) => JSON.stringify(s).slice(0, 80)).join('\n')}`,
    );
    for (const s of allSchemas()) assert.equal(validatorFor(s), precompiled[schemaId(s)]);
  });

  it('an edited schema is never answered by a stale validator', () => {
    const edited = { ...taskSchema, required: ['name'] };
    assert.notEqual(schemaId(edited), schemaId(taskSchema));
    assert.equal(precompiled[schemaId(edited)], undefined);
    assert.equal(validatorFor(edited)({}), false, 'compiled at run time, with the edit');
  });

  const samples: [string, object, unknown][] = [
    ['inventory', INVENTORY_SCHEMA, { all: { hosts: { a: 1 }, children: { g: { bogus: 1 } } } }],
    ['inventory ok', INVENTORY_SCHEMA, { all: { hosts: { a: null }, vars: { x: 1 } } }],
    ['play', playSchema, { hosts: 3, roles: [{ role: 'x', tasks_from: '../etc' }], extra: true }],
    ['task', taskSchema, { register: 'not a name', when: [1] }],
    ['copy', modules.get('copy')!.schema, { dest: '', mode: 1.5, owner: ['x'] }],
    ['user', modules.get('user')!.schema, { name: 'x', state: 'maybe' }],
    ['systemd', modules.get('systemd')!.schema, { name: 'x', enabled: 'perhaps', bogus: 1 }],
    ['lineinfile', modules.get('lineinfile')!.schema, { path: '/x', line: 'y', regexp: 3 }],
  ];
  for (const [name, schema, data] of samples) {
    it(`${name}: same verdict and errors as ajv at run time`, () => {
      const pre = precompiled[schemaId(schema)] as Validate;
      const live = ajv.compile(schema) as Validate;
      assert.equal(pre(data), live(data));
      assert.deepEqual(pre.errors ?? null, live.errors ?? null);
    });
  }
});
