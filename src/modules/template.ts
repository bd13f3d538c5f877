// template: render a handlebars file (role templates/ dir) with the task's vars and manage `dest` like copy.
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
    const text = readFileSync(ctx.resolveLocal(args.src, 'templates'), 'utf8');
    return planFileContent(args, ctx.render(text), ctx);
  },
};
