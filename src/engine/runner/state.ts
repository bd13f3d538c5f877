// What the runner knows about each host while a playbook runs.
import type { Via } from '../connection/types.js';
import type { Inventory } from '../inventory/index.js';
import type { RoleDef } from '../playbook/types.js';
import { OPAQUE, RAW } from '../template/expr.js';
import type { Connections } from './connections.js';

export interface HostState {
  name: string;
  /** Registered results and set_fact values: they outlive the play, as in Ansible. */
  facts: Record<string, unknown>;
  /** Facts a module found (setup, getent, ...): Ansible's fact cache, under play vars; `ansible_facts` among them. */
  found: Record<string, unknown>;
  /** What include_vars read: under facts and above task vars, as Ansible layers them; they outlive the play. */
  includedVars: Record<string, unknown>;
  failed: boolean;
  unreachable: boolean;
  /** The running play's `vars_files`, as this host read them. */
  playVars: Record<string, unknown>;
  /** Roles include_role brought in with `public: true` in the running play: their defaults and vars are the host's. */
  publicRoles: RoleDef[];
}

export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failures: number;
  skipped: number;
  /** Failures a block's rescue section caught. */
  rescued: number;
  ignored: number;
  /** A host an application routes: how it was reached (`direct`, or the route's name). */
  via?: Via;
}

/** A host as a run first knows it: nothing registered, read or failed yet. */
const freshHost = (name: string): HostState => ({
  name,
  facts: {},
  found: { ansible_facts: {} },
  includedVars: {},
  failed: false,
  unreachable: false,
  playVars: {},
  publicRoles: [],
});

export class RunState {
  readonly hosts = new Map<string, HostState>();
  readonly stats = new Map<string, HostStats>();
  /** What add_host gave each host. */
  private readonly addedVars: Record<string, Record<string, unknown>> = {};
  /** The run's connections: how each host was reached (`via`), for output. */
  connections?: Connections;

  constructor(
    readonly inventory: Inventory,
    /** `-e`: above every other variable, for every host. */
    readonly extraVars: Record<string, unknown> = {},
  ) {
    for (const name of inventory.hosts.keys()) {
      this.hosts.set(name, freshHost(name));
    }
  }

  host(name: string): HostState {
    return this.hosts.get(name)!;
  }

  stat(name: string): HostStats {
    let s = this.stats.get(name);
    if (!s) {
      s = { ok: 0, changed: 0, unreachable: 0, failures: 0, skipped: 0, rescued: 0, ignored: 0 };
      this.stats.set(name, s);
    }
    return s;
  }

  /** Inventory vars overlaid with facts: what `hostvars[name]` shows. */
  hostVars(name: string): Record<string, unknown> {
    const h = this.inventory.hosts.get(name)!;
    const { facts, found, includedVars } = this.host(name);
    const over = [includedVars, facts, this.extraVars];
    return {
      [RAW]: new Set([
        ...Object.keys(facts).filter((k) => !Object.hasOwn(this.extraVars, k)),
        ...Object.keys(found).filter((k) => !over.some((o) => Object.hasOwn(o, k))),
      ]),
      ...h.vars,
      ...found,
      ...includedVars,
      ...facts,
      ...this.extraVars,
      inventory_hostname: name,
      group_names: h.groups.filter((g) => g !== 'all' && g !== 'ungrouped').sort(),
    };
  }

  private hostvars?: Record<string, Record<string, unknown>>;

  /**
   * `hostvars`: every host, each computed on access (so big fleets don't copy everything per task),
   * and one view for the whole run: with 64 hosts, building it per task was a measurable cost.
   */
  hostvarsView(): Record<string, Record<string, unknown>> {
    if (!this.hostvars) {
      // Opaque: each host's templated variables are rendered on access, never the whole view at once.
      const view: Record<string, Record<string, unknown>> = { [OPAQUE]: true } as never;
      for (const name of this.inventory.hosts.keys()) {
        Object.defineProperty(view, name, { get: () => this.hostVars(name), enumerable: true });
      }
      this.hostvars = view;
    }
    return this.hostvars;
  }

  /** group_by: `host` joins `group` (made, under `parents`, if new). */
  addToGroup(host: string, group: string, parents: string[]): void {
    const inv = this.inventory;
    if (!inv.groups.has(group)) inv.groups.set(group, []);
    const members = inv.groups.get(group)!;
    if (!members.includes(host)) members.push(host);
    const h = inv.hosts.get(host);
    this.leaveUngrouped(host);
    if (h && !h.groups.includes(group)) h.groups.push(group);
    for (const p of parents) if (p !== 'all' && !inv.groups.has(p)) inv.groups.set(p, []);
    for (const p of parents) {
      const m = inv.groups.get(p)!;
      if (!m.includes(host)) m.push(host);
      if (h && !h.groups.includes(p)) h.groups.push(p);
    }
  }

  /** A host in a group of its own is no longer `ungrouped`. */
  private leaveUngrouped(host: string): void {
    const u = this.inventory.groups.get('ungrouped');
    if (u?.includes(host)) u.splice(u.indexOf(host), 1);
    const h = this.inventory.hosts.get(host);
    if (h?.groups.includes('ungrouped')) h.groups.splice(h.groups.indexOf('ungrouped'), 1);
  }

  /** add_host: a host (new, or one already known) in `groups`, with `vars` over its own. */
  addHost(name: string, groups: string[], vars: Record<string, unknown>): void {
    const inv = this.inventory;
    let h = inv.hosts.get(name);
    if (!h) {
      h = { name, vars: { ...(inv.groupVars.get('all') ?? {}) }, groups: ['all'] };
      inv.hosts.set(name, h);
      inv.groups.get('all')?.push(name);
      this.hosts.set(name, freshHost(name));
      this.hostvars = undefined;
    }
    Object.assign(h.vars, vars);
    for (const g of groups) {
      if (!inv.groups.has(g)) inv.groups.set(g, []);
      const members = inv.groups.get(g)!;
      if (!members.includes(name)) members.push(name);
      if (!h.groups.includes(g)) h.groups.push(g);
      this.leaveUngrouped(name);
      Object.assign(h.vars, { ...(inv.groupVars.get(g) ?? {}), ...vars });
    }
    // As Ansible: add_host's vars are the host's inventory vars, under its group_vars/ and host_vars/ files.
    const added = (this.addedVars[name] = { ...this.addedVars[name], ...vars });
    if (inv.varsFor) h.vars = inv.varsFor(name, h.groups, added);
  }

  groupsView(): Record<string, string[]> {
    return Object.fromEntries(this.inventory.groups);
  }
}

/** `state` as it will be once `host` has also registered `facts`: a view for working out reads ahead, never for running. */
export function withFactsAhead(state: RunState, host: string, facts: Record<string, unknown>): RunState {
  const view = Object.create(state) as RunState;
  view.host = (name) =>
    name === host ? { ...state.host(name), facts: { ...state.host(name).facts, ...facts } } : state.host(name);
  return view;
}
