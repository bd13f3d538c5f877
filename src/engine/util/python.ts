// How Python prints things Ansible's modules return: str.splitlines(), shlex.quote(), repr(bytes).
// Results must carry the same strings as ansible-core's, which its Python makes.

/** Python's str.splitlines(): \n, \r\n, \r and the other line boundaries; no empty last line. */
export function splitLines(s: string): string[] {
  // eslint-disable-next-line no-control-regex -- Python's line boundaries include \x1c-\x1e.
  const out = s.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (out[out.length - 1] === '') out.pop();
  return out;
}

/** Python's shlex.quote(): safe words as they are, others in single quotes ('"'"' for a quote). */
export function pyQuote(word: string): string {
  if (word === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** Python's repr() of a str encoded as UTF-8 bytes: b'...' (or b"..." when it holds ' and no "). */
export function pyBytesRepr(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = '';
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\';
    else if (b === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `b${quote}${out}${quote}`;
}

const STRERROR: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  13: 'Permission denied',
  17: 'File exists',
  20: 'Not a directory',
  21: 'Is a directory',
};

/** str() of Python's OSError for `path`: "[Errno 2] No such file or directory: b'/x'". */
export function pyOSError(errno: number, path: string): string {
  return `[Errno ${errno}] ${STRERROR[errno] ?? `Unknown error ${errno}`}: ${pyBytesRepr(path)}`;
}
