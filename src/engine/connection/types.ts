import type { Duplex } from 'node:stream';

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

/** How a host was reached: at its own address, this machine, or the name of an application's route (./route.ts). */
export type Via = 'direct' | 'local' | (string & {});

/** What the runner needs from a host: run a shell command line, and hang up. */
export interface Connection {
  readonly host: string;
  readonly via: Via;
  /** The user commands run as without become (the SSH login user), when known. */
  readonly user?: string;
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  /** Start a command that runs until release() closes its input, or until we disconnect. */
  hold(command: string, opts?: RunOptions): Promise<Held>;
  /** A stream to host:port as seen from this host (a route's channel to another host: ./route.ts). */
  forward(host: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
}

/** One command of a batch (./batch.ts): run as the login user, or as another through become. */
export interface OneCommand {
  command: string;
  become: boolean;
  becomeUser?: string;
  /** Sent to the command's standard input (on the exec channel's stdin, never on a command line). */
  stdin?: string;
}

export type ReadRequest = Omit<OneCommand, 'stdin'>;
