// What the runner knows about each host while a playbook runs.
import type { Via } from '../connection/types.js';
import type { Inventory } from '../inventory/index.js';
import { OPAQUE, RAW } from '../template/expr.js';
import type { Connections } from './connections.js';

export interface HostState {
  name: string;
  /** Registered results and set_fact values: they outlive the play, as in Ansible. */
  facts: Record<string, unknown>;
  failed: boolean;
  unreachable: boolean;
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

export class RunState {
  readonly hosts = new Map<string, HostState>();
  readonly stats = new Map<string, HostStats>();
  /** The run's connections: how each host was reached (`via`), for output. */
  connections?: Connections;

  constructor(readonly inventory: Inventory) {
    for (const name of inventory.hosts.keys()) {
      this.hosts.set(name, { name, facts: {}, failed: false, unreachable: false });
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
    const facts = this.host(name).facts;
    return {
      [RAW]: new Set(Object.keys(facts)),
      ...h.vars,
      ...facts,
      inventory_hostname: name,
      group_names: h.groups.filter((g) => g !== 'all' && g !== 'ungrouped'),
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
