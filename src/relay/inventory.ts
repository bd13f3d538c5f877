// What `apply` checks in an inventory before touching any host, and the defaults it fills in.
import { InputError } from '../errors.js';
import type { Inventory } from '../inventory/index.js';

export const RELAY_DEFAULTS = { relay_ssh_port: 22, tunnel_port_base: 22221, tunnel_user: 'relay-tunnel' };

const isPort = (v: unknown) => Number.isInteger(Number(v)) && Number(v) >= 1024 && Number(v) <= 65535 && String(v).trim() !== '';
const USER = /^[a-z_][a-z0-9_-]*$/;
const ADDRESS = /^[A-Za-z0-9.:_-]+$/;

export function prepareRelayInventory(inv: Inventory): void {
  // The site playbook refers to both groups; an inventory may leave either out.
  for (const g of ['devices', 'clients']) if (!inv.groups.has(g)) inv.groups.set(g, []);
  const group = (name: string) => inv.groups.get(name) ?? [];
  const relays = group('relay');
  const where = (host?: string) => (host ? inv.hostPos(host) : inv.source.pos([]));
  if (relays.length !== 1) {
    throw new InputError(
      relays.length ? `the "relay" group has ${relays.length} hosts (${relays.join(', ')}); it must have exactly one` : 'the inventory has no host in group "relay"',
      where(relays[1]),
      'put your one static-IP server under all.children.relay.hosts',
    );
  }
  const relay = relays[0];
  for (const role of ['devices', 'clients']) {
    if (group(role).includes(relay)) {
      throw new InputError(`host ${relay} is both the relay and in "${role}"`, where(relay), 'the relay cannot tunnel to itself; list it only under "relay"');
    }
  }
  const relayVars = inv.hosts.get(relay)!.vars;
  const relayAddress = String(relayVars.relay_address ?? relayVars.ansible_host ?? relay);
  if (!ADDRESS.test(relayAddress)) throw new InputError(`relay_address "${relayAddress}" is not a host name or IP address`, where(relay), 'set relay_address to the name or IP devices use to reach the relay');

  const portOwner = new Map<number, string>();
  for (const name of [...new Set([...relays, ...group('devices'), ...group('clients')])]) {
    const vars = inv.hosts.get(name)!.vars;
    const isDevice = group('devices').includes(name);
    for (const [key, value] of Object.entries({ ...RELAY_DEFAULTS, ...vars })) {
      if (['relay_ssh_port', 'tunnel_port_base', 'tunnel_port'].includes(key) && !isPort(value) && !(key === 'relay_ssh_port' && Number(value) >= 1 && Number(value) <= 65535)) {
        throw new InputError(`${key} of ${name} must be a port number from 1024 to 65535, got ${JSON.stringify(value)}`, where(name), `fix ${key}`);
      }
      if (['login_user', 'tunnel_user', 'client_user'].includes(key) && !USER.test(String(value))) {
        throw new InputError(`${key} of ${name} is not a valid user name: ${JSON.stringify(value)}`, where(name), 'use a lower-case Unix user name');
      }
    }
    if (isDevice && vars.tunnel_user === 'root') throw new InputError(`tunnel_user of ${name} is root`, where(name), 'the tunnel must run as an unprivileged user; leave tunnel_user unset');
    if (isDevice && vars.tunnel_port !== undefined) {
      const port = Number(vars.tunnel_port);
      const other = portOwner.get(port);
      if (other) throw new InputError(`devices ${other} and ${name} both use tunnel_port ${port}`, where(name), 'give every device its own tunnel_port, or leave it unset to allocate one');
      portOwner.set(port, name);
    }
    // Fill the defaults the roles need; values set in the inventory are kept.
    const fill = (key: string, value: unknown) => {
      if (vars[key] === undefined) vars[key] = value;
    };
    for (const [k, v] of Object.entries(RELAY_DEFAULTS)) fill(k, v);
    fill('relay_address', relayAddress);
    fill('relay_host', relay);
    fill('relay_ssh_port', relayVars.relay_ssh_port ?? RELAY_DEFAULTS.relay_ssh_port);
    fill('login_user', vars.ansible_user ?? 'root');
    fill('client_user', vars.ansible_user ?? 'root');
  }
}
