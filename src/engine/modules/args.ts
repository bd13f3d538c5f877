// Check a task's module arguments against the module's schema, giving one readable message.
import type { ErrorObject } from 'ajv';
import { validatorFor } from '../schema/validator.js';
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
  const validate = validatorFor(mod.schema);
  if (validate(args)) return [];
  const errors = (validate.errors ?? []).filter((e) => !(allowTemplates && isTemplateError(e, args)));
  const specific = errors.filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  return (specific.length ? specific : errors).map((e) => toProblem(e, name));
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
