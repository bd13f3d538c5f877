// ansible_connection: local — run on this machine, no SSH.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { withBecome } from './become.js';
import type { Connection, Held, RunOptions, RunResult } from './types.js';

export class LocalConnection implements Connection {
  readonly via = 'local' as const;
  constructor(readonly host: string) {}

  private line(command: string, opts: RunOptions): string {
    // Already root: sudo to root is pointless and may not even be installed.
    const asRoot = opts.become && (opts.becomeUser ?? 'root') === 'root' && process.getuid?.() === 0;
    return asRoot ? command : withBecome(command, opts);
  }

  hold(command: string, opts: RunOptions = {}): Promise<Held> {
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', this.line(command, opts)], { stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      let done = false;
      const release = async () => {
        child.stdin.end();
      };
      child.stdin.on('error', () => undefined);
      child.on('error', reject);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (!done && out.includes('\n')) {
          done = true;
          resolve({ firstLine: out.split('\n')[0], release });
        }
      });
      child.on('exit', (code) => {
        if (!done) {
          done = true;
          resolve({ firstLine: out.split('\n')[0] ?? '', exitCode: code ?? 255, release });
        }
      });
    });
  }

  run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    const line = this.line(command, opts);
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', line], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({
          code: code ?? 255,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
      // A command that exits without reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin ?? '');
    });
  }

  forward(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port }, () => resolve(s));
      s.once('error', reject);
    });
  }

  async close(): Promise<void> {}
}
