// Booleans as Ansible reads them in playbooks, inventories and module arguments.

const TRUE = new Set(['true', 'yes', 'on', 'y', 't', '1']);
const FALSE = new Set(['false', 'no', 'off', 'n', 'f', '0']);

/** A boolean as Ansible reads one (true/false, yes/no, on/off, 1/0, any case); undefined if it is none. */
export function ansibleBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  const s = String(value).trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
}

/**
 * A boolean argument or keyword: `dflt` when unset, else as ansibleBool reads it. Quoted or
 * templated, Ansible's `yes`/`no` arrive as text.
 */
export function toBool(v: unknown, dflt: boolean): boolean;
export function toBool(v: unknown, dflt?: boolean): boolean | undefined;
export function toBool(v: unknown, dflt?: boolean): boolean | undefined {
  if (v === undefined || v === null) return dflt;
  const b = ansibleBool(v);
  if (b === undefined) throw new Error(`expected a boolean, got ${JSON.stringify(v)}`);
  return b;
}
