// Shapes of plays and tasks. Module arguments are checked separately against each module's own schema.
import { INVENTORY_SCHEMA } from '../inventory/load.js';

/** The `with_*` loops (Ansible's lookups of the same names): src/engine/runner/loops.ts. */
export const WITH_LOOPS = new Set(
  [
    'items',
    'list',
    'dict',
    'together',
    'sequence',
    'nested',
    'cartesian',
    'subelements',
    'indexed_items',
    'flattened',
    'fileglob',
    'first_found',
    'random_choice',
    'lines',
  ].map((k) => `with_${k}`),
);

// Quoted or templated, Ansible's `become: "yes"` is a string, so the words Ansible takes
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

const intOrTemplate = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^(\\d+|.*\\{\\{.*)$' },
  ],
};

/** Keywords of a play, a block, an include or a task alike (each level's own, inherited below it). */
const commonKeys = {
  environment: { anyOf: [{ type: 'object' }, { type: 'string' }, { type: 'array' }] },
  diff: flag,
  ignore_unreachable: flag,
  module_defaults: { anyOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }] },
  any_errors_fatal: flag,
  throttle: intOrTemplate,
};

/** Keys a task may carry besides its one module. */
export const TASK_KEYS = {
  name: { type: 'string' },
  when: condition,
  loop: { anyOf: [{ type: 'array' }, { type: 'string' }] },
  ...Object.fromEntries([...WITH_LOOPS].map((k) => [k, {}])),
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
  until: condition,
  retries: intOrTemplate,
  delay: intOrTemplate,
  delegate_facts: flag,
  ...commonKeys,
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
  ...commonKeys,
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

const apply = {
  type: 'object',
  properties: { tags: stringOrList, become: flag, become_user: { type: 'string' }, run_once: flag },
  additionalProperties: false,
};

const importKeys = { name: { type: 'string' }, ...inheritedKeys };

/** `import_tasks: FILE`, read when the playbook is loaded. */
export const importTasksSchema = {
  type: 'object',
  properties: { ...importKeys, import_tasks: { type: 'string', minLength: 1 } },
  additionalProperties: false,
};

/**
 * The keywords Ansible takes on include_tasks / include_role (others are the included tasks' business:
 * `apply:`). `apply` beside them is relay-play's older spelling of the argument, still taken.
 */
export const INCLUDE_KEYWORDS = [
  'name',
  'when',
  'loop',
  ...WITH_LOOPS,
  'loop_control',
  'register',
  'ignore_errors',
  'no_log',
  'run_once',
  'tags',
  'vars',
  'apply',
];

const includeKeys = {
  name: { type: 'string' },
  when: condition,
  loop: TASK_KEYS.loop,
  ...Object.fromEntries([...WITH_LOOPS].map((k) => [k, {}])),
  loop_control: TASK_KEYS.loop_control,
  register: TASK_KEYS.register,
  ignore_errors: flag,
  no_log: flag,
  run_once: flag,
  tags: stringOrList,
  vars: { type: 'object' },
  apply,
};

/** `include_tasks: FILE` (or `{file: FILE, apply: {...}}`), read when a host reaches it. */
export const includeTasksSchema = {
  type: 'object',
  properties: {
    ...includeKeys,
    include_tasks: {
      anyOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          properties: { file: { type: 'string', minLength: 1 }, apply },
          required: ['file'],
          additionalProperties: false,
        },
      ],
    },
  },
  additionalProperties: false,
};

const fromFile = { type: 'string', pattern: '^([A-Za-z0-9_./-]+|.*\\{\\{.*)$' };

const roleRef = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    tasks_from: fromFile,
    vars: { type: 'object' },
  },
  required: ['name'],
  additionalProperties: false,
};

/** `import_role`: {name, tasks_from, vars}. */
export const importRoleSchema = {
  type: 'object',
  properties: { ...importKeys, import_role: roleRef },
  additionalProperties: false,
};

/** `include_role`: {name, tasks_from, vars_from, defaults_from, handlers_from, public, apply, ...}. */
export const includeRoleSchema = {
  type: 'object',
  properties: {
    ...includeKeys,
    include_role: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1 },
        tasks_from: fromFile,
        vars_from: fromFile,
        defaults_from: fromFile,
        handlers_from: fromFile,
        public: flag,
        allow_duplicates: flag,
        rolespec_validate: flag,
        apply,
        vars: { type: 'object' },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

export const taskSchema = { type: 'object', properties: TASK_KEYS };

export const taskListSchema = { type: 'array', items: { type: 'object' } };

const roleEntrySchema = {
  anyOf: [
    { type: 'string' },
    {
      type: 'object',
      properties: {
        role: { type: 'string' },
        name: { type: 'string' },
        vars: { type: ['object', 'array'] },
        tasks_from: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
        tags: stringOrList,
        when: condition,
        become: flag,
        become_user: { type: 'string' },
      },
      anyOf: [{ required: ['role'] }, { required: ['name'] }],
    },
  ],
};

export const playSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    hosts: stringOrList,
    vars: { anyOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }, { type: 'null' }] },
    vars_files: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
    become: flag,
    become_user: { type: 'string' },
    gather_facts: flag,
    gather_subset: stringOrList,
    gather_timeout: { type: 'integer' },
    fact_path: { type: 'string', minLength: 1 },
    tags: stringOrList,
    roles: { type: 'array', items: roleEntrySchema },
    pre_tasks: taskListSchema,
    tasks: taskListSchema,
    post_tasks: taskListSchema,
    handlers: taskListSchema,
    strategy: { enum: ['linear', 'free'] },
    serial: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^\\d+%?$' },
        {
          type: 'array',
          items: {
            anyOf: [
              { type: 'integer', minimum: 0 },
              { type: 'string', pattern: '^\\d+%?$' },
            ],
          },
        },
      ],
    },
    max_fail_percentage: {
      anyOf: [
        { type: 'number', minimum: 0, maximum: 100 },
        { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
      ],
    },
    order: { enum: ['inventory', 'reverse_inventory', 'sorted', 'reverse_sorted', 'shuffle'] },
    ignore_errors: flag,
    no_log: flag,
    check_mode: flag,
    force_handlers: flag,
    ...commonKeys,
  },
  required: ['hosts'],
  additionalProperties: false,
};

/** `- import_playbook: other.yml` in a playbook's list of plays. */
export const importPlaybookSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    import_playbook: { type: 'string', minLength: 1 },
    'ansible.builtin.import_playbook': { type: 'string', minLength: 1 },
    vars: { type: 'object' },
    tags: stringOrList,
    when: condition,
  },
  additionalProperties: false,
};

/** A role's `meta/main.yml`. */
export const roleMetaSchema = {
  anyOf: [
    { type: 'null' },
    {
      type: 'object',
      properties: { dependencies: { type: 'array', items: roleEntrySchema }, allow_duplicates: flag },
    },
  ],
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
    importTasksSchema,
    includeRoleSchema,
    importRoleSchema,
    importPlaybookSchema,
    roleMetaSchema,
  ];
}
