// `relay-play enroll INVENTORY DEVICE > user-data`: zero-touch enrolment. The device was never on the
// admin's network: relay-play allocates and records its port on the relay, makes its relay key and
// sshd host key here, authorizes the relay key on the relay (restricted like any device's), and writes
// what the device runs on first boot — a cloud-config, or with --script a POSIX shell script. The first
// `apply` that reaches the device through its tunnel rotates the relay key (src/relay/commands/apply.ts).
import { closeSync, existsSync, fchmodSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import {
  Connections,
  InputError,
  loadInventory,
  PlainReporter,
  UnreachableError,
  type CommonOptions,
} from '../../engine/index.js';
import { cloudConfig, firstBootScript, type FirstBoot } from '../enroll.js';
import { bareKey } from '../fleet.js';
import { isNixos, prepareRelayInventory } from '../inventory.js';
import { roleTemplate } from '../nixos.js';
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

/** Where the private keys go: a file we make 0600, or stdout if it is not a terminal (or --force). */
function destination(opts: EnrollOptions): { fd: number; close: boolean } {
  if (opts.output) return { fd: openSync(opts.output, 'w', 0o600), close: true };
  if (process.stdout.isTTY && !opts.force) {
    throw new InputError(
      'the enrolment holds private keys: it is not printed on a terminal',
      undefined,
      'redirect it to a file (relay-play enroll INVENTORY DEVICE > user-data), or give --output FILE; --force prints it anyway',
    );
  }
  return { fd: 1, close: false };
}

function writeSecret(dest: { fd: number; close: boolean }, text: string): void {
  // A shell redirect makes the file with the shell's umask (often 0644): a regular file gets 0600.
  if (fstatSync(dest.fd).isFile()) fchmodSync(dest.fd, 0o600);
  writeSync(dest.fd, text);
  if (dest.close) closeSync(dest.fd);
}

const keyPair = (comment: string) => {
  const k = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { private: k.private, public: k.public.trim() };
};

export async function enrollCommand(inventoryFile: string, device: string, opts: EnrollOptions): Promise<number> {
  const inv = loadInventory(inventoryFile);
  prepareRelayInventory(inv);
  const relay = inv.groups.get('relay')![0];
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
  if (isNixos(inv.hosts.get(relay)!.vars)) {
    throw new InputError(
      `the relay ${relay} runs NixOS: its authorized keys come from its configuration`,
      undefined,
      'enroll the device over a direct connection once (relay-play apply), then nixos-rebuild the relay',
    );
  }
  const login = loginOf(vars, opts);
  const dest = destination(opts);

  // Refuse before anything changes: a device already on the relay keeps its keys unless --reissue.
  const conns = new Connections((h) => inv.hosts.get(h)!.vars, {
    acceptNewHostKeys: Boolean(opts.acceptNewHostKeys),
    connectTimeoutMs: 10_000,
  });
  try {
    // A device of the inventory gets its port at any apply; it is enrolled once the relay has its key.
    const recorded = (await readFleet(await conns.get(relay))).devices[device];
    if (recorded?.relay_key && !opts.reissue) {
      throw new InputError(
        `${device} is already enrolled (relay port ${recorded.port})`,
        undefined,
        `--reissue revokes its keys and issues new ones; relay-play remove ${inventoryFile} ${device} takes it out`,
      );
    }
  } catch (e) {
    if (!(e instanceof UnreachableError)) throw e;
    process.stderr.write(`relay-play enroll: the relay ${relay}: ${e.message}\n`);
    return 4;
  } finally {
    await conns.closeAll();
  }

  // The keys, made here; the relay learns the public halves as a NixOS device's would come from the inventory.
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
  if (run.code !== 0) {
    process.stderr.write(`relay-play enroll: the relay could not record ${device} (see above); nothing was written.\n`);
    return run.code;
  }
  const facts = run.state.hostVars(device);
  const boot: FirstBoot = {
    device,
    relay,
    port: Number(facts.tunnel_port),
    tunnelUser: String(facts.tunnel_user),
    relayKey,
    hostKey,
    relayPin: `relay-play-relay ${facts.relay_host_key}`,
    unit: roleTemplate('reverse-tunnel-service', 'relay-tunnel.service.hbs', { tunnel_suffix: '', ...facts }),
    login,
  };
  writeSecret(dest, opts.script ? firstBootScript(boot, { withHostKey: true }) : cloudConfig(boot));
  process.stderr.write(
    `${device} is enrolled on ${relay} (relay port ${boot.port}); its ${opts.script ? 'first-boot script' : 'user-data'} holds its private keys: ` +
      `treat it like a password. Clients get ${device} on the next apply; that apply, once it reaches ${device}, also replaces the relay key.\n` +
      (login
        ? ''
        : `No login key for relay-play was found: the device's image must let ${String(vars.ansible_user ?? userInfo().username)} log in with relay-play's key and use sudo without a password (or give --login-key).\n`),
  );
  return 0;
}
