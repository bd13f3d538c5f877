// Every JSON schema relay-play validates with, for the build step that precompiles them.
import { INVENTORY_SCHEMA } from '../inventory/load.js';
import { modules } from '../modules/index.js';
import {
  blockSchema,
  includeRoleSchema,
  includeTasksSchema,
  playbookSchema,
  playSchema,
  taskListSchema,
  taskSchema,
  varsFileSchema,
} from '../playbook/schema.js';

export function allSchemas(): object[] {
  const schemas = [
    INVENTORY_SCHEMA,
    playbookSchema,
    playSchema,
    taskSchema,
    taskListSchema,
    varsFileSchema,
    blockSchema,
    includeTasksSchema,
    includeRoleSchema,
    ...Object.values(modules).map((m) => m.schema),
  ];
  return [...new Set(schemas)];
}
