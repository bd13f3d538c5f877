// Every module relay-play registers takes every argument (and alias) Ansible documents for it, or refuses
// it by name with a reason (Module.refused, repeated in docs/playbooks.md); it takes nothing Ansible
// does not, and its choices are Ansible's. The documentation is ansible-doc's, kept in a fixture
// (regenerate: npm run build && node scripts/ansible-module-docs.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { builtinModules } from '../../../src/engine/modules/index.js';
import { argProblems } from '../../../src/engine/modules/args.js';
import { boolArg } from '../../../src/engine/modules/lib/schema.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { ansibleName } from './ansible-name.js';

interface DocOption {
  type?: string;
  default?: unknown;
  choices?: unknown[];
  aliases?: string[];
}
const fixture = fileURLToPath(new URL('../../../../test/unit/fixtures/ansible-module-docs.json', import.meta.url));
const docs = (JSON.parse(readFileSync(fixture, 'utf8')) as { modules: Record<string, Record<string, DocOption>> })
  .modules;
const docsMd = readFileSync(fileURLToPath(new URL('../../../../docs/playbooks.md', import.meta.url)), 'utf8');

/**
 * Arguments relay-play takes that Ansible's documentation leaves out, though its modules take them
 * (each checked with ansible-playbook 2.14).
 */
const undocumented: Record<string, Record<string, string>> = {
  'ansible.builtin.command': { executable: "in command's argument spec: warned of and ignored" },
  'ansible.builtin.shell': { strip_empty_ends: 'shell runs the command module, which takes it' },
  'ansible.builtin.stat': { get_md5: "in stat's argument spec (md5 returned)" },
  'ansible.builtin.get_url': { thirsty: "in get_url's argument spec, an alias of force" },
};

/** Names the documentation gives a module's free form (relay-play's `_raw`) or its free keys. */
const FREE = new Set(['free_form', 'free-form', 'key_value']);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- modules of every argument type
type AnyModule = Module<any>;

/** Each module once, with the Ansible modules its registry names stand for. */
function modules(): [AnyModule, string[]][] {
  const byModule = new Map<AnyModule, Set<string>>();
  for (const name of builtinModules.names()) {
    const mod = builtinModules.get(name)!;
    if (!byModule.has(mod)) byModule.set(mod, new Set());
    byModule.get(mod)!.add(ansibleName(name));
  }
  return [...byModule].map(([mod, names]) => [mod, [...names].sort()]);
}

/** The documented options of a module's Ansible names, each name or alias with its option. */
function documented(fqcns: string[]): Map<string, DocOption & { option: string }> {
  const out = new Map<string, DocOption & { option: string }>();
  for (const fqcn of fqcns) {
    const options = docs[fqcn];
    assert.ok(options, `${fqcn} is not in the fixture: regenerate it`);
    for (const [option, doc] of Object.entries(options))
      for (const name of [option, ...(doc.aliases ?? [])]) {
        // A generic module's option and its backend's (package's state, apt's): the choices of both.
        const had = out.get(name);
        const choices =
          had?.choices && doc.choices ? [...new Set([...had.choices, ...doc.choices])] : (had?.choices ?? doc.choices);
        out.set(name, { ...had, ...doc, option, choices });
      }
  }
  return out;
}

const properties = (mod: AnyModule) =>
  (mod.schema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {};
const closed = (mod: AnyModule) => (mod.schema as { additionalProperties?: unknown }).additionalProperties === false;
const accepts = (mod: AnyModule, name: string) =>
  Object.hasOwn(properties(mod), name) || (FREE.has(name) && (mod.freeForm === true || !closed(mod)));

const label = (fqcns: string[]) => fqcns.join(' / ');

test('every documented argument and alias is taken, or refused with a reason', () => {
  const missing: string[] = [];
  for (const [mod, fqcns] of modules()) {
    for (const name of documented(fqcns).keys()) {
      if (!accepts(mod, name) && !mod.refused?.[name]) missing.push(`${label(fqcns)}: ${name}`);
    }
  }
  assert.deepEqual(missing, [], 'neither taken nor in the module’s refused table');
});

test('no argument is taken that Ansible does not take', () => {
  const extra: string[] = [];
  for (const [mod, fqcns] of modules()) {
    const doc = documented(fqcns);
    const more = Object.assign({}, ...fqcns.map((f) => undocumented[f] ?? {})) as Record<string, string>;
    for (const name of Object.keys(properties(mod)))
      if (name !== '_raw' && !doc.has(name) && !more[name]) extra.push(`${label(fqcns)}: ${name}`);
  }
  assert.deepEqual(extra, []);
});

test('each refusal is of a documented argument or choice, not taken, and says why by name', () => {
  const unnamed: string[] = [];
  for (const [mod, fqcns] of modules()) {
    const doc = documented(fqcns);
    for (const [key, reason] of Object.entries(mod.refused ?? {})) {
      const at = `${label(fqcns)}: ${key}`;
      assert.ok(reason.length >= 8, `${at}: a reason`);
      const [name, value] = key.split('=');
      assert.ok(doc.has(name), `${at}: not documented by Ansible`);
      if (value === undefined) {
        assert.ok(!Object.hasOwn(properties(mod), name), `${at}: refused yet in the schema`);
      } else {
        assert.ok(doc.get(name)!.choices?.map(String).includes(value), `${at}: not one of Ansible's choices`);
      }
      const problems = argProblems(mod, fqcns[0], { [name]: value ?? 'x' });
      assert.ok(
        problems.some((p) => p.message.includes(`"${name}"`) && p.message.includes(reason)),
        `${at}: refused by name with its reason, got ${JSON.stringify(problems)}`,
      );
      // docs/playbooks.md names what is refused, in a row of the module's (its table row, or the refusals').
      const rows = docsMd.split('\n').filter((l) => fqcns.some((f) => l.startsWith(`| \`${short(f)}\``)));
      if (!rows.some((row) => row.includes(`\`${name}\``))) unnamed.push(at);
    }
  }
  assert.deepEqual(unnamed, [], "refused, not named in docs/playbooks.md's row for the module");
});

const short = (fqcn: string) => fqcn.split('.').pop()!;

const isBoolArg = (spec: Record<string, unknown>) => JSON.stringify(spec.enum) === JSON.stringify(boolArg.enum);

test("choices are Ansible's, each taken or refused; defaults declared are Ansible's", () => {
  const wrong: string[] = [];
  for (const [mod, fqcns] of modules()) {
    const doc = documented(fqcns);
    for (const [name, spec] of Object.entries(properties(mod))) {
      const d = doc.get(name);
      if (!d) continue;
      const at = `${label(fqcns)}: ${name}`;
      if (Array.isArray(spec.enum) && !isBoolArg(spec) && d.choices) {
        const choices = d.choices.map(String);
        for (const v of spec.enum) if (!choices.includes(String(v))) wrong.push(`${at}: takes ${v}, not a choice`);
        for (const c of choices)
          if (!spec.enum.map(String).includes(c) && !mod.refused?.[`${name}=${c}`])
            wrong.push(`${at}: choice ${c} neither taken nor refused`);
      }
      if (spec.default !== undefined && d.default !== undefined && String(spec.default) !== String(d.default))
        wrong.push(`${at}: default ${String(spec.default)}, Ansible's ${String(d.default)}`);
    }
  }
  assert.deepEqual(wrong, []);
});
