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

/** A command kept running (e.g. a lock holder): its first output line, and a way to end it. */
export interface Held {
  /** First line of output, or '' if it exited first. */
  firstLine: string;
  /** Exit code if it already ended (e.g. lock not obtained), else undefined. */
  exitCode?: number;
  /** Close its standard input; the command is expected to exit then. */
  release(): Promise<void>;
}

/** What the runner needs from a host: run a shell command line, and hang up. */
export interface Connection {
  readonly host: string;
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  /** Start a command that runs until release() closes its input, or until we disconnect. */
  hold(command: string, opts?: RunOptions): Promise<Held>;
  close(): Promise<void>;
}
