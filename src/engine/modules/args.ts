// Check a task's module arguments against the module's schema, giving one readable message.
import type { ErrorObject } from 'ajv';
import { validatorFor } from '../schema/validator.js';
import { PyFloat } from '../util/pyfloat.js';
import { PyDate } from '../util/pydate.js';
import type { Module } from './types.js';

export interface ArgProblem {
  message: string;
  /** Path below the module's args, for positions. */
  path: string[];
}

const valueAt = (data: unknown, path: string[]) =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), data);

/**
 * Problems with `args`; with `allowTemplates`, a "{{ }}" string is accepted where another type
 * is expected (it is only known at run time), so this can run before any host is touched.
 */
export function argProblems(mod: Module, name: string, args: unknown, allowTemplates = false): ArgProblem[] {
  const refusal = refusedArg(mod, name, args);
  if (refusal) return [refusal];
  coerceNumbers(mod.schema, args);
  const validate = validatorFor(mod.schema);
  if (validate(args)) return [];
  const errors = (validate.errors ?? []).filter((e) => !(allowTemplates && isTemplateError(e, args)));
  const specific = errors.filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  return (specific.length ? specific : errors).map((e) => toProblem(e, name));
}

/** The first argument (or argument's value) of `args` the module refuses, with its reason. */
function refusedArg(mod: Module, name: string, args: unknown): ArgProblem | undefined {
  if (!mod.refused || !args || typeof args !== 'object' || Array.isArray(args)) return undefined;
  for (const [k, v] of Object.entries(args)) {
    const reason = mod.refused[k];
    if (reason !== undefined)
      return { message: `unsupported argument "${k}" for module ${name}: ${reason}`, path: [k] };
    const choice = typeof v === 'string' || typeof v === 'number' ? mod.refused[`${k}=${v}`] : undefined;
    if (choice !== undefined)
      return {
        message: `unsupported value ${JSON.stringify(v)} of argument "${k}" for module ${name}: ${choice}`,
        path: [k],
      };
  }
  return undefined;
}

/**
 * A template's result is text unless it is a list, dict or boolean (as in ansible-core 2.14), so
 * `verbosity: "{{ level | int }}"` arrives as "2": where the schema asks for a number, and not for
 * text, numeric text becomes the number — Ansible's argument spec converts it the same way.
 */
function coerceNumbers(schema: unknown, args: unknown): void {
  const props = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  if (!props || !args || typeof args !== 'object' || Array.isArray(args)) return;
  const a = args as Record<string, unknown>;
  for (const [k, spec] of Object.entries(props)) {
    let v = a[k];
    // A date reaches Ansible's module as its JSON: isoformat() text.
    if (v instanceof PyDate) v = a[k] = v.isoformat();
    const types = Array.isArray(spec?.type) ? (spec.type as unknown[]) : [spec?.type];
    // A whole float (YAML's `2.0`) is a number object: to a module, a number.
    if (v instanceof PyFloat && (types.includes('number') || types.includes('integer'))) a[k] = v.valueOf();
    if (typeof v !== 'string' || !Object.hasOwn(a, k)) continue;
    if (types.includes('string')) continue;
    if (types.includes('integer') && /^\s*[-+]?\d+\s*$/.test(v)) a[k] = Number(v);
    else if (types.includes('number') && v.trim() !== '' && !Number.isNaN(Number(v))) a[k] = Number(v);
  }
}

function isTemplateError(e: ErrorObject, args: unknown): boolean {
  const v = valueAt(args, pointer(e.instancePath));
  return (
    typeof v === 'string' &&
    v.includes('{{') &&
    ['type', 'enum', 'pattern', 'minimum', 'maximum', 'oneOf', 'anyOf'].includes(e.keyword)
  );
}

function pointer(p: string): string[] {
  return p
    ? p
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    : [];
}

function toProblem(e: ErrorObject, name: string): ArgProblem {
  const path = pointer(e.instancePath);
  const at = path.length ? `argument "${path.join('.')}" ` : '';
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return {
        message: `unsupported argument "${params.additionalProperty}" for module ${name}`,
        path: [...path, String(params.additionalProperty)],
      };
    case 'required':
      return { message: `module ${name} needs argument "${params.missingProperty}"`, path };
    case 'enum':
      return {
        message: `${at}must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        path,
      };
    case 'type':
      return { message: `${at}must be ${params.type}`, path };
    default:
      return { message: `${at || `arguments of ${name} `}${e.message}`, path };
  }
}
