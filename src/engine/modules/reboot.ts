// reboot: as Ansible's action does it. Reads the host's boot id (boot_time_command) and where the shutdown
// command is (search_paths, as its find does), starts the reboot detached (so the exec comes back before
// the connection drops), then logs in again by the host's usual path (an away device's route too) until
// the boot id differs, and runs test_command until it succeeds, each stage within reboot_timeout.
// Returns `rebooted` and `elapsed` (whole seconds from the reboot command). In check mode: changed,
// nothing read or done, as Ansible's. The new connection replaces the old one for the rest of the run,
// and the host's earlier reads are stale (the runner counts the steps as a change).
import { shFile } from '../util/sh-file.js';
import { shq, shScript } from '../util/quote.js';
import { pyRepr } from '../template/values.js';
import type { ConfirmContext, Confirmed, Module, Plan } from './types.js';
import { sleep, within } from './lib/wait.js';

interface RebootArgs {
  pre_reboot_delay?: number;
  post_reboot_delay?: number;
  reboot_timeout?: number;
  connect_timeout?: number;
  test_command?: string;
  msg?: string;
  search_paths?: string | string[];
  boot_time_command?: string;
  reboot_command?: string;
}

export const DEFAULT_SEARCH_PATHS = ['/sbin', '/bin', '/usr/sbin', '/usr/bin', '/usr/local/sbin'];
const DEFAULT_BOOT_TIME_COMMAND = 'cat /proc/sys/kernel/random/boot_id';

const DETACH = () => shFile('engine/modules/reboot.sh');
/** The first of the search paths (in order) holding NAME ($1), of any type, as Ansible's find finds it. */
const LOCATE =
  'n=$1; shift; for d do d=${d%/}; if [ -e "$d/$n" ] || [ -L "$d/$n" ]; then printf "%s\\n" "$d/$n"; exit 0; fi; done';
/** The detached command's exit code once it has ended, and when not 0 its stdout's size and both outputs (reboot.sh's `dir`). */
export const statusCommand = (dir: string) =>
  shScript(
    '[ -f "$1/rc" ] || exit 0; read -r rc <"$1/rc"; echo "$rc"; [ "$rc" = 0 ] && exit 0; wc -c <"$1/out"; cat "$1/out" "$1/err"',
    [dir],
  );

/** Ansible's type=list (check_type_list): a string is split at commas, as it is. */
const asList = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v.map(String) : String(v).split(',');

/** Ansible's delays: a negative one is none. */
const delay = (v: number | undefined) => Math.max(0, v ?? 0);

/** The command line Ansible runs: the shutdown binary found, then reboot_command's words, or `-r MIN MSG`. */
export function rebootCommandLine(args: RebootArgs, binary: string): string {
  if (args.reboot_command !== undefined) {
    const sp = args.reboot_command.indexOf(' ');
    return `${binary} ${sp < 0 ? '' : args.reboot_command.slice(sp + 1)}`;
  }
  const minutes = Math.floor(delay(args.pre_reboot_delay) / 60);
  return `${binary} -r ${minutes} ${shq(args.msg ?? 'Reboot initiated by Ansible')}`;
}

/** The binary the reboot command names (its first word), and whether it must be looked for. */
function binaryOf(args: RebootArgs): { name: string; absolute: boolean } {
  const name = args.reboot_command !== undefined ? args.reboot_command.split(' ')[0] : 'shutdown';
  return { name, absolute: name.startsWith('/') };
}

/** What the detached command left (reboot.sh): undefined while it has not ended or when it succeeded. */
export function commandFailure(stdout: string): string | undefined {
  const buf = Buffer.from(stdout, 'utf8');
  const nl1 = buf.indexOf(0x0a);
  if (nl1 < 0 || buf.subarray(0, nl1).toString() === '0') return undefined;
  const nl2 = buf.indexOf(0x0a, nl1 + 1);
  const outLen = Number(
    buf
      .subarray(nl1 + 1, nl2)
      .toString()
      .trim(),
  );
  const out = buf.subarray(nl2 + 1, nl2 + 1 + outLen).toString('utf8');
  const err = buf.subarray(nl2 + 1 + outLen).toString('utf8');
  return `Reboot command failed. Error was: '${out.trim()}, ${err.trim()}'`;
}

class Timeout extends Error {}
/** A verdict that ends the wait at once (the reboot command failed). */
class Stop extends Error {}

/**
 * `attempt` until it resolves, within `seconds`; between tries Ansible's back-off (1, 2, 4, ... s, at
 * most 12), without its random part. A Stop ends it at once.
 */
async function untilSuccess<T>(seconds: number, what: string, attempt: (n: number) => Promise<T>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (let n = 0; Date.now() < end; n++) {
    try {
      // A try on a host that went quiet (a login, a command) ends with the stage.
      return await within(attempt(n), Math.max(1, (end - Date.now()) / 1000), what);
    } catch (e) {
      if (e instanceof Stop) throw e;
      await sleep(Math.min(2 ** n, 12) * 1000);
    }
  }
  throw new Timeout(`Timed out waiting for ${what} (timeout=${seconds})`);
}

export const reboot: Module<RebootArgs, 'boot' | 'binary'> = {
  schema: {
    type: 'object',
    properties: {
      pre_reboot_delay: { type: 'integer' },
      post_reboot_delay: { type: 'integer' },
      reboot_timeout: { type: 'integer' },
      connect_timeout: { type: 'integer', minimum: 0 },
      test_command: { type: 'string' },
      msg: { type: 'string' },
      search_paths: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      boot_time_command: { type: 'string' },
      reboot_command: { type: 'string', minLength: 1 },
    },
    additionalProperties: false,
  },

  reads(args, ctx) {
    if (ctx.check || ctx.via === 'local') return {};
    const bin = binaryOf(args);
    return {
      // As Ansible: an empty boot_time_command is the default one.
      boot: { command: args.boot_time_command || DEFAULT_BOOT_TIME_COMMAND },
      ...(bin.absolute
        ? {}
        : {
            binary: { command: shScript(LOCATE, [bin.name, ...(asList(args.search_paths) ?? DEFAULT_SEARCH_PATHS)]) },
          }),
    };
  },

  plan(args, ctx, facts): Plan {
    if (ctx.via === 'local')
      return {
        changed: false,
        steps: [],
        failed: 'Running reboot with local connection would reboot the control node.',
        result: { elapsed: 0, rebooted: false },
      };
    if (ctx.check) return { changed: true, steps: [], result: { elapsed: 0, rebooted: true } };
    const boot = facts.boot;
    if (boot.code !== 0)
      return {
        changed: false,
        steps: [],
        // Ansible's result says `reboot` here, not `rebooted`.
        failed: `reboot: failed to get host boot time info, rc: ${boot.code}, stdout: ${boot.stdout}, stderr: ${boot.stderr}`,
        result: { reboot: false },
      };
    const before = boot.stdout.trim();
    const bin = binaryOf(args);
    const binary = bin.absolute ? bin.name : facts.binary.stdout.trim();
    // Raised in Ansible's action, not returned: its result has no `changed`.
    if (!binary)
      throw new Error(
        `Unable to find command "${bin.name}" in search paths: ${pyRepr(asList(args.search_paths) ?? DEFAULT_SEARCH_PATHS)}`,
      );
    const timeout = args.reboot_timeout ?? 600;
    const connectTimeoutMs = args.connect_timeout ? args.connect_timeout * 1000 : undefined;
    const bootCommand = args.boot_time_command || DEFAULT_BOOT_TIME_COMMAND;
    const test = args.test_command ?? 'whoami';
    return {
      changed: true,
      steps: [{ describe: 'start the reboot', command: shScript(DETACH(), [rebootCommandLine(args, binary)]) }],
      async confirm(cctx: ConfirmContext, outputs): Promise<Confirmed> {
        const start = Date.now();
        const status = outputs[0]?.stdout.trim() ?? '';
        const elapsed = () => Math.floor((Date.now() - start) / 1000);
        await sleep(delay(args.post_reboot_delay) * 1000);
        try {
          // Each try a new login: the old connection dies with the host, often without a word.
          await untilSuccess(timeout, 'last boot time check', async () => {
            await cctx.reconnect(Date.now(), connectTimeoutMs);
            const r = await cctx.run(bootCommand);
            if (r.code !== 0) throw new Error(`failed to get host boot time info, rc: ${r.code}`);
            const now = r.stdout.trim();
            if (now && now !== before) return;
            const failed = commandFailure((await cctx.run(statusCommand(status))).stdout);
            if (failed) throw new Stop(failed);
            throw new Error('boot time has not changed');
          });
          // After a try whose command did not come back (the connection lost, or the try ran out): log in anew.
          let lost = false;
          let latest = 0;
          await untilSuccess(timeout, 'post-reboot test command', async (n) => {
            latest = n;
            if (lost) await cctx.reconnect(Date.now(), connectTimeoutMs);
            lost = true;
            const r = await cctx.run(test);
            if (n === latest) lost = false;
            if (r.code !== 0) throw new Error(`Test command failed: ${r.stderr} ${r.stdout}`);
          });
        } catch (e) {
          if (e instanceof Stop)
            return { failed: e.message, result: { changed: false, rebooted: false, elapsed: elapsed() } };
          if (e instanceof Timeout)
            return { failed: e.message, result: { changed: false, rebooted: true, elapsed: elapsed() } };
          throw e;
        }
        // The reboot command's notes, where the host kept them (a /tmp that is not a tmpfs).
        if (status) await within(cctx.run(`rm -rf -- ${shq(status)}`), 30, 'the cleanup').catch(() => undefined);
        return { result: { rebooted: true, elapsed: elapsed() } };
      },
    };
  },
};
