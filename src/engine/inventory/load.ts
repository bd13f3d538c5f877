// Ansible's YAML inventory format: `all:` with nested `hosts:`, `vars:` and `children:`.
import { dirname, resolve } from 'node:path';
import { InputError, type SourcePos } from '../util/errors.js';
import { loadYamlFile, parseYaml, type YamlPath, type YamlSource } from '../yaml/source.js';
import { validateAt } from '../yaml/validate.js';
import { isGroupName, isHostName, isVarName } from './names.js';
import { VarsDirs } from './vars-dirs.js';

export interface Host {
  name: string;
  /** Effective variables: group vars by Ansible precedence, then the host's own vars. */
  vars: Record<string, unknown>;
  /** Every group the host belongs to, including ancestors, `all`, and `ungrouped` when in no other group. */
  groups: string[];
}

export interface Inventory {
  file: string;
  source: YamlSource;
  /** In definition order. */
  hosts: Map<string, Host>;
  /** Every group (incl. `all`, `ungrouped`) → host names, children resolved, inventory order, no duplicates. */
  groups: Map<string, string[]>;
  /** Each group's own vars (several definitions of one group merged, later wins). */
  groupVars: Map<string, Record<string, unknown>>;
  /** Where the host is first defined (its key); the top of the file for an unknown host. */
  hostPos(name: string): SourcePos;
  /**
   * A host's variables as the inventory gives them, for a host add_host makes or puts in groups: `own`
   * as its inventory vars, with its groups' vars and the group_vars/ and host_vars/ files, in Ansible's order.
   */
  varsFor?(name: string, groups: string[], own: Record<string, unknown>): Record<string, unknown>;
}

type Vars = Record<string, unknown>;

const GROUP_KEYS = ['hosts', 'vars', 'children'];

export const INVENTORY_SCHEMA = {
  definitions: {
    group: {
      type: ['object', 'null'],
      properties: {
        hosts: { type: ['object', 'null'], additionalProperties: { type: ['object', 'null'] } },
        vars: { type: ['object', 'null'] },
        children: { type: ['object', 'null'], additionalProperties: { $ref: '#/definitions/group' } },
      },
      additionalProperties: false,
    },
  },
  type: 'object',
  additionalProperties: { $ref: '#/definitions/group' },
};

interface RawGroup {
  hosts?: Record<string, Vars | null> | null;
  vars?: Vars | null;
  children?: Record<string, RawGroup | null> | null;
}

interface GroupDef {
  name: string;
  hosts: string[]; // hosts listed directly
  vars: Vars;
  children: string[];
  parents: string[];
}

interface Edge {
  parent: string;
  child: string;
  pos: SourcePos;
}

export interface InventoryOptions {
  /** The playbook's directory: its group_vars/ and host_vars/ count too, above the inventory's. */
  playbookDir?: string;
}

/** The inventory in `file`, with the group_vars/ and host_vars/ beside it (and beside the playbook). */
export function loadInventory(file: string, opts: InventoryOptions = {}): Inventory {
  const bases = [dirname(resolve(file)), ...(opts.playbookDir ? [resolve(opts.playbookDir)] : [])];
  return build(loadYamlFile(file), bases);
}

/** An inventory from text: no group_vars/ or host_vars/ unless `bases` names where to look. */
export function parseInventory(text: string, file: string, bases: string[] = []): Inventory {
  return build(parseYaml(text, file), bases);
}

function build(src: YamlSource, bases: string[]): Inventory {
  const file = src.file;
  const data = src.toJS();
  if (data === null || data === undefined) {
    throw new InputError(
      `inventory ${file} is empty`,
      { file, line: 1, col: 1 },
      'define your hosts under "all:" → "hosts:"',
    );
  }
  if (typeof data === 'object' && !Array.isArray(data)) {
    for (const key of Object.keys(data)) {
      if (GROUP_KEYS.includes(key)) {
        throw new InputError(
          `"${key}:" at the top level of inventory ${file}: top-level keys are group names`,
          src.pos([key], { key: true }),
          `move it under a group, e.g. "all:" → "${key}:"`,
        );
      }
    }
  }
  try {
    validateAt(INVENTORY_SCHEMA, data, src, [], 'inventory');
  } catch (e) {
    // Name what a group may contain (ajv only reports the schema's properties in verbose mode).
    if (e instanceof InputError && /^unknown key /.test(e.message)) {
      throw new InputError(
        `${e.message} group`,
        e.pos,
        `a group may only contain ${GROUP_KEYS.map((k) => `"${k}:"`).join(', ')}`,
      );
    }
    const m = e instanceof InputError ? /^inventory: "(.*)" must be object,null$/.exec(e.message) : null;
    if (m) {
      const [message, hint] = typeMessage(m[1]);
      throw new InputError(message, (e as InputError).pos, hint);
    }
    throw e;
  }
  const b = new Builder(src, new VarsDirs(bases));
  for (const [name, value] of Object.entries(data as Record<string, RawGroup | null>)) {
    b.checkGroupName(name, [name]);
    b.walkGroup(name, value, [name]);
    if (name !== 'all') b.addEdge('all', name, src.pos([name], { key: true }));
  }
  b.addEdge('all', 'ungrouped', { file, line: 1, col: 1 });
  return b.finish();
}

/** Friendlier wording for ajv's "must be object,null" at a dotted inventory path. */
function typeMessage(path: string): [string, string] {
  if (/\.hosts$/.test(path)) {
    return [
      `"${path}" must be a map of host names`,
      'write one "name:" per line, e.g. "rpi1:" or "rpi1: {ansible_host: 10.0.0.5}"',
    ];
  }
  if (/\.hosts\./.test(path)) {
    return [`"${path}": host vars must be a map`, 'e.g. "rpi1: {ansible_host: 10.0.0.5}", or nothing after "rpi1:"'];
  }
  if (/\.vars$/.test(path)) return [`"${path}" must be a map of variables`, 'e.g. "vars: {ssh_port: 22}"'];
  if (/\.children$/.test(path)) return [`"${path}" must be a map of groups`, 'write one "group:" per line'];
  return [
    `group "${path.split('.').pop()}" must be a map`,
    `a group may contain ${GROUP_KEYS.map((k) => `"${k}:"`).join(', ')}, or be empty`,
  ];
}

class Builder {
  readonly groups = new Map<string, GroupDef>();
  readonly hostOrder: string[] = [];
  readonly hostOwnVars = new Map<string, Vars>();
  readonly hostFirstPos = new Map<string, SourcePos>();
  readonly edges: Edge[] = [];

  constructor(
    readonly src: YamlSource,
    readonly varsDirs: VarsDirs,
  ) {
    this.group('all');
    this.group('ungrouped');
  }

  group(name: string): GroupDef {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: [], vars: {}, children: [], parents: [] };
      this.groups.set(name, g);
    }
    return g;
  }

  addEdge(parent: string, child: string, pos: SourcePos): void {
    const p = this.group(parent);
    const c = this.group(child);
    if (!p.children.includes(child)) {
      p.children.push(child);
      c.parents.push(parent);
      this.edges.push({ parent, child, pos });
    }
  }

  checkGroupName(name: string, path: YamlPath): void {
    if (!isGroupName(name)) {
      throw new InputError(
        `invalid group name "${name}"`,
        this.src.pos(path, { key: true }),
        'group names may contain only letters, digits, ".", "_" and "-", and must start with a letter or "_"',
      );
    }
  }

  checkHostName(name: string, path: YamlPath): void {
    if (!isHostName(name)) {
      throw new InputError(
        `invalid host name "${name}"`,
        this.src.pos(path, { key: true }),
        'host names may contain only letters, digits, ".", "_" and "-" (no spaces, ports or ranges); ' +
          'set ansible_host / ansible_port as host vars for the address',
      );
    }
  }

  mergeVars(into: Vars, vars: Vars | null | undefined, path: YamlPath): void {
    if (!vars) return;
    for (const [k, v] of Object.entries(vars)) {
      if (!isVarName(k)) {
        throw new InputError(
          `invalid variable name "${k}"`,
          this.src.pos([...path, k], { key: true }),
          'variable names must be identifiers: letters, digits and "_", not starting with a digit',
        );
      }
      into[k] = v; // replaced whole, never deep-merged
    }
  }

  walkGroup(name: string, value: RawGroup | null, path: YamlPath): void {
    const g = this.group(name);
    if (!value) return;
    this.mergeVars(g.vars, value.vars, [...path, 'vars']);
    for (const [host, hv] of Object.entries(value.hosts ?? {})) {
      const hpath = [...path, 'hosts', host];
      this.checkHostName(host, hpath);
      if (!this.hostOwnVars.has(host)) {
        this.hostOrder.push(host);
        this.hostOwnVars.set(host, {});
        this.hostFirstPos.set(host, this.src.pos(hpath, { key: true }));
      }
      this.mergeVars(this.hostOwnVars.get(host)!, hv, hpath);
      if (!g.hosts.includes(host)) g.hosts.push(host);
    }
    for (const [child, cv] of Object.entries(value.children ?? {})) {
      const cpath = [...path, 'children', child];
      this.checkGroupName(child, cpath);
      const pos = this.src.pos(cpath, { key: true });
      if (child === 'all') {
        throw new InputError(
          `group "all" cannot be a child of "${name}"`,
          pos,
          '"all" contains every group already; remove it here',
        );
      }
      this.addEdge(name, child, pos);
      this.walkGroup(child, cv, cpath);
    }
  }

  /** A group that is its own ancestor → error at the child entry that closes the loop. */
  checkCycles(): void {
    const state = new Map<string, 'active' | 'done'>();
    const stack: string[] = [];
    const visit = (name: string): void => {
      state.set(name, 'active');
      stack.push(name);
      for (const child of this.groups.get(name)!.children) {
        const s = state.get(child);
        if (s === 'active') {
          const edge = this.edges.find((e) => e.parent === name && e.child === child)!;
          const loop = [...stack.slice(stack.indexOf(child)), child].join(' → ');
          throw new InputError(
            `group "${child}" is its own ancestor (${loop})`,
            edge.pos,
            `remove "${child}" from the children of "${name}"`,
          );
        }
        if (s === undefined) visit(child);
      }
      stack.pop();
      state.set(name, 'done');
    };
    visit('all');
  }

  finish(): Inventory {
    const src = this.src;
    this.checkCycles();

    for (const host of this.hostOrder) {
      if (this.groups.has(host)) {
        throw new InputError(
          `"${host}" is both a host and a group`,
          this.hostFirstPos.get(host),
          'rename the host or the group: host patterns would be ambiguous',
        );
      }
    }

    // Depth = longest path from `all` (as Ansible computes it); deeper groups' vars win.
    const depth = new Map<string, number>();
    const depthOf = (name: string): number => {
      let d = depth.get(name);
      if (d === undefined) {
        const parents = this.groups.get(name)!.parents;
        d = parents.length ? Math.max(...parents.map((p) => depthOf(p) + 1)) : 0;
        depth.set(name, d);
      }
      return d;
    };

    // Hosts in no group besides all/ungrouped belong to ungrouped.
    const direct = new Map<string, Set<string>>(this.hostOrder.map((h) => [h, new Set<string>()]));
    for (const g of this.groups.values()) for (const h of g.hosts) direct.get(h)!.add(g.name);
    const ungrouped = this.groups.get('ungrouped')!;
    ungrouped.hosts = this.hostOrder.filter((h) => [...direct.get(h)!].every((g) => g === 'all' || g === 'ungrouped'));

    const index = new Map(this.hostOrder.map((h, i) => [h, i]));
    const resolved = new Map<string, Set<string>>();
    const resolve = (name: string): Set<string> => {
      let set = resolved.get(name);
      if (!set) {
        const g = this.groups.get(name)!;
        set = new Set(g.hosts);
        for (const c of g.children) for (const h of resolve(c)) set.add(h);
        resolved.set(name, set);
      }
      return set;
    };
    resolved.set('all', new Set(this.hostOrder));

    const groups = new Map<string, string[]>();
    const groupVars = new Map<string, Vars>();
    for (const g of this.groups.values()) {
      groups.set(
        g.name,
        [...resolve(g.name)].sort((a, b) => index.get(a)! - index.get(b)!),
      );
      groupVars.set(g.name, g.vars);
    }

    const hosts = new Map<string, Host>();
    for (const name of this.hostOrder) {
      const member = [...groups.keys()].filter((g) => resolved.get(g)!.has(name));
      const byPrecedence = [...member].sort((a, b) => depthOf(a) - depthOf(b) || (a < b ? -1 : a > b ? 1 : 0));
      hosts.set(name, { name, vars: this.hostVars(name, byPrecedence), groups: member });
    }

    const firstPos = this.hostFirstPos;
    return {
      file: src.file,
      source: src,
      hosts,
      groups,
      groupVars,
      hostPos: (name: string) => firstPos.get(name) ?? { file: src.file, line: 1, col: 1 },
      varsFor: (name, member, own) => {
        // A group add_host made is a child of all.
        const depthIn = (g: string) => (this.groups.has(g) ? depthOf(g) : 1);
        const byPrecedence = [...member].sort((a, b) => depthIn(a) - depthIn(b) || (a < b ? -1 : a > b ? 1 : 0));
        return this.hostVars(name, byPrecedence, own, groupVars);
      },
    };
  }

  /**
   * A host's variables in Ansible's default order, lowest first: the inventory's `all` vars, its other
   * groups' (shallow before deep, then by name); group_vars/all beside the inventory, then beside the
   * playbook; the other groups' group_vars, likewise; the host's own vars; its host_vars, likewise.
   */
  private hostVars(name: string, groups: string[], own?: Vars, groupVars?: Map<string, Vars>): Vars {
    const vars: Vars = {};
    const { bases } = this.varsDirs;
    for (const g of groups) Object.assign(vars, groupVars ? groupVars.get(g) : this.groups.get(g)!.vars);
    for (const base of bases) Object.assign(vars, this.varsDirs.of(base, 'group_vars', 'all'));
    for (const base of bases)
      for (const g of groups) if (g !== 'all') Object.assign(vars, this.varsDirs.of(base, 'group_vars', g));
    Object.assign(vars, this.hostOwnVars.get(name), own);
    for (const base of bases) Object.assign(vars, this.varsDirs.of(base, 'host_vars', name));
    return vars;
  }
}
