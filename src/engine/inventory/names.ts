// Names that end up in shell commands, file paths and log lines: keep them boring.

/** Host names: letters, digits, `.`, `_`, `-`; may start with a digit (IP addresses), never with `-` or `.`. */
export const HOST_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Group names: like host names but must start with a letter or `_`. */
export const GROUP_NAME_RE = /^[A-Za-z_][A-Za-z0-9._-]*$/;

/** Variable names: identifiers, so templates and `when:` expressions can reference them. */
export const VAR_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// `__proto__` passes the patterns but would rewrite an object's prototype when used as a key.
export function isHostName(name: string): boolean {
  return HOST_NAME_RE.test(name) && name !== '__proto__';
}

export function isGroupName(name: string): boolean {
  return GROUP_NAME_RE.test(name) && name !== '__proto__';
}

export function isVarName(name: string): boolean {
  return VAR_NAME_RE.test(name) && name !== '__proto__';
}
