#!/usr/bin/env node
// Regenerates test/unit/fixtures/ansible-module-docs.json: each option Ansible documents for the modules
// relay-play registers (and the backends its generic service/package run), from `ansible-doc -j`, so
// the unit test that holds relay-play's arguments to them needs no Ansible. Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { builtinModules } from '../dist/src/engine/modules/index.js';
import { ansibleName } from '../dist/test/unit/modules/ansible-name.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test/unit/fixtures/ansible-module-docs.json');
const fqcns = [...new Set(builtinModules.names().map((n) => ansibleName(n)))].sort();

const pick = (o) =>
  Object.fromEntries(
    ['type', 'elements', 'required', 'default', 'choices', 'aliases']
      .filter((k) => o[k] !== undefined && o[k] !== null && !(k === 'required' && o[k] === false))
      .map((k) => [k, o[k]]),
  );

const version = execFileSync('ansible-doc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
const modules = {};
for (const fqcn of fqcns) {
  const doc = JSON.parse(execFileSync('ansible-doc', ['-j', fqcn], { encoding: 'utf8' }))[fqcn].doc;
  const options = doc.options ?? {};
  modules[fqcn] = Object.fromEntries(
    Object.keys(options)
      .sort()
      .map((k) => [k, pick(options[k])]),
  );
}
const text = JSON.stringify({ generator: 'scripts/ansible-module-docs.mjs', ansible: version, modules });
const config = await prettier.resolveConfig(out);
writeFileSync(out, await prettier.format(text, { ...config, filepath: out }));
console.log(`${out}: ${fqcns.length} modules (${version})`);
