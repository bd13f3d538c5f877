// template: render a template file (role templates/ dir) with the task's vars and manage `dest` like
// copy. A `.hbs` file is handlebars (relay-play's own roles); any other is Jinja, as in Ansible.
import { renderTemplateFile } from './lib/render.js';
import type { Module } from './types.js';
import { managedFileProps, managedFileReads, planFileContent, type ManagedFileArgs } from './lib/managed-file.js';

interface TemplateArgs extends ManagedFileArgs {
  src: string;
}

export const template: Module<TemplateArgs, 'dest' | 'umask'> = {
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      ...managedFileProps,
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  // The read names only dest: it is known before the variables the text needs (see managedFileReads).
  reads: managedFileReads,
  plan(args, ctx, facts) {
    return planFileContent(args, renderTemplateFile(ctx, args.src), facts, { path: args.dest, check: ctx.check });
  },
};
