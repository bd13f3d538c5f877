// What `apply` checks in an inventory before touching any host, and the defaults it fills in.
import { InputError, type Inventory, sshAddress } from '../engine/index.js';
import { CONNECT_VIA_VAR } from './route.js';
import { RELAY_NAME, relaysOf, tunnelUnitName } from './relays.js';

export const RELAY_DEFAULTS = { relay_ssh_port: 22, tunnel_port_base: 22221, tunnel_user: 'relay-tunnel' };

const isPort = (v: unknown) =>
  Number.isInteger(Number(v)) && Number(v) >= 1024 && Number(v) <= 65535 && String(v).trim() !== '';
const USER = /^[a-z_][a-z0-9_-]*$/;
const ADDRESS = /^[A-Za-z0-9.:_-]+$/;
const FORWARD_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const KEY = /^(ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/=]+( .*)?$/;

/** The group of hosts with `os: nixos`: relay-play changes nothing on them and prints their Nix instead. */
export const NIXOS_GROUP = 'relay_play_nixos';
export const isNixos = (vars: Record<string, unknown>) => String(vars.os ?? '').toLowerCase() === 'nixos';

export function prepareRelayInventory(inv: Inventory): void {
  // The site playbook refers to both groups; an inventory may leave either out.
  for (const g of ['devices', 'clients']) if (!inv.groups.has(g)) inv.groups.set(g, []);
  const group = (name: string) => inv.groups.get(name) ?? [];
  const relays = group('relay');
  const where = (host?: string) => (host ? inv.hostPos(host) : inv.source.pos([]));
  if (!relays.length)
    throw new InputError(
      'the inventory has no host in group "relay"',
      where(),
      'put your static-IP server under all.children.relay.hosts',
    );
  for (const relay of relays)
    for (const role of ['devices', 'clients']) {
      if (group(role).includes(relay)) {
        throw new InputError(
          `host ${relay} is both the relay and in "${role}"`,
          where(relay),
          'a relay cannot tunnel to itself; list it only under "relay"',
        );
      }
    }
  const endpoints = new Map(relays.map((r) => [r, relayEndpoint(inv, r, relays.length > 1, where(r))]));
  const seen = new Map<string, string>();
  for (const [r, e] of endpoints) {
    const other = seen.get(`${e.address}:${e.sshPort}`);
    if (other)
      throw new InputError(
        `relays ${other} and ${r} are both reached at ${e.address} port ${e.sshPort}`,
        where(r),
        'give each relay its own relay_address (or relay_ssh_port)',
      );
    seen.set(`${e.address}:${e.sshPort}`, r);
  }
  const perDevice = relaysPerDevice(inv.hosts.get(relays[0])!.vars, where(relays[0]));
  // A host's own relay: a relay itself, a device its first relay, a client the inventory's first.
  const relayOfHost = (name: string) =>
    endpoints.has(name) ? name : group('devices').includes(name) ? relaysOf(name, relays, perDevice)[0] : relays[0];

  const portOwner = new Map<number, string>();
  const claimPort = (port: number, what: string, name: string) => {
    const other = portOwner.get(port);
    if (other) {
      const both =
        other.startsWith('device ') && what.startsWith('device ')
          ? `devices ${other.slice(7)} and ${what.slice(7)} both use tunnel_port`
          : `${other} and ${what} both use relay port`;
      throw new InputError(
        `${both} ${port}`,
        where(name),
        'give every tunnel and forward its own port, or leave it unset to allocate one',
      );
    }
    portOwner.set(port, what);
  };
  inv.groups.set(
    NIXOS_GROUP,
    [...inv.hosts.keys()].filter((h) => isNixos(inv.hosts.get(h)!.vars)),
  );
  for (const name of [...new Set([...relays, ...group('devices'), ...group('clients')])]) {
    const vars = inv.hosts.get(name)!.vars;
    const isDevice = group('devices').includes(name);
    for (const [key, value] of Object.entries({ ...RELAY_DEFAULTS, ...vars })) {
      const sshPort = key === 'relay_ssh_port' || key === 'relay_sshd_port';
      if (
        (sshPort || ['tunnel_port_base', 'tunnel_port'].includes(key)) &&
        !isPort(value) &&
        !(sshPort && Number(value) >= 1 && Number(value) <= 65535)
      ) {
        throw new InputError(
          `${key} of ${name} must be a port number from 1024 to 65535, got ${JSON.stringify(value)}`,
          where(name),
          `fix ${key}`,
        );
      }
      if (['login_user', 'tunnel_user', 'client_user'].includes(key) && !USER.test(String(value))) {
        throw new InputError(
          `${key} of ${name} is not a valid user name: ${JSON.stringify(value)}`,
          where(name),
          'use a lower-case Unix user name',
        );
      }
    }
    if (
      isDevice &&
      vars[CONNECT_VIA_VAR] !== undefined &&
      !['auto', 'direct', 'relay'].includes(String(vars[CONNECT_VIA_VAR]))
    ) {
      throw new InputError(
        `${CONNECT_VIA_VAR} of ${name} must be auto, direct or relay, got ${JSON.stringify(vars[CONNECT_VIA_VAR])}`,
        where(name),
        "auto (the default) tries the device's ansible_host and its tunnel through the relay",
      );
    }
    if (
      isDevice &&
      vars.tunnel_confirm_timeout !== undefined &&
      !(Number.isInteger(Number(vars.tunnel_confirm_timeout)) && Number(vars.tunnel_confirm_timeout) >= 10)
    ) {
      throw new InputError(
        `tunnel_confirm_timeout of ${name} must be a whole number of seconds, at least 10, got ${JSON.stringify(vars.tunnel_confirm_timeout)}`,
        where(name),
        'the default is 60',
      );
    }
    if (isDevice && vars.tunnel_user === 'root')
      throw new InputError(
        `tunnel_user of ${name} is root`,
        where(name),
        'the tunnel must run as an unprivileged user; leave tunnel_user unset',
      );
    if (isDevice && vars.tunnel_port !== undefined) claimPort(Number(vars.tunnel_port), `device ${name}`, name);
    if (isDevice) checkForwards(inv, name, vars.forwards, claimPort, where(name));
    if (isDevice && isNixos(vars)) {
      for (const key of ['relay_public_key', 'ssh_host_key']) {
        if (vars[key] !== undefined && !KEY.test(String(vars[key]).trim())) {
          throw new InputError(
            `${key} of ${name} is not an OpenSSH public key line`,
            where(name),
            'paste the whole line of the .pub file, e.g. "ssh-ed25519 AAAA... comment"',
          );
        }
      }
    }
    // Fill the defaults the roles need; values set in the inventory are kept.
    const fill = (key: string, value: unknown) => {
      if (vars[key] === undefined) vars[key] = value;
    };
    const own = relayOfHost(name);
    const e = endpoints.get(own)!;
    // The tunnels as the relays will hand them out (relay_fleet's tunnel_relays fact replaces this): known
    // before the run, so a device's tunnel reads go in its first round trip.
    if (isDevice && vars.tunnel_relays === undefined)
      vars.tunnel_relays = relaysOf(name, relays, perDevice).map((r, i, mine) => {
        const unit = tunnelUnitName(r, mine[0]);
        const at = endpoints.get(r)!;
        return {
          name: r,
          address: at.address,
          ssh_port: at.sshPort,
          unit,
          suffix: i === 0 && unit === 'relay-tunnel.service' ? '' : `-${r}`,
        };
      });
    fill('relay_address', e.address);
    fill('relay_host', own);
    // The relay's own ports reach every host (before the defaults, which would shadow them).
    fill('relay_ssh_port', e.sshPort);
    // The port the relay's sshd listens on: the one devices dial unless a port forward sits between.
    fill('relay_sshd_port', e.sshdPort);
    for (const [k, v] of Object.entries(RELAY_DEFAULTS)) fill(k, v);
    fill('login_user', vars.ansible_user ?? 'root');
    fill('client_user', vars.ansible_user ?? 'root');
    // Taken from ansible_user, these were not checked above; a device's login_user ends up in clients'
    // ~/.ssh/config, a client's client_user in its commands.
    for (const key of [
      ...(isDevice ? ['login_user'] : []),
      ...(group('clients').includes(name) ? ['client_user'] : []),
    ]) {
      if (!USER.test(String(vars[key]))) {
        throw new InputError(
          `${key} of ${name} (from ansible_user) is not a valid user name: ${JSON.stringify(vars[key])}`,
          where(name),
          `set ansible_user (or ${key}) to a lower-case Unix user name`,
        );
      }
    }
  }
}

/** `forwards: [{name: web, port: 80}]`: extra services of a device, reachable through the relay. */
function checkForwards(
  inv: Inventory,
  device: string,
  value: unknown,
  claimPort: (p: number, what: string, name: string) => void,
  pos: ReturnType<Inventory['hostPos']>,
): void {
  if (value === undefined || value === null) return;
  const hint =
    'write forwards as a list, e.g. forwards: [{name: web, port: 80}] (optional: relay_port, local_port, host)';
  if (!Array.isArray(value)) throw new InputError(`forwards of ${device} must be a list`, pos, hint);
  const names = new Set<string>();
  for (const f of value as unknown[]) {
    if (!f || typeof f !== 'object' || Array.isArray(f))
      throw new InputError(`each forward of ${device} must be a map with name and port`, pos, hint);
    const fw = f as Record<string, unknown>;
    const unknown = Object.keys(fw).find((k) => !['name', 'port', 'relay_port', 'local_port', 'host'].includes(k));
    if (unknown) throw new InputError(`unknown key "${unknown}" in a forward of ${device}`, pos, hint);
    const name = String(fw.name ?? '');
    if (!FORWARD_NAME.test(name))
      throw new InputError(
        `forward name ${JSON.stringify(fw.name)} of ${device} is not a lower-case name (letters, digits, "-")`,
        pos,
        `it becomes the client's Host alias "${device}-<name>"`,
      );
    if (names.has(name))
      throw new InputError(`${device} has two forwards named ${name}`, pos, 'give each forward its own name');
    names.add(name);
    const alias = `${device}-${name}`;
    if (inv.hosts.has(alias))
      throw new InputError(
        `forward ${name} of ${device} would be called ${alias}, which is also a host of the inventory`,
        pos,
        'rename the forward',
      );
    const anyPort = (v: unknown) =>
      Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 65535 && String(v).trim() !== '';
    if (!anyPort(fw.port))
      throw new InputError(
        `port of forward ${name} of ${device} must be a port number, got ${JSON.stringify(fw.port)}`,
        pos,
        "the service's port on the device, e.g. 80",
      );
    if (fw.relay_port !== undefined) {
      if (!isPort(fw.relay_port))
        throw new InputError(
          `relay_port of forward ${name} of ${device} must be a port number from 1024 to 65535`,
          pos,
          'or leave it unset to allocate one',
        );
      claimPort(Number(fw.relay_port), `forward ${name} of ${device}`, device);
    }
    if (fw.local_port !== undefined && !anyPort(fw.local_port))
      throw new InputError(
        `local_port of forward ${name} of ${device} must be a port number`,
        pos,
        'or leave it unset: the relay port is used',
      );
    if (fw.host !== undefined && !/^[A-Za-z0-9._-]+$/.test(String(fw.host)))
      throw new InputError(
        `host of forward ${name} of ${device} is not a host name or IPv4 address`,
        pos,
        'default: localhost (the device itself)',
      );
  }
}

/**
 * The relay's tunnel watcher (roles/relay-watch): its settings end up in a systemd unit and, for the
 * webhook's URL, in a curl config file, so each is a plain value of a known shape.
 */
function checkWatchVars(vars: Record<string, unknown>, pos: ReturnType<Inventory['hostPos']>): void {
  const whole = (key: string, min: number, max: number, hint: string) => {
    const v = vars[key];
    if (v === undefined) return;
    const n = Number(v);
    if (String(v).trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InputError(
        `${key} must be a whole number of seconds from ${min} to ${max}, got ${JSON.stringify(v)}`,
        pos,
        hint,
      );
  };
  whole('alert_grace', 0, 86400 * 7, 'how long a device may be down before its webhook is sent; the default is 60');
  whole('watch_interval', 1, 3600, 'seconds between two looks at the tunnels; the default is 5');
  const url = vars.alert_webhook_url;
  // One word curl takes from its config file in double quotes: printable ASCII (non-ASCII percent-encoded),
  // no space, no quote, no backslash.
  if (
    url !== undefined &&
    url !== null &&
    url !== '' &&
    (typeof url !== 'string' || url.length > 2000 || !/^https?:\/\/[!#-[\]-~]+$/.test(url))
  )
    throw new InputError(
      'alert_webhook_url must be an http:// or https:// URL with no spaces, quotes or backslashes',
      pos,
      'e.g. alert_webhook_url: https://ntfy.sh/<your topic>; leave it unset for no webhooks',
    );
  const dir = vars.metrics_textfile_dir;
  if (dir !== undefined && dir !== null && dir !== '' && !/^\/[A-Za-z0-9._/-]*$/.test(String(dir)))
    throw new InputError(
      `metrics_textfile_dir must be an absolute path of letters, digits, ".", "_", "-" and "/", got ${JSON.stringify(dir)}`,
      pos,
      "node_exporter's --collector.textfile.directory; Debian's is /var/lib/prometheus/node-exporter",
    );
}

/** Where devices dial a relay: its relay_address (default: where the runner reaches it) and ports. */
function relayEndpoint(inv: Inventory, relay: string, several: boolean, pos: ReturnType<Inventory['hostPos']>) {
  const vars = inv.hosts.get(relay)!.vars;
  if (several && !RELAY_NAME.test(relay))
    throw new InputError(
      `relay name ${JSON.stringify(relay)} cannot name a tunnel unit on the devices`,
      pos,
      'with several relays, name each with letters, digits, ".", "_" and "-" (set its address in ansible_host)',
    );
  // Devices dial the relay where the runner does: its ansible_host, or the HostName ~/.ssh/config gives it.
  const address = String(vars.relay_address ?? sshAddress(relay, vars).address);
  if (!ADDRESS.test(address))
    throw new InputError(
      `relay_address "${address}" is not a host name or IP address`,
      pos,
      'set relay_address to the name or IP devices use to reach the relay',
    );
  checkWatchVars(vars, pos);
  const sshPort = vars.relay_ssh_port ?? RELAY_DEFAULTS.relay_ssh_port;
  return { address, sshPort, sshdPort: vars.relay_sshd_port ?? sshPort };
}

/** relays_per_device (an inventory var, e.g. under all.vars): how many relays each device tunnels to. */
function relaysPerDevice(vars: Record<string, unknown>, pos: ReturnType<Inventory['hostPos']>): number | undefined {
  const v = vars.relays_per_device;
  if (v === undefined || v === null) return undefined;
  if (!(Number.isInteger(Number(v)) && Number(v) >= 1 && String(v).trim() !== ''))
    throw new InputError(
      `relays_per_device must be a whole number, at least 1, got ${JSON.stringify(v)}`,
      pos,
      'leave it unset for a tunnel from every device to every relay',
    );
  return Number(v);
}
