// Ansible's actions that belong to the playbook language rather than to a host: `meta` (the runner
// acts on it: src/engine/runner/play.ts), `group_by` and `add_host` (their results change the run's
// inventory, applied by the runner), `include_vars` (a variables file on this machine, as facts),
// `set_stats`. None reads or changes a host; their results are Ansible's.
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { parse } from 'yaml';
import { PYYAML } from '../yaml/pyyaml.js';
import type { Module, Plan } from './types.js';

const META_ACTIONS = [
  'noop',
  'flush_handlers',
  'refresh_inventory',
  'clear_facts',
  'clear_host_errors',
  'end_play',
  'end_host',
  'end_batch',
  'reset_connection',
];

export const meta: Module<{ _raw?: string; free_form?: string }> = {
  schema: {
    type: 'object',
    properties: { _raw: { enum: META_ACTIONS }, free_form: { enum: META_ACTIONS } },
    additionalProperties: false,
  },
  freeForm: true,
  plan: (): Plan => ({ changed: false, steps: [] }),
};

const asList = (v: unknown): string[] =>
  v === undefined || v === null
    ? []
    : Array.isArray(v)
      ? v.map(String)
      : String(v)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);

export const group_by: Module<{ key: string; parents?: unknown }> = {
  schema: {
    type: 'object',
    properties: { key: { type: 'string', minLength: 1 }, parents: {} },
    required: ['key'],
    additionalProperties: false,
  },
  plan: (args): Plan => {
    const parents = args.parents === undefined ? ['all'] : asList(args.parents);
    return {
      changed: true,
      steps: [],
      result: { add_group: args.key.replace(/[^A-Za-z0-9_]/g, '_'), parent_groups: parents },
    };
  },
};

const groupsArg = { type: ['string', 'array'] };

export const add_host: Module<Record<string, unknown>> = {
  schema: {
    type: 'object',
    // Any other argument is a variable of the host.
    properties: {
      name: { type: 'string', minLength: 1 },
      hostname: { type: 'string' },
      host: { type: 'string' },
      groups: groupsArg,
      group: groupsArg,
      groupname: groupsArg,
    },
    anyOf: [{ required: ['name'] }, { required: ['hostname'] }, { required: ['host'] }],
  },
  plan: (args): Plan => {
    const { name, hostname, host, groups, group, groupname, ...vars } = args;
    const hostName = String(name ?? hostname ?? host);
    return {
      changed: true,
      steps: [],
      result: {
        add_host: {
          host_name: hostName,
          groups: asList(groups ?? group ?? groupname),
          host_vars: vars,
        },
      },
    };
  },
};

interface IncludeVarsArgs {
  _raw?: string;
  file?: string;
  dir?: string;
  name?: string;
  depth?: number;
  files_matching?: string;
  ignore_files?: string[];
  extensions?: string[];
  ignore_unknown_extensions?: unknown;
  hash_behaviour?: string;
}

function readVars(file: string): Record<string, unknown> {
  const data = parse(readFileSync(file, 'utf8'), PYYAML) as unknown;
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${file} must be stored as a dictionary/hash`);
  return data as Record<string, unknown>;
}

/** `include_vars: FILE` (or `file:`, or `dir:`): a YAML or JSON file of this machine's, as the host's variables. */
export const include_vars: Module<IncludeVarsArgs> = {
  schema: {
    type: 'object',
    properties: {
      _raw: { type: 'string' },
      file: { type: 'string' },
      dir: { type: 'string' },
      name: { type: 'string' },
      depth: { type: 'integer', minimum: 0 },
      files_matching: { type: 'string' },
      ignore_files: { type: 'array', items: { type: 'string' } },
      extensions: { type: 'array', items: { type: 'string' } },
      ignore_unknown_extensions: {},
      hash_behaviour: { enum: ['replace', 'merge'] },
    },
    additionalProperties: false,
  },
  freeForm: true,
  plan: (args, ctx): Plan => {
    const fail = (msg: string): Plan => ({ changed: false, steps: [], failed: msg, result: { ansible_facts: {} } });
    const files: string[] = [];
    const exts = args.extensions ?? ['yaml', 'yml', 'json'];
    if (args.dir !== undefined) {
      let dir: string;
      try {
        dir = isAbsolute(args.dir) ? args.dir : ctx.resolveLocal(args.dir, 'vars');
      } catch {
        return fail(`${args.dir} directory does not exist`);
      }
      const walk = (d: string, depth: number) => {
        for (const e of readdirSync(d).sort()) {
          const p = join(d, e);
          if (statSync(p).isDirectory()) {
            if (!args.depth || depth < args.depth) walk(p, depth + 1);
          } else if (
            exts.some((x) => e.endsWith(`.${x}`)) &&
            !(args.ignore_files ?? []).includes(e) &&
            (!args.files_matching || new RegExp(args.files_matching).test(e))
          )
            files.push(p);
        }
      };
      if (!existsSync(dir)) return fail(`${args.dir} directory does not exist`);
      walk(dir, 1);
    } else {
      const name = args.file ?? args._raw;
      if (!name) return fail('No file was found when using include_vars');
      let file: string;
      try {
        file = ctx.resolveLocal(name, 'vars');
      } catch {
        return fail(`Could not find or access '${name}'`);
      }
      files.push(file);
    }
    let facts: Record<string, unknown> = {};
    try {
      for (const f of files) facts = { ...facts, ...readVars(f) };
    } catch (e) {
      return fail((e as Error).message);
    }
    if (args.name) facts = { [args.name]: facts };
    return {
      changed: false,
      steps: [],
      includedVars: facts,
      result: { ansible_facts: facts, ansible_included_var_files: files },
    };
  },
};

export const set_stats: Module<{ data: Record<string, unknown>; per_host?: unknown; aggregate?: unknown }> = {
  schema: {
    type: 'object',
    properties: { data: { type: 'object' }, per_host: {}, aggregate: {} },
    required: ['data'],
    additionalProperties: false,
  },
  plan: (args): Plan => ({
    changed: false,
    steps: [],
    result: {
      ansible_stats: {
        aggregate: args.aggregate === undefined ? true : Boolean(args.aggregate),
        data: args.data,
        per_host: Boolean(args.per_host ?? false),
      },
    },
  }),
};
