// The plan shared by copy and template: make `dest` hold `content` with the wanted attributes.
import { modeString } from './schema.js';
import type { Plan, ReadContext } from '../types.js';
import { attrChanges, attrDiff, attrSteps, contentDiff, fileFacts, writeFileStep, type Attrs } from './files.js';

export interface ManagedFileArgs {
  dest: string;
  owner?: string;
  group?: string;
  mode?: string | number;
  validate?: string;
}

export async function planFileContent(args: ManagedFileArgs, content: string, ctx: ReadContext): Promise<Plan> {
  const want: Attrs = { owner: args.owner, group: args.group, mode: modeString(args.mode) };
  const facts = await fileFacts(ctx, args.dest, { content: true });
  const result = { dest: args.dest };
  if (facts.exists && facts.type !== 'file') return { changed: false, steps: [], failed: `${args.dest} exists and is not a regular file (${facts.type})` };

  const contentChanged = !facts.exists || facts.content !== content;
  const attrs = facts.exists ? attrChanges(facts, want) : want;
  const diff = [];
  if (contentChanged) diff.push(contentDiff(args.dest, facts.content ?? '', content));
  const ad = facts.exists ? attrDiff(args.dest, facts, attrs) : undefined;
  if (ad) diff.push(ad);

  if (contentChanged) return { changed: true, steps: [writeFileStep(args.dest, content, want, args.validate)], diff, result };
  const steps = attrSteps(args.dest, attrs);
  return { changed: steps.length > 0, steps, diff, result };
}
