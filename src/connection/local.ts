// ansible_connection: local — run on this machine, no SSH.
import { spawn } from 'node:child_process';
import { withBecome } from './become.js';
import type { Connection, RunOptions, RunResult } from './types.js';

export class LocalConnection implements Connection {
  constructor(readonly host: string) {}

  run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    // Already root: sudo to root is pointless and may not even be installed.
    const asRoot = opts.become && (opts.becomeUser ?? 'root') === 'root' && process.getuid?.() === 0;
    const line = asRoot ? command : withBecome(command, opts);
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', line], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({ code: code ?? 255, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
      );
      // A command that exits without reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin ?? '');
    });
  }

  async close(): Promise<void> {}
}
