// Shapes of plays and tasks. Module arguments are checked separately against each module's own schema.
import { INVENTORY_SCHEMA } from '../inventory/load.js';

// Ansible's playbooks say `become: yes`: YAML 1.2 reads that as a string, so the words Ansible takes
// for booleans are accepted wherever a boolean is (src/engine/playbook/load.ts turns them into booleans).
const flag = {
  type: ['boolean', 'string'],
  enum: [
    true,
    false,
    'yes',
    'no',
    'Yes',
    'No',
    'YES',
    'NO',
    'true',
    'false',
    'True',
    'False',
    'TRUE',
    'FALSE',
    'on',
    'off',
    'On',
    'Off',
  ],
};

const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const condition = {
  anyOf: [{ type: ['string', 'boolean'] }, { type: 'array', items: { type: ['string', 'boolean'] } }],
};

/** Keys a task may carry besides its one module. */
export const TASK_KEYS = {
  name: { type: 'string' },
  when: condition,
  loop: { anyOf: [{ type: 'array' }, { type: 'string' }] },
  with_items: { anyOf: [{ type: 'array' }, { type: 'string' }] },
  with_list: { anyOf: [{ type: 'array' }, { type: 'string' }] },
  with_dict: { anyOf: [{ type: 'object' }, { type: 'string' }] },
  with_together: { anyOf: [{ type: 'array' }, { type: 'string' }] },
  loop_control: {
    type: 'object',
    properties: {
      loop_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      index_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      label: { type: 'string' },
      extended: flag,
      pause: { type: 'number', minimum: 0 },
    },
    additionalProperties: false,
  },
  delegate_to: { type: 'string' },
  run_once: flag,
  check_mode: flag,
  register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  notify: stringOrList,
  listen: stringOrList,
  become: flag,
  become_user: { type: 'string' },
  changed_when: condition,
  failed_when: condition,
  no_log: flag,
  ignore_errors: flag,
  vars: { type: 'object' },
  tags: stringOrList,
  args: { type: ['object', 'string'] },
  action: { type: ['object', 'string'] },
  local_action: { type: ['object', 'string'] },
} as const;

/** Keywords a block or an include hands down to the tasks in it. */
const inheritedKeys = {
  when: condition,
  become: flag,
  become_user: { type: 'string' },
  vars: { type: 'object' },
  tags: stringOrList,
  ignore_errors: flag,
  no_log: flag,
  delegate_to: { type: 'string' },
  run_once: flag,
  check_mode: flag,
};

/** Keys of a block (`block:` with `rescue:`/`always:`): its tasks, and what they inherit. */
export const blockSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    block: { type: 'array', items: { type: 'object' } },
    rescue: { type: 'array', items: { type: 'object' } },
    always: { type: 'array', items: { type: 'object' } },
    ...inheritedKeys,
  },
  required: ['block'],
  additionalProperties: false,
};

const includeKeys = {
  name: { type: 'string' },
  apply: {
    type: 'object',
    properties: { tags: stringOrList, become: flag, become_user: { type: 'string' } },
    additionalProperties: false,
  },
  ...inheritedKeys,
};

/** `include_tasks: FILE` / `import_tasks: FILE` (or `{file: FILE}`), static. */
export const includeTasksSchema = {
  type: 'object',
  properties: {
    ...includeKeys,
    include_tasks: {
      anyOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          properties: { file: { type: 'string', minLength: 1 } },
          required: ['file'],
          additionalProperties: false,
        },
      ],
    },
    import_tasks: { type: 'string', minLength: 1 },
  },
  additionalProperties: false,
};

const roleRef = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    tasks_from: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
    vars: { type: 'object' },
  },
  required: ['name'],
  additionalProperties: false,
};

/** `include_role` / `import_role`: {name, tasks_from, vars}. */
export const includeRoleSchema = {
  type: 'object',
  properties: { ...includeKeys, include_role: roleRef, import_role: roleRef },
  additionalProperties: false,
};

export const taskSchema = { type: 'object', properties: TASK_KEYS };

export const taskListSchema = { type: 'array', items: { type: 'object' } };

export const playSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    hosts: stringOrList,
    vars: { type: 'object' },
    become: flag,
    become_user: { type: 'string' },
    gather_facts: flag,
    tags: stringOrList,
    roles: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string' },
          {
            type: 'object',
            properties: {
              role: { type: 'string' },
              vars: { type: 'object' },
              tasks_from: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
              tags: stringOrList,
              when: condition,
            },
            required: ['role'],
            additionalProperties: false,
          },
        ],
      },
    },
    pre_tasks: taskListSchema,
    tasks: taskListSchema,
    post_tasks: taskListSchema,
    handlers: taskListSchema,
  },
  required: ['hosts'],
  additionalProperties: false,
};

export const playbookSchema = { type: 'array', minItems: 1, items: { type: 'object' } };

export const varsFileSchema = { anyOf: [{ type: 'object' }, { type: 'null' }] };

/** Every schema of inventories and playbooks (module schemas come from a ModuleRegistry), for precompiling. */
export function engineSchemas(): object[] {
  return [
    INVENTORY_SCHEMA,
    playbookSchema,
    playSchema,
    taskSchema,
    taskListSchema,
    varsFileSchema,
    blockSchema,
    includeTasksSchema,
    includeRoleSchema,
  ];
}
