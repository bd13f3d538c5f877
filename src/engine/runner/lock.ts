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
  const attempt = (wait: number) => holdLock(conn, lock, wait);
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

/**
 * Every lock of a run. First all at once without waiting (one round trip, however many hosts): when no
 * other run holds any, that is all. If one is busy, those taken are let go and the locks are taken one
 * after the other in the given order, waiting for each — so two runs never hold one each and wait for
 * the other. A lock host that can't be reached is skipped (its play reports it).
 */
export async function takeLocks(
  locks: LockSpec[],
  connect: (host: string) => Promise<Connection>,
  note: (msg: string) => void,
): Promise<Held[]> {
  const reach = (lock: LockSpec) => connect(lock.host).catch(() => undefined);
  const tries = await Promise.all(
    locks.map(async (lock) => {
      const conn = await reach(lock);
      return conn && tryLock(conn, lock);
    }),
  );
  const got = tries.filter((h): h is Held => h?.firstLine === 'locked');
  if (tries.every((h) => h === undefined || h.firstLine === 'locked')) return got;
  for (const h of got.reverse()) await h.release();
  const held: Held[] = [];
  for (const lock of locks) {
    const conn = await reach(lock);
    const h = conn && (await takeLock(conn, lock, note));
    if (h) held.push(h);
  }
  return held;
}

/** One try at `lock`, not waiting; undefined when its host is unreachable. */
async function tryLock(conn: Connection, lock: LockSpec): Promise<Held | undefined> {
  try {
    return await holdLock(conn, lock, 0);
  } catch (e) {
    if (e instanceof UnreachableError) return undefined;
    throw e;
  }
}

const holdLock = (conn: Connection, lock: LockSpec, wait: number) =>
  conn.hold(shScript(shFile('engine/runner/lock.sh'), [lock.path, wait]), { become: true });
