// `relay-play enroll INVENTORY DEVICE > user-data`: zero-touch enrolment. The device was never on the
// admin's network: relay-play allocates and records its port on its relays, makes its relay key and
// sshd host key here, authorizes the relay key on each relay (restricted like any device's), and writes
// what the device runs on first boot — a cloud-config, or with --script a POSIX shell script — with a
// tunnel to each of its relays. The first `apply` that reaches the device through a tunnel rotates the
// relay key (src/relay/commands/apply.ts).
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fstatSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import ssh2 from 'ssh2';
import {
  Connections,
  InputError,
  loadInventory,
  PlainReporter,
  UnreachableError,
  type CommonOptions,
} from '../../engine/index.js';
import { cloudConfig, firstBootScript, firstBootTunnels, type FirstBoot } from '../enroll.js';
import { bareKey } from '../fleet.js';
import { mergeFleets, type FleetCopy } from '../fleet-merge.js';
import { isNixos, prepareRelayInventory } from '../inventory.js';
import { relaysOf } from '../relays.js';
import { readFleet } from '../tunnels.js';
import { nixosCommand } from './nixos.js';
import { runRelayPlaybook } from './relay-run.js';

export interface EnrollOptions extends CommonOptions {
  script?: boolean;
  reissue?: boolean;
  force?: boolean;
  output?: string;
  /** Public key relay-play logs in with (default: <ansible_ssh_private_key_file>.pub, then ~/.ssh/id_ed25519.pub); false: none. */
  loginKey?: string | false;
}

/** relay-play's own login on the device: ansible_user with the public half of the key it logs in with. */
function loginOf(vars: Record<string, unknown>, opts: EnrollOptions): FirstBoot['login'] {
  if (opts.loginKey === false) return undefined;
  const keyFile = vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file;
  const candidates = opts.loginKey
    ? [opts.loginKey]
    : [...(keyFile ? [`${keyFile}.pub`] : []), join(homedir(), '.ssh', 'id_ed25519.pub')];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const key = bareKey(readFileSync(file, 'utf8'));
    if (!key)
      throw new InputError(
        `${file} is not an OpenSSH public key`,
        undefined,
        'give --login-key the .pub file of the key relay-play logs in with',
      );
    return { user: String(vars.ansible_user ?? userInfo().username), key };
  }
  if (opts.loginKey)
    throw new InputError(
      `${opts.loginKey} does not exist`,
      undefined,
      'give --login-key the .pub file of the key relay-play logs in with',
    );
  return undefined;
}

/**
 * Where the private keys go: a file we make 0600, or stdout if it is not a terminal (or --force). Checked
 * before anything changes; the file is opened only once there is something to write.
 */
function destination(opts: EnrollOptions): () => { fd: number; close: boolean } {
  if (opts.output) {
    const file = opts.output;
    const there = existsSync(file);
    try {
      accessSync(there ? file : dirname(file), constants.W_OK);
    } catch (e) {
      throw new InputError(
        `cannot write ${file}: ${(e as Error).message}`,
        undefined,
        'give --output a file in a directory you can write',
      );
    }
    return () => ({ fd: openSync(file, 'w', 0o600), close: true });
  }
  if (process.stdout.isTTY && !opts.force) {
    throw new InputError(
      'the enrolment holds private keys: it is not printed on a terminal',
      undefined,
      'redirect it to a file (relay-play enroll INVENTORY DEVICE > user-data), or give --output FILE; --force prints it anyway',
    );
  }
  return () => ({ fd: 1, close: false });
}

function writeSecret(dest: { fd: number; close: boolean }, text: string): void {
  // A shell redirect makes the file with the shell's umask (often 0644): a regular file gets 0600.
  if (fstatSync(dest.fd).isFile()) fchmodSync(dest.fd, 0o600);
  writeSync(dest.fd, text);
  if (dest.close) closeSync(dest.fd);
}

/** "ra", "ra and rb", "ra, rb and rc". */
const names = (list: readonly string[]) =>
  list.length < 2 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;

/**
 * The fleet state as the relays reached hold it (merged as a run merges it), and the relays not reached.
 * Every relay is read at once, so a relay that is down costs one connect timeout.
 */
async function readRelays(conns: Connections, relays: string[]) {
  const reads = await Promise.allSettled(relays.map(async (relay) => readFleet(await conns.get(relay))));
  const copies: FleetCopy[] = [];
  const unreached = new Map<string, string>();
  reads.forEach((r, i) => {
    if (r.status === 'fulfilled') copies.push({ relay: relays[i], state: r.value });
    else if (r.reason instanceof UnreachableError) unreached.set(relays[i], r.reason.message);
    else throw r.reason;
  });
  return { fleet: copies.length ? mergeFleets(copies) : undefined, unreached };
}

const keyPair = (comment: string) => {
  const k = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { private: k.private, public: k.public.trim() };
};

export async function enrollCommand(inventoryFile: string, device: string, opts: EnrollOptions): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relays = inv.groups.get('relay')!;
  const devices = inv.groups.get('devices') ?? [];
  if (!devices.includes(device)) {
    throw new InputError(
      `${device} is not a device of ${inventoryFile}`,
      undefined,
      `add it under devices (no ansible_host needed), then enroll it; devices: ${devices.join(', ') || '(none)'}`,
    );
  }
  const vars = inv.hosts.get(device)!.vars;
  if (isNixos(vars)) {
    process.stderr.write(
      `relay-play enroll: ${device} runs NixOS: it is enrolled with its own configuration, printed below (relay-play nixos ${inventoryFile} ${device}); nothing was changed on the relay.\n`,
    );
    await nixosCommand(inventoryFile, device, opts);
    return 1;
  }
  // The relays the device tunnels to, as the relays will record them (relays_per_device is a relay's var).
  const perDevice = inv.hosts.get(relays[0])!.vars.relays_per_device;
  const mine = relaysOf(device, relays, perDevice === undefined || perDevice === null ? undefined : Number(perDevice));
  const nixosRelay = mine.find((r) => isNixos(inv.hosts.get(r)!.vars));
  if (nixosRelay) {
    throw new InputError(
      `the relay ${nixosRelay} runs NixOS: its authorized keys come from its configuration`,
      undefined,
      'enroll the device over a direct connection once (relay-play apply), then nixos-rebuild the relay',
    );
  }
  const login = loginOf(vars, opts);
  const dest = destination(opts);

  // Refuse before anything changes: a device already on the relays keeps its keys unless --reissue.
  const conns = new Connections((h) => inv.hosts.get(h)!.vars, {
    acceptNewHostKeys: Boolean(opts.acceptNewHostKeys),
    connectTimeoutMs: 10_000,
  });
  try {
    const { fleet, unreached } = await readRelays(conns, relays);
    for (const [relay, why] of unreached) process.stderr.write(`relay-play enroll: the relay ${relay}: ${why}\n`);
    if (mine.every((r) => unreached.has(r))) {
      if (mine.length > 1)
        process.stderr.write(
          `relay-play enroll: none of ${device}'s relays (${names(mine)}) was reached: nothing was recorded or written.\n`,
        );
      return 4;
    }
    // A device of the inventory gets its port at any apply; it is enrolled once the relays have its key.
    const recorded = fleet!.devices[device];
    if (recorded?.relay_key && !opts.reissue) {
      throw new InputError(
        `${device} is already enrolled (relay port ${recorded.port})`,
        undefined,
        `--reissue revokes its keys and issues new ones; relay-play remove ${inventoryFile} ${device} takes it out`,
      );
    }
  } finally {
    await conns.closeAll();
  }

  // The keys, made here; the relays learn the public halves as a NixOS device's would come from the inventory.
  const relayKey = keyPair(`relay-access ${device}`);
  const hostKey = keyPair(`root@${device}`);
  Object.assign(vars, {
    relay_public_key: relayKey.public,
    ssh_host_key: hostKey.public,
    relay_issued_at: new Date().toISOString(),
  });
  const reporter = new PlainReporter({ diff: Boolean(opts.diff), verbose: opts.verbose }, (s) =>
    process.stderr.write(s),
  );
  const run = await runRelayPlaybook('enroll', inv, { ...opts, limit: undefined, check: false }, { reporter });
  // As apply: a relay not reached is left for the next run that reaches it (exit 4), as long as one of the
  // device's relays recorded and authorized it. Any failure, or none of its relays: nothing is written.
  const down = relays.filter((r) => run.state.host(r).unreachable);
  const recordedOn = mine.filter((r) => !down.includes(r));
  if ((run.code !== 0 && run.code !== 4) || !recordedOn.length) {
    process.stderr.write(
      relays.length === 1
        ? `relay-play enroll: the relay could not record ${device} (see above); nothing was written.\n`
        : `relay-play enroll: ${recordedOn.length ? 'the relays' : `none of ${device}'s relays (${names(mine)})`} could not record ${device} (see above); nothing was written.\n`,
    );
    return run.code || 4;
  }
  const facts = run.state.hostVars(device);
  const { tunnels, unpinned } = firstBootTunnels(facts);
  const boot: FirstBoot = {
    device,
    port: Number(facts.tunnel_port),
    tunnelUser: String(facts.tunnel_user),
    relayKey,
    hostKey,
    tunnels,
    login,
  };
  writeSecret(dest(), opts.script ? firstBootScript(boot, { withHostKey: true }) : cloudConfig(boot));
  process.stderr.write(
    `${device} is enrolled on ${names(recordedOn)} (relay port ${boot.port}); its ${opts.script ? 'first-boot script' : 'user-data'} holds its private keys: ` +
      `treat it like a password. Clients get ${device} on the next apply; that apply, once it reaches ${device}, also replaces the relay key.\n` +
      (login
        ? ''
        : `No login key for relay-play was found: the device's image must let ${String(vars.ansible_user ?? userInfo().username)} log in with relay-play's key and use sudo without a password (or give --login-key).\n`),
  );
  if (down.length) {
    // The device's tunnel to a relay not reached: in its first-boot files if that relay's host key is
    // known (it connects once that relay has its key), else added by the first apply that reaches it.
    const pinned = mine.filter((r) => down.includes(r) && !unpinned.includes(r));
    const file = opts.script ? 'script' : 'user-data';
    process.stderr.write(
      `relay-play enroll: ${names(down)} ${down.length > 1 ? 'were' : 'was'} not reached: ${device} is recorded there by the next apply that reaches ${down.length > 1 ? 'them' : 'it'}` +
        (pinned.length ? `; its ${file} has its tunnel to ${names(pinned)} already` : '') +
        (unpinned.length
          ? `; its tunnel to ${names(unpinned)} (a host key relay-play has not seen yet) is added by the first apply that reaches ${device}`
          : '') +
        '.\n',
    );
  }
  return run.code;
}
