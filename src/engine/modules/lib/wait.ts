// Waiting in a module's confirm step (wait_for_connection, reboot): a pause, and a bound on one try.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `p`, or a rejection after `seconds`: a try on a host that went quiet must not wait for ever. */
export function within<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} timed out after ${seconds} seconds`)), seconds * 1000);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
