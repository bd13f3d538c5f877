// OpenSSH public key lines as sshd reads authorized_keys: [options] type base64-blob [comment].
// The options field may hold quoted strings with commas and spaces (command="a, b").

export interface PublicKey {
  /** Options exactly as written (comma-separated, quotes kept); '' when none. */
  options: string;
  type: string;
  blob: string;
  comment: string;
}

const TYPE_RE = /^(ssh-|ecdsa-|sk-)[A-Za-z0-9@._-]+$/;
const BLOB_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** The key type written inside the blob (uint32 length + name), or undefined if it is not a key blob. */
function blobType(blob: string): string | undefined {
  const buf = Buffer.from(blob, 'base64');
  if (buf.length < 4) return undefined;
  const n = buf.readUInt32BE(0);
  if (n === 0 || n > 64 || buf.length < 4 + n) return undefined;
  return buf.subarray(4, 4 + n).toString('latin1');
}

function keyAt(text: string): { type: string; blob: string; comment: string } | undefined {
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text);
  if (!m || !TYPE_RE.test(m[1]) || !BLOB_RE.test(m[2])) return undefined;
  if (blobType(m[2]) !== m[1]) return undefined;
  return { type: m[1], blob: m[2], comment: (m[3] ?? '').trim() };
}

/** Length of the options field at the start of `text` (up to the first unquoted blank). */
function optionsLength(text: string): number | undefined {
  let quoted = false;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (!quoted && (c === ' ' || c === '\t')) break;
    if (c === '\\' && quoted && text[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
  }
  return quoted ? undefined : i;
}

/** Parse one line; undefined for blank lines, comments and lines that are not keys. */
export function parseKeyLine(line: string): PublicKey | undefined {
  const s = line.replace(/[\r\n]+$/, '').trim();
  if (!s || s.startsWith('#')) return undefined;
  const plain = keyAt(s);
  if (plain) return { options: '', ...plain };
  const n = optionsLength(s);
  if (!n) return undefined;
  const key = keyAt(s.slice(n).trimStart());
  return key ? { options: s.slice(0, n), ...key } : undefined;
}

/** Split an options string at unquoted commas: `a,command="x,y"` → ['a', 'command="x,y"']. */
export function splitOptions(options: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i];
    if (c === '\\' && quoted && options[i + 1] === '"') {
      cur += '\\"';
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new Error(`unbalanced quotes in key options: ${options}`);
  out.push(cur);
  return out.map((o) => o.trim()).filter(Boolean);
}

/** Options normalised for comparison and writing. */
export const normOptions = (options: string) => splitOptions(options).join(',');

export function formatKey(k: PublicKey): string {
  return [k.options, k.type, k.blob, k.comment].filter(Boolean).join(' ');
}

export function sameKey(a: PublicKey, b: PublicKey): boolean {
  return (
    a.blob === b.blob &&
    a.type === b.type &&
    a.comment === b.comment &&
    normOptions(a.options) === normOptions(b.options)
  );
}
