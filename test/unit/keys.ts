// Test keys: well-formed OpenSSH public key lines that no private key stands behind.

/** An ed25519 public key whose 32 key bytes are all `n`. */
export function fakeKey(n: number): string {
  const type = Buffer.from('ssh-ed25519');
  const len = (k: number) => Buffer.from([0, 0, 0, k]);
  return `ssh-ed25519 ${Buffer.concat([len(type.length), type, len(32), Buffer.alloc(32, n)]).toString('base64')}`;
}
