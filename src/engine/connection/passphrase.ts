// Asking for a key's passphrase on the terminal, as ssh does: nothing echoed, one question at a time
// (hosts connect in parallel), never stored anywhere but in the caller's memory.

let queue: Promise<unknown> = Promise.resolve();

/** Whether there is a terminal to ask on. */
export function canAsk(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Ask `prompt` on the terminal with echo off; undefined if the user gave up (Ctrl-C, Ctrl-D). */
export function askHidden(prompt: string): Promise<string | undefined> {
  const answer = queue.then(() => readHidden(prompt));
  queue = answer.catch(() => undefined);
  return answer;
}

function readHidden(prompt: string): Promise<string | undefined> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let typed = '';
    const finish = (value: string | undefined, interrupted = false) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolve(value);
      // Raw mode swallowed the Ctrl-C: deliver it as the terminal would have.
      if (interrupted) process.kill(process.pid, 'SIGINT');
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return finish(typed);
        if (c === '\u0003') return finish(undefined, true);
        if (c === '\u0004') return finish(typed || undefined);
        if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
        else if (c === '\u0015') typed = '';
        else if (c >= ' ') typed += c;
      }
    };
    // Echo off before the question shows, so nothing typed in answer is ever echoed.
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.on('data', onData);
    stdin.resume();
  });
}
