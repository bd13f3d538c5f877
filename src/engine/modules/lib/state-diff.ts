// Diffs of named fields (state, enabled, shell...) for modules that manage things other than content.
import type { FileDiff } from '../types.js';

type Fields = Record<string, string | number | boolean | undefined>;

const render = (f: Fields) =>
  Object.entries(f)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('');

/** A diff entry listing `key: value` lines before and after; undefined when nothing differs. */
export function fieldsDiff(header: string, before: Fields, after: Fields): FileDiff | undefined {
  const b = render(before);
  const a = render(after);
  if (a === b) return undefined;
  return { before_header: header, after_header: header, before: b, after: a };
}
