// Every JSON schema relay-play validates with, for the build step that precompiles them.
import { INVENTORY_SCHEMA } from '../inventory/load.js';
import { modules } from '../modules/index.js';
import { playbookSchema, playSchema, taskListSchema, taskSchema, varsFileSchema } from '../playbook/schema.js';

export function allSchemas(): object[] {
  const schemas = [INVENTORY_SCHEMA, playbookSchema, playSchema, taskSchema, taskListSchema, varsFileSchema, ...Object.values(modules).map((m) => m.schema)];
  return [...new Set(schemas)];
}
