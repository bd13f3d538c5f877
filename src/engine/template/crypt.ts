// crypt(3) password hashes for the `password_hash` filter: SHA-512 and SHA-256 crypt (Ulrich Drepper's
// published specification) and MD5 crypt, as glibc's crypt() gives them — what ansible-core uses when
// passlib is absent (Debian's ansible: no passlib). bcrypt needs a library: refused.
import { createHash, randomInt } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[w & 0x3f];
    w >>= 6;
  }
  return out;
}

export function randomSalt(size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) s += ITOA64[randomInt(64)];
  return s;
}

/** A new hash object of `algo` fed with `parts`. */
function digest(algo: string, ...parts: Buffer[]): Buffer {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return h.digest();
}

function repeatTo(b: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = b[i % b.length];
  return out;
}

const SHA_ORDER: Record<'sha256' | 'sha512', { id: string; len: number; groups: number[][]; tail: number[] }> = {
  sha512: {
    id: '6',
    len: 64,
    // glibc's order: (0,21,42) (22,43,1) (44,2,23) (3,24,45) ... rotating through the three lanes.
    groups: Array.from({ length: 21 }, (_, i) => {
      const lanes = [i, i + 21, i + 42];
      const r = i % 3;
      return [lanes[r], lanes[(r + 1) % 3], lanes[(r + 2) % 3]];
    }),
    tail: [63],
  },
  sha256: {
    id: '5',
    len: 32,
    groups: [
      [0, 10, 20],
      [21, 1, 11],
      [12, 22, 2],
      [3, 13, 23],
      [24, 4, 14],
      [15, 25, 5],
      [6, 16, 26],
      [27, 7, 17],
      [18, 28, 8],
      [9, 19, 29],
    ],
    tail: [31, 30],
  },
};

/** SHA-256/512 crypt: `$5$`/`$6$`, `rounds=` shown only when not the default 5000. */
export function shaCrypt(algo: 'sha256' | 'sha512', password: string, salt: string, rounds?: number): string {
  const spec = SHA_ORDER[algo];
  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 16), 'utf8');
  const r = rounds === undefined ? 5000 : Math.min(Math.max(rounds, 1000), 999_999_999);
  const b = digest(algo, p, s, p);
  const a = createHash(algo);
  a.update(p);
  a.update(s);
  let cnt = p.length;
  for (; cnt > spec.len; cnt -= spec.len) a.update(b);
  a.update(b.subarray(0, cnt));
  for (cnt = p.length; cnt > 0; cnt >>= 1) a.update(cnt & 1 ? b : p);
  let c = a.digest();
  const dp = digest(algo, ...Array<Buffer>(p.length).fill(p));
  const pseq = repeatTo(dp, p.length);
  const ds = digest(algo, ...Array<Buffer>(16 + c[0]).fill(s));
  const sseq = repeatTo(ds, s.length);
  for (let i = 0; i < r; i++) {
    const h = createHash(algo);
    h.update(i & 1 ? pseq : c);
    if (i % 3) h.update(sseq);
    if (i % 7) h.update(pseq);
    h.update(i & 1 ? c : pseq);
    c = h.digest();
  }
  let out = '';
  for (const [x, y, z] of spec.groups) out += b64From24(c[x], c[y], c[z], 4);
  out +=
    spec.tail.length === 1 ? b64From24(0, 0, c[spec.tail[0]], 2) : b64From24(0, c[spec.tail[0]], c[spec.tail[1]], 3);
  const head = rounds === undefined || r === 5000 ? '' : `rounds=${r}$`;
  return `$${spec.id}$${head}${s.toString('utf8')}$${out}`;
}

/** MD5 crypt (`$1$`, salt of at most 8 characters). */
export function md5Crypt(password: string, salt: string): string {
  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  const magic = Buffer.from('$1$');
  const alt = digest('md5', p, s, p);
  const ctx = createHash('md5');
  ctx.update(p);
  ctx.update(magic);
  ctx.update(s);
  for (let n = p.length; n > 0; n -= 16) ctx.update(alt.subarray(0, Math.min(16, n)));
  for (let n = p.length; n > 0; n >>= 1) ctx.update(n & 1 ? Buffer.from([0]) : p.subarray(0, 1));
  let f = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update(i & 1 ? p : f);
    if (i % 3) h.update(s);
    if (i % 7) h.update(p);
    h.update(i & 1 ? f : p);
    f = h.digest();
  }
  const groups = [
    [0, 6, 12],
    [1, 7, 13],
    [2, 8, 14],
    [3, 9, 15],
    [4, 10, 5],
  ];
  let out = '';
  for (const [x, y, z] of groups) out += b64From24(f[x], f[y], f[z], 4);
  out += b64From24(0, 0, f[11], 2);
  return `$1$${s.toString('utf8')}$${out}`;
}
