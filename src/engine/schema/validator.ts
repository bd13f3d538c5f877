// One compiled validator per JSON schema. Compiling with ajv costs ~10 ms a schema, ~150 ms a run,
// so `npm run build` compiles every schema relay-play has ahead of time (scripts/precompile-schemas.mjs
// writes dist/src/schema/precompiled.js). A schema without a precompiled validator — one that changed
// since the build, or any schema when that step was skipped — is compiled here with the same options.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { trace } from '../util/trace.js';
import { precompiled } from './precompiled.js';

/** verbose: errors carry their schema, so a message can list the allowed keys. */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const;

/** A schema's identity: the hash of its JSON, so an edited schema never meets a stale validator. */
export function schemaId(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 20);
}

const cache = new WeakMap<object, ValidateFunction>();

export function validatorFor(schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    const id = schemaId(schema);
    v = precompiled[id] as ValidateFunction | undefined;
    if (!v) {
      trace(`schema ${id} compiled at run time (not precompiled)`);
      v = runtimeAjv().compile(schema);
    }
    cache.set(schema, v);
  }
  return v;
}

type AjvInstance = { compile(schema: object): ValidateFunction };
let ajv: AjvInstance | undefined;

/** ajv itself is loaded only when something has to be compiled now. */
function runtimeAjv(): AjvInstance {
  if (!ajv) {
    const mod = createRequire(import.meta.url)('ajv');
    const Ajv = mod.default ?? mod;
    ajv = new Ajv(AJV_OPTIONS) as AjvInstance;
  }
  return ajv;
}
