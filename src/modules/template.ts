// template: render a template file (role templates/ dir) with the task's vars and manage `dest` like
// copy. A `.hbs` file is handlebars (relay-play's own roles); any other is Jinja, as in Ansible.
import { readFileSync } from 'node:fs';
import type { Module } from './types.js';
import { planFileContent, type ManagedFileArgs } from './lib/managed-file.js';

interface TemplateArgs extends ManagedFileArgs {
  src: string;
}

export const template: Module<TemplateArgs> = {
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      owner: { type: 'string' },
      group: { type: 'string' },
      mode: { type: ['string', 'integer'] },
      validate: { type: 'string' },
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  async plan(args, ctx) {
    const file = ctx.resolveLocal(args.src, 'templates');
    const text = readFileSync(file, 'utf8');
    return planFileContent(args, file.endsWith('.hbs') ? ctx.renderHandlebars(text) : ctx.render(text), ctx);
  },
};
