// relay_fleet (relay-play's own module, runs on the relay): read the recorded fleet state and the
// relay's host key in one round trip, decide ports and keys (relay/fleet.ts), record the new state
// atomically, and hand every device and client the facts its templates need.
import { shScript } from '../connection/quote.js';
import { bareKey, deviceEntries, parseFleet, planFleet, serializeFleet, type FleetInput } from '../relay/fleet.js';
import { writeFileStep, contentDiff } from './lib/files.js';
import type { Module } from './types.js';

interface FleetArgs {
  devices: string[];
  clients: string[];
  hostvars: Record<string, Record<string, unknown>>;
  port_base: number | string;
  state_file: string;
  host_key: string;
}

const READ = `cat -- "$1" || exit 1; echo '---relay-play---'; if [ -f "$2" ]; then cat -- "$2"; fi`;

const decodeSlurp = (v: unknown): string | undefined => {
  const content = (v as { content?: unknown } | undefined)?.content;
  return typeof content === 'string' ? Buffer.from(content, 'base64').toString('utf8') : undefined;
};

export const relay_fleet: Module<FleetArgs> & { providesFacts: string[] } = {
  schema: {
    type: 'object',
    properties: {
      devices: { type: 'array', items: { type: 'string' } },
      clients: { type: 'array', items: { type: 'string' } },
      hostvars: { type: 'object' },
      port_base: { type: ['integer', 'string'] },
      state_file: { type: 'string' },
      host_key: { type: 'string' },
    },
    required: ['devices', 'clients', 'hostvars', 'port_base', 'state_file', 'host_key'],
    additionalProperties: false,
  },
  providesFacts: ['tunnel_port', 'relay_host_key', 'relay_devices', 'relay_device_keys', 'relay_client_keys', 'relay_permit', 'relay_client_permitopen'],

  async plan(args, ctx) {
    const r = await ctx.read(shScript(READ, [args.host_key, args.state_file]));
    if (r.code !== 0) return { changed: false, steps: [], failed: `cannot read the relay's host key ${args.host_key}: ${r.stderr.trim()}` };
    const [hostKeyText, stateText = ''] = r.stdout.split('---relay-play---\n');
    const relayHostKey = bareKey(hostKeyText);
    if (!relayHostKey) return { changed: false, steps: [], failed: `no ed25519 host key in ${args.host_key}` };

    const hv = (h: string) => args.hostvars[h] ?? {};
    const input: FleetInput = {
      portBase: Number(args.port_base),
      devices: args.devices.map((name) => ({
        name,
        explicitPort: hv(name).tunnel_port === undefined ? undefined : Number(hv(name).tunnel_port),
        relayKey: (hv(name).relay_key as { public_key?: string } | undefined)?.public_key,
        hostKey: decodeSlurp(hv(name).device_host_key),
        loginUser: hv(name).login_user as string | undefined,
      })),
      clients: args.clients.map((name) => ({ name, jumpKey: (hv(name).jump_key as { public_key?: string } | undefined)?.public_key })),
    };
    let before;
    let next;
    try {
      before = parseFleet(stateText);
      next = planFleet(before, input);
    } catch (e) {
      return { changed: false, steps: [], failed: `${args.state_file}: ${(e as Error).message}` };
    }
    const oldText = stateText.trim() ? serializeFleet(before) : '';
    const newText = serializeFleet(next);
    const changed = oldText !== newText;

    const devices = deviceEntries(next);
    const ready = devices.filter((d) => d.relay_key);
    const clients = Object.keys(next.clients)
      .sort()
      .map((name) => ({ name, jump_key: next.clients[name].jump_key }))
      .filter((c) => c.jump_key);
    // For sshd's Match block and the jump keys: the device ports, or a sentinel when there are none
    // ("localhost:1", never a device port: sshd refuses a literal "none" in key options).
    const listen = devices.map((d) => `localhost:${d.port}`);
    const facts: Record<string, Record<string, unknown>> = {
      [ctx.host]: {
        relay_host_key: relayHostKey,
        relay_device_keys: ready,
        relay_client_keys: clients,
        relay_permit: listen.length ? listen.join(' ') : 'none',
        relay_client_permitopen: (listen.length ? listen : ['localhost:1']).map((l) => `permitopen="${l}"`).join(','),
      },
    };
    for (const d of devices) facts[d.name] = { tunnel_port: d.port, relay_host_key: relayHostKey };
    for (const c of args.clients) facts[c] = { relay_host_key: relayHostKey, relay_devices: devices.filter((d) => d.host_key) };

    return {
      changed,
      steps: changed ? [writeFileStep(args.state_file, newText, { owner: 'root', group: 'root', mode: '0644' })] : [],
      diff: changed ? [contentDiff(args.state_file, oldText, newText)] : [],
      result: { ports: Object.fromEntries(devices.map((d) => [d.name, d.port])) },
      facts,
    };
  },
};
