// copy: put `content` (or a local `src` file) at `dest`, atomically, with owner/group/mode.
import { readFileSync } from 'node:fs';
import type { Module } from './types.js';
import { planFileContent, type ManagedFileArgs } from './lib/managed-file.js';

interface CopyArgs extends ManagedFileArgs {
  content?: string;
  src?: string;
}

export const copy: Module<CopyArgs> = {
  schema: {
    type: 'object',
    properties: {
      content: { type: 'string' },
      src: { type: 'string' },
      dest: { type: 'string', minLength: 1 },
      owner: { type: 'string' },
      group: { type: 'string' },
      mode: { type: ['string', 'integer'] },
      validate: { type: 'string' },
    },
    required: ['dest'],
    oneOf: [{ required: ['content'] }, { required: ['src'] }],
    additionalProperties: false,
  },
  async plan(args, ctx) {
    const content = args.content ?? readFileSync(ctx.resolveLocal(args.src!, 'files'), 'utf8');
    return planFileContent(args, content, ctx);
  },
};
