// --tags / --skip-tags, as ansible-playbook selects tasks: `always` runs unless skipped by name,
// `never` only when asked for by one of its tags; `all`, `tagged` and `untagged` are the special
// selections. Handlers are never filtered (they run when notified).
import type { Playbook, TaskDef } from './types.js';

function matches(tags: string[], selection: string[]): boolean {
  return selection.some((s) =>
    s === 'all' ? true : s === 'tagged' ? tags.length > 0 : s === 'untagged' ? tags.length === 0 : tags.includes(s),
  );
}

export function taskSelected(task: TaskDef, only: string[], skip: string[]): boolean {
  const tags = task.tags;
  if (
    skip.length &&
    matches(
      tags.filter((t) => t !== 'always' || skip.includes('always')),
      skip,
    )
  )
    return false;
  if (tags.includes('always') && !skip.includes('always')) return true;
  if (tags.includes('never')) return only.some((s) => s !== 'all' && tags.includes(s));
  return only.length === 0 || matches(tags, only);
}

/** The playbook with only the tasks the selection runs (and the selection, for what includes bring in). */
export function selectTags(pb: Playbook, only: string[], skip: string[]): Playbook {
  const select = (t: TaskDef) => taskSelected(t, only, skip);
  return { ...pb, plays: pb.plays.map((p) => ({ ...p, tasks: p.tasks.filter(select), select })) };
}

/** `--tags a,b --tags c` → [a, b, c]. */
export function tagList(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
}
