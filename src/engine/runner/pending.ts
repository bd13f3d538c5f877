// Notified handlers survive an interrupted run. A change that notifies a handler first leaves a
// marker on the host (in ~/.relay-play/pending/ of the play's user: root for a play with become), in
// the same round trip as the change; the handler removes it once it has run. A run killed between the two — an sshd drop-in
// written, sshd not reloaded yet — leaves the marker, and the next run runs that handler although
// nothing changes then. (Ansible loses such a notification.)
import { createHash } from 'node:crypto';
import type { OneCommand, ReadRequest } from '../connection/batch.js';
import { shScript } from '../util/quote.js';
import { shFile } from '../util/sh-file.js';
import type { PlayDef, TaskDef } from '../playbook/types.js';

/** pending/NAME.sh beside this file: they all name the directory, ~/.relay-play/pending. */
const script = (name: 'mark' | 'list' | 'clear') => shFile(`engine/runner/pending/${name}.sh`);

/** A handler's marker name: stable across runs for the same play and handler. */
export function pendingKey(play: PlayDef, handler: TaskDef): string {
  return createHash('sha256').update(`${play.name}\0${handler.rawName}`).digest('hex').slice(0, 24);
}

/** Whether `names` (notifications: names, or handlers themselves) reach `handler`, by its name or one it listens to. */
export function notifies(names: ReadonlySet<unknown>, handler: TaskDef): boolean {
  return names.has(handler) || names.has(handler.rawName) || handler.listen.some((l) => names.has(l));
}

/** The handlers of `play` that `names` (a task's notify list) reach. */
export function handlersFor(play: PlayDef, names: Iterable<string>): TaskDef[] {
  const wanted = new Set(names);
  return play.handlers.filter((h) => notifies(wanted, h));
}

/** Whose home the markers of `play` live in: the play's user, so they travel with its other commands. */
export function markerUser(play: PlayDef): { become: boolean; becomeUser?: string } {
  return { become: play.become ?? false, becomeUser: play.becomeUser };
}

/** Leave markers for `keys` (never fails: a host where they can't be written only loses this safety). */
export function markStep(play: PlayDef, keys: string[]): OneCommand {
  return {
    command: shScript(script('mark'), keys),
    ...markerUser(play),
  };
}

/** The markers present on the host, one per line. */
export function listPending(play: PlayDef): ReadRequest {
  return { command: script('list'), ...markerUser(play) };
}

/** Remove the marker of a handler that has run (never fails). */
export function clearStep(play: PlayDef, key: string): OneCommand {
  return { command: shScript(script('clear'), [key]), ...markerUser(play) };
}
