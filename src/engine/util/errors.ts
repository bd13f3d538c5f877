// Error types. Only the CLI's top-level catch prints them and turns them into exit codes.

export interface SourcePos {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/**
 * Bad input (YAML, schema, unknown module or host...), found before any host is touched. `exit` is
 * ansible-playbook's code for it: 4 for what its parser refuses, 2 for a task that could only fail,
 * 1 otherwise (unset: 1).
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly pos?: SourcePos,
    readonly hint?: string,
    public exit?: number,
  ) {
    super(message);
    this.name = 'InputError';
  }

  format(): string {
    const where = this.pos ? `${formatPos(this.pos)}: ` : '';
    return `error: ${where}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

/** Carries a process exit code up to the CLI without calling process.exit deep inside. */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

/** A task failed on a host (module error, failed_when, non-zero command). */
export class TaskFailure extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'TaskFailure';
  }
}

/** The host could not be reached or the SSH connection broke. */
export class UnreachableError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnreachableError';
  }
}

export const EXIT = { ok: 0, input: 1, failed: 2, usage: 2, unreachable: 4, parser: 4, internal: 250 } as const;
