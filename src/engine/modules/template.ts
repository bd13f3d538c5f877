// template: render a template file (role templates/ dir) with the task's vars and manage `dest` like
// copy. A `.hbs` file is handlebars (relay-play's own roles); any other is Jinja, as in Ansible.
import { unsafeWritesArg, fileWriteRefused } from './lib/schema.js';
import { renderTemplateFile } from './lib/render.js';
import type { Module } from './types.js';
import { managedFileProps, managedFileReads, planFileContent, type ManagedFileArgs } from './lib/managed-file.js';

interface TemplateArgs extends ManagedFileArgs {
  src: string;
}

export const template: Module<TemplateArgs, 'dest' | 'umask'> = {
  refused: {
    ...fileWriteRefused,
    ...Object.fromEntries(
      [
        'block_start_string',
        'block_end_string',
        'variable_start_string',
        'variable_end_string',
        'comment_start_string',
        'comment_end_string',
        'trim_blocks',
        'lstrip_blocks',
        'newline_sequence',
      ].map((k) => [k, "not yet: templates render with Ansible's defaults ({{ }}, {% %}, {# #}, trim_blocks, \\n)"]),
    ),
    output_encoding: 'not yet: templates are written as UTF-8',
    follow: 'not yet: a link at dest is replaced, not followed',
  },
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      ...managedFileProps,
      unsafe_writes: unsafeWritesArg,
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
