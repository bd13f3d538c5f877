// A file's change as --diff shows it: before and after, each with a header.
import { createTwoFilesPatch } from 'diff';

/** A change to one file, as Ansible's diff mode returns it. */
export interface FileDiff {
  before_header: string;
  after_header: string;
  before: string;
  after: string;
}

/** Render a FileDiff as a unified diff (what --diff prints). */
export function unified(d: FileDiff): string {
  return createTwoFilesPatch(
    `before: ${d.before_header}`,
    `after: ${d.after_header}`,
    d.before,
    d.after,
    undefined,
    undefined,
    { context: 3 },
  )
    .split('\n')
    .slice(1) // drop the "====" line
    .join('\n');
}
