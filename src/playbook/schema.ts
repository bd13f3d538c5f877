// Shapes of plays and tasks. Module arguments are checked separately against each module's own schema.

const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const condition = { anyOf: [{ type: ['string', 'boolean'] }, { type: 'array', items: { type: ['string', 'boolean'] } }] };

/** Keys a task may carry besides its one module. */
export const TASK_KEYS = {
  name: { type: 'string' },
  when: condition,
  loop: { anyOf: [{ type: 'array' }, { type: 'string' }] },
  with_items: { anyOf: [{ type: 'array' }, { type: 'string' }] },
  register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  notify: stringOrList,
  listen: stringOrList,
  become: { type: 'boolean' },
  become_user: { type: 'string' },
  changed_when: condition,
  failed_when: condition,
  no_log: { type: 'boolean' },
  ignore_errors: { type: 'boolean' },
  vars: { type: 'object' },
  tags: stringOrList,
} as const;

export const taskSchema = { type: 'object', properties: TASK_KEYS };

export const taskListSchema = { type: 'array', items: { type: 'object' } };

export const playSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    hosts: stringOrList,
    vars: { type: 'object' },
    become: { type: 'boolean' },
    become_user: { type: 'string' },
    gather_facts: { type: 'boolean' },
    roles: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string' },
          {
            type: 'object',
            properties: { role: { type: 'string' }, vars: { type: 'object' }, tasks_from: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } },
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
