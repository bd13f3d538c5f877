// getent: entries of an NSS database (passwd, group, hosts, services, protocols, shadow, ...), as
// Ansible's module returns them: ansible_facts.getent_<database>, each entry's first field its key,
// the rest a list (several entries with one key: a list of them). Read-only, the same in check mode.
import { shellJoin } from '../util/quote.js';
import { splitLines } from '../util/python.js';
import { toBool } from '../util/bool.js';
import type { Module, Plan } from './types.js';
import { boolArg, type BoolArg } from './lib/schema.js';

interface GetentArgs {
  database: string;
  key?: string;
  service?: string;
  split?: string;
  fail_key?: BoolArg;
}

/** Databases whose entries are split on ':' when no `split` is given; others on whitespace. */
const COLON = new Set(['passwd', 'shadow', 'group', 'gshadow']);

/** Python's str.split(sep): on runs of whitespace (ends stripped) without a separator. */
const pySplit = (s: string, sep: string | undefined): string[] =>
  sep === undefined ? s.split(/\s+/).filter(Boolean) : s.split(sep);

/** The entries of getent's output under their keys, as Ansible's module builds them. */
export function getentTree(out: string, split: string | undefined): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  const seen = new Map<string, number>();
  for (const line of splitLines(out)) {
    const record = pySplit(line, split);
    // An empty line splits to nothing on whitespace: Python's record[0] would fail; skip it.
    if (!record.length) continue;
    const [key, ...rest] = record;
    const n = seen.get(key) ?? 0;
    if (n === 0) tree[key] = rest;
    else if (n === 1) tree[key] = [tree[key], rest];
    else (tree[key] as unknown[]).push(rest);
    seen.set(key, n + 1);
  }
  return tree;
}

const DATABASES = [
  'passwd',
  'group',
  'shadow',
  'gshadow',
  'hosts',
  'ahosts',
  'ahostsv4',
  'ahostsv6',
  'services',
  'protocols',
  'networks',
  'rpc',
  'ethers',
  'aliases',
  'netgroup',
  'initgroups',
];

export const getent: Module<GetentArgs, 'entry'> = {
  readOnly: true,
  providesFacts: DATABASES.map((d) => `getent_${d}`),
  schema: {
    type: 'object',
    properties: {
      database: { type: 'string', minLength: 1 },
      key: { type: 'string' },
      service: { type: 'string' },
      split: { type: 'string' },
      fail_key: boolArg,
    },
    required: ['database'],
    additionalProperties: false,
  },
  reads: (args) => ({
    entry: {
      command: shellJoin([
        'getent',
        args.database,
        ...(args.key !== undefined ? [args.key] : []),
        ...(args.service !== undefined ? ['-s', args.service] : []),
      ]),
    },
  }),
  plan(args, ctx, read): Plan {
    const r = read.entry;
    const db = `getent_${args.database}`;
    const split = args.split ?? (COLON.has(args.database) ? ':' : undefined);
    const done = (tree: Record<string, unknown>, extra: Record<string, unknown> = {}): Plan => ({
      changed: false,
      steps: [],
      facts: { [ctx.host]: { [db]: tree } },
      factsFound: true,
      result: { ansible_facts: { [db]: tree }, ...extra },
    });
    if (r.code === 0) return done(getentTree(r.stdout, split));
    let msg = 'Unexpected failure!';
    if (r.code === 1) msg = 'Missing arguments, or database unknown.';
    else if (r.code === 2) {
      msg = 'One or more supplied key could not be found in the database.';
      if (!toBool(args.fail_key, true)) return done({ [args.key ?? 'null']: null }, { msg });
    } else if (r.code === 3) msg = 'Enumeration not supported on this database.';
    return { changed: false, steps: [], failed: msg };
  },
};
