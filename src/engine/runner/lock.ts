// One run at a time per fleet: a flock on the relay, held by a command that lives as long as our
// SSH session. If this process dies, sshd closes the session and the lock goes with it.
import { InputError, UnreachableError } from '../util/errors.js';
import { shScript } from '../util/quote.js';
import { shFile } from '../util/sh-file.js';
import type { Connection, Held } from '../connection/types.js';

export interface LockSpec {
  host: string;
  path: string;
  waitSeconds: number;
}

export async function takeLock(
  conn: Connection,
  lock: LockSpec,
  note: (msg: string) => void,
): Promise<Held | undefined> {
  const attempt = (wait: number) =>
    conn.hold(shScript(shFile('engine/runner/lock.sh'), [lock.path, wait]), { become: true });
  try {
    let held = await attempt(0);
    if (held.exitCode === 75) {
      note(`waiting up to ${lock.waitSeconds} s for another relay-play run on ${lock.host} to finish...`);
      held = await attempt(lock.waitSeconds);
    }
    if (held.firstLine === 'locked') return held;
    if (held.exitCode === 75) {
      throw new InputError(
        `another relay-play run still holds the lock on ${lock.host} (${lock.path}) after ${lock.waitSeconds} s`,
        undefined,
        'let it finish, then run again',
      );
    }
    throw new InputError(
      `could not take the run lock on ${lock.host} (flock exited ${held.exitCode})`,
      undefined,
      'check that the login user may use sudo without a password',
    );
  } catch (e) {
    // An unreachable relay is reported by the run itself; nothing can change on it anyway.
    if (e instanceof UnreachableError) return undefined;
    throw e;
  }
}
