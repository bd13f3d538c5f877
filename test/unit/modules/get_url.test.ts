// get_url: argument table, refusals made before anything runs, secrets kept off the command line, and
// the script run for real in a sandbox on file: URLs (curl reads them; no network).
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { get_url } from '../../../src/engine/modules/get_url.js';
import { curlConfig, responseOf, urlFilename, wgetConfig } from '../../../src/engine/modules/lib/http.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { applyPlan, argTable, cannedCtx, planWith, sandboxPerTest } from './fake-host.js';

const SHA256_HELLO = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';

describe('get_url: arguments', () => {
  argTable(get_url as Module<never>, [
    [{ url: 'https://example.org/a', dest: '/tmp/a' }, true],
    [{ url: 'https://example.org/a', dest: '/tmp/', checksum: 'sha256:ab', force: true, mode: '0600' }, true],
    [{ url: 'https://e/a', dest: '/t', headers: { Authorization: 'Bearer x', 'X-N': 1 }, timeout: 5 }, true],
    [{ url: 'https://e/a', dest: '/t', username: 'u', password: 'p', force_basic_auth: 'yes' }, true],
    [{ url: 'https://e/a', dest: '/t', validate_certs: false, tmp_dest: '/var/tmp', backup: true }, true],
    [{ url: 'https://e/a' }, false],
    [{ dest: '/t' }, false],
    [{ url: '', dest: '/t' }, false],
    [{ url: 'https://e/a', dest: '/t', timeout: 0 }, false],
    [{ url: 'https://e/a', dest: '/t', headers: { A: ['x'] } }, false],
    [{ url: 'https://e/a', dest: '/t', method: 'POST' }, false],
  ]);

  const plan = (args: Record<string, unknown>, check = false) =>
    planWith(get_url, args as never, cannedCtx([], { check }));

  it('refuses a malformed checksum, an unknown algorithm, line breaks, alias conflicts', async () => {
    assert.match(
      String((await plan({ url: 'http://e/a', dest: '/t', checksum: 'abc' })).failed),
      /has to be in format <algorithm>:<checksum>/,
    );
    assert.equal(
      (await plan({ url: 'http://e/a', dest: '/t', checksum: 'sha256:xyz' })).failed,
      'The checksum format is invalid',
    );
    assert.match(String((await plan({ url: 'http://e/a', dest: '/t', checksum: 'crc:00' })).failed), /algorithm 'crc'/);
    assert.match(String((await plan({ url: 'http://e/a\nx', dest: '/t' })).failed), /line breaks/);
    assert.match(
      String((await plan({ url: 'http://e/a', dest: '/t', headers: { A: 'b\r\nEvil: 1' } })).failed),
      /line breaks/,
    );
    assert.match(
      String((await plan({ url: 'http://e/a', dest: '/t', headers: { 'A B': 'x' } })).failed),
      /not a header name/,
    );
    assert.match(
      String((await plan({ url: 'http://e/a', dest: '/t', username: 'a', url_username: 'b' })).failed),
      /mutually exclusive: url_username\|username/,
    );
  });

  it('URL, headers and credentials travel on stdin, never on the command line', async () => {
    const p = await plan({
      url: 'https://example.org/$(reboot)`x`',
      dest: '/t',
      url_username: 'admin',
      url_password: 'pa"ss\\word',
      headers: { Authorization: 'Bearer TOKEN' },
      checksum: 'sha256:https://example.org/SUMS',
    });
    const step = p.steps[0];
    for (const secret of ['pa"ss', 'TOKEN', 'admin', 'example.org'])
      assert.ok(!step.command.includes(secret), `${secret} on the command line`);
    assert.match(step.stdin!, /^user = "admin:pa\\"ss\\\\word"$/m);
    assert.match(step.stdin!, /^header = "Authorization: Bearer TOKEN"$/m);
    assert.match(
      step.stdin!,
      /^url = "https:\/\/example.org\/SUMS"\n[\s\S]*#end\nurl = "https:\/\/example.org\/\$\(reboot\)`x`"$/m,
    );
    assert.equal(p.runInCheck, true);
  });

  it('curl config: redirects as Ansible follows them, an empty header sent empty, proxies and certs', () => {
    const c = curlConfig({
      args: { url: 'http://e/', headers: { 'X-Empty': '' }, use_proxy: false, validate_certs: 'no' },
      defaultTimeout: 10,
      method: 'POST',
    });
    assert.match(c, /^request = "POST"$/m);
    assert.doesNotMatch(c, /^location$/m);
    assert.match(c, /^header = "X-Empty;"$/m);
    assert.match(c, /^noproxy = "\*"$/m);
    assert.match(c, /^insecure$/m);
    assert.match(curlConfig({ args: { url: 'http://e/' }, defaultTimeout: 10 }), /^location$/m);
  });

  it('wget settings for a host without curl: secrets in its config, what it cannot do said', () => {
    const w = wgetConfig({
      args: { url: 'http://e/a', url_username: 'u', url_password: 'p w', force_basic_auth: true, headers: { A: 'b' } },
      defaultTimeout: 10,
      method: 'POST',
      body: 'x\ny',
    });
    assert.match(w, /^#url http:\/\/e\/a\n/);
    assert.match(w, /^http_password = p w$/m);
    assert.match(w, /^auth_no_challenge = on$/m);
    assert.match(w, /^header = A: b$/m);
    assert.match(w, /^method = POST$/m);
    assert.match(w, /^max_redirect = 0$/m);
    assert.match(w, /^#unsupported a body of several lines/m);
  });

  it('the URL a redirect ended at, from the Locations (wget does not say)', () => {
    const headers = Buffer.from('HTTP/1.0 301 Moved\nLocation: /sub/\n\nHTTP/1.0 200 OK\nContent-Length: 1\n').toString(
      'base64',
    );
    assert.equal(
      responseOf({ status: '200', final_url: '', http_rc: '0', headers }, 'http://e/sub').url,
      'http://e/sub/',
    );
  });

  it('file names and responses as Ansible reads them', () => {
    assert.equal(urlFilename('http://e/a/b.tar.gz?x=1#f'), 'b.tar.gz');
    assert.equal(urlFilename('http://e'), 'index.html');
    assert.equal(urlFilename('http://e/dir/'), 'index.html');
    const headers = Buffer.from(
      'HTTP/1.1 301 Moved\r\nLocation: /b\r\n\r\nHTTP/1.0 404 File not found\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n',
    ).toString('base64');
    const r = responseOf({ status: '404', final_url: 'http://e/b', http_rc: '0', headers }, 'http://e/a');
    assert.equal(r.reason, 'File not found');
    assert.deepEqual(r.headers, { 'set-cookie': 'a=1, b=2' });
    assert.equal(r.url, 'http://e/b');
  });
});

describe('get_url: on a host (file: URLs)', () => {
  const sb = sandboxPerTest();
  const run = async (args: Record<string, unknown>, check = false) =>
    applyPlan(await planWith(get_url, args as never, cannedCtx([], { check })), sb).result;

  it('downloads, then changes nothing; a checksum that matches skips the download', async () => {
    writeFileSync(sb.p('src.txt'), 'hello\n');
    const url = `file://${sb.p('src.txt')}`;
    const first = await run({ url, dest: sb.p('out.txt'), mode: '0600' });
    assert.equal(first.changed, true, JSON.stringify(first));
    assert.equal(first.checksum_src, 'f572d396fae9206628714fb2ce00f72e94f2258f');
    assert.equal(first.mode, '0600');
    assert.equal(readFileSync(sb.p('out.txt'), 'utf8'), 'hello\n');
    const again = await run({ url, dest: sb.p('out.txt'), force: true, mode: '0600' });
    assert.equal(again.changed, false, JSON.stringify(again));
    const sum = await run({ url, dest: sb.p('out.txt'), checksum: `sha256:${SHA256_HELLO}`, mode: '0600' });
    assert.deepEqual([sum.changed, sum.msg, sum.checksum_src], [false, 'file already exists', null]);
  });

  it('into a directory, named by the URL; check mode writes nothing', async () => {
    writeFileSync(sb.p('a.txt'), 'hello\n');
    const url = `file://${sb.p('a.txt')}`;
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkdir', [sb.p('d')]);
    const check = await run({ url, dest: sb.p('d') }, true);
    assert.equal(check.changed, true);
    assert.equal(check.dest, sb.p('d', 'a.txt'));
    assert.throws(() => statSync(sb.p('d', 'a.txt')));
    const r = await run({ url, dest: `${sb.p('d')}/` });
    assert.equal(r.dest, sb.p('d', 'a.txt'));
    assert.equal(readFileSync(sb.p('d', 'a.txt'), 'utf8'), 'hello\n');
  });

  it('a checksum that does not match: the file is removed, the task fails', async () => {
    writeFileSync(sb.p('a.txt'), 'hello\n');
    const r = await run({ url: `file://${sb.p('a.txt')}`, dest: sb.p('b.txt'), checksum: 'sha256:00' });
    assert.equal(r.failed, true);
    assert.equal(r.msg, `The checksum for ${sb.p('b.txt')} did not match 00; it was ${SHA256_HELLO}.`);
    assert.throws(() => statSync(sb.p('b.txt')));
  });

  it("a checksum file: the line naming the URL's file", async () => {
    writeFileSync(sb.p('a.txt'), 'hello\n');
    writeFileSync(sb.p('SUMS'), `${'0'.repeat(64)}  other\n${SHA256_HELLO} *./a.txt\n`);
    const r = await run({
      url: `file://${sb.p('a.txt')}`,
      dest: sb.p('b.txt'),
      checksum: `sha256:file://${sb.p('SUMS')}`,
    });
    assert.equal(r.changed, true, JSON.stringify(r));
    const missing = await run({
      url: `file://${sb.p('SUMS')}`,
      dest: sb.p('c'),
      checksum: `sha256:file://${sb.p('SUMS')}`,
    });
    assert.match(String(missing.msg), /^Unable to find a checksum for file 'SUMS' in 'file:/);
  });
});
