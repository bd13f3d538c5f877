export interface RunOptions {
  /** Sent to the command's standard input. */
  stdin?: string;
  /** Run as root (or becomeUser) through `sudo -n`. */
  become?: boolean;
  becomeUser?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What the runner needs from a host: run a shell command line, and hang up. */
export interface Connection {
  readonly host: string;
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}
