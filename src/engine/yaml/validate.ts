// JSON-schema validation (ajv) whose first error is reported at its YAML position.
import type { ErrorObject } from 'ajv';
import { InputError } from '../util/errors.js';
import { validatorFor } from '../schema/validator.js';
import { plainDeep } from '../util/pyfloat.js';
import type { YamlPath, YamlSource } from './source.js';

/** Throws an InputError naming file:line:col and what to fix; returns silently when valid. */
export function validateAt(schema: object, value: unknown, src: YamlSource, base: YamlPath, what: string): void {
  const validate = validatorFor(schema);
  // A whole float (`pause: 1.0`) is a number object; the schema asks for numbers.
  if (validate(plainDeep(value))) return;
  const err = pickError(validate.errors ?? []);
  const path = [...base, ...pointerToPath(err.instancePath)];
  if (err.keyword === 'additionalProperties') {
    const key = (err.params as { additionalProperty: string }).additionalProperty;
    const allowed = Object.keys((err.parentSchema as { properties?: object })?.properties ?? {});
    throw new InputError(
      `unknown key "${key}" in ${what}`,
      src.pos([...path, key], { key: true }),
      allowed.length ? `allowed keys: ${allowed.join(', ')}` : 'remove it',
    );
  }
  const at = err.instancePath ? `"${err.instancePath.slice(1).replace(/\//g, '.')}" ` : '';
  throw new InputError(
    `${what}: ${at}${describe(err)}`,
    src.pos(path),
    'see docs/inventory.md and docs/playbooks.md for the format',
  );
}

/** Prefer the most specific error: ajv lists oneOf/anyOf noise after the real cause. */
function pickError(errors: ErrorObject[]): ErrorObject {
  const real = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if');
  const list = real.length ? real : errors;
  return list.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
}

function describe(err: ErrorObject): string {
  switch (err.keyword) {
    case 'type':
      return `must be ${(err.params as { type: string }).type}`;
    case 'enum':
      return `must be one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'required':
      return `missing required key "${(err.params as { missingProperty: string }).missingProperty}"`;
    default:
      return err.message ?? 'is invalid';
  }
}

function pointerToPath(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
