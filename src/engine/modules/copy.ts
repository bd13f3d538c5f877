// copy: put `content` (or a local `src` file, found in the role's files/ first) at `dest`,
// atomically, with owner/group/mode; text or bytes (a .deb) alike.
import { readFileSync } from 'node:fs';
import type { Module } from './types.js';
import {
  managedFileProps,
  managedFileReads,
  planFileContent,
  textOrBytes,
  type ManagedFileArgs,
} from './lib/managed-file.js';

interface CopyArgs extends ManagedFileArgs {
  content?: string;
  src?: string;
}

export const copy: Module<CopyArgs, 'dest'> = {
  schema: {
    type: 'object',
    properties: { content: { type: 'string' }, src: { type: 'string' }, ...managedFileProps },
    required: ['dest'],
    oneOf: [{ required: ['content'] }, { required: ['src'] }],
    additionalProperties: false,
  },
  reads: managedFileReads,
  plan(args, ctx, facts) {
    const content = args.content ?? textOrBytes(readFileSync(ctx.resolveLocal(args.src!, 'files')));
    return planFileContent(args, content, facts);
  },
};
