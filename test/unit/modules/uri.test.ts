// uri: argument table, bodies encoded as Ansible encodes them (Python's json.dumps and urlencode), the
// request's secrets and body kept off the command line, and results read from canned host output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formUrlencoded, pyJsonDumps, statusCodes, uri, uriResult } from '../../../src/engine/modules/uri.js';
import type { Module } from '../../../src/engine/modules/types.js';
import { argTable, cannedCtx, planWith } from './fake-host.js';

const report = (headers: string, extra = '') =>
  `elapsed=0\nstatus=${/^HTTP\/\S+ (\d+)/m.exec(headers)?.[1] ?? '000'}\nfinal_url=http://e/a\nhttp_rc=0\nhttp_err=\n` +
  `headers=${Buffer.from(headers).toString('base64')}\n${extra}`;

describe('uri: arguments', () => {
  argTable(uri as Module<never>, [
    [{ url: 'http://e/' }, true],
    [{ url: 'http://e/', method: 'POST', body: { a: 1 }, body_format: 'json', status_code: [200, 201] }, true],
    [{ url: 'http://e/', status_code: '200,201', return_content: 'yes', follow_redirects: 'none' }, true],
    [{ url: 'http://e/', dest: '/tmp/x', creates: '/tmp/x', mode: '0600', user: 'u', password: 'p' }, true],
    [{ url: 'http://e/', body_format: 'form-multipart' }, false],
    [{ url: 'http://e/', follow_redirects: 'maybe' }, false],
    [{ url: 'http://e/', src: '/tmp/x' }, false],
    [{ method: 'GET' }, false],
  ]);

  it('bodies as Python writes them', () => {
    assert.equal(
      pyJsonDumps({ a: 1, b: [true, null, 'é'], c: 1.5 }),
      '{"a": 1, "b": [true, null, "\\u00e9"], "c": 1.5}',
    );
    assert.equal(formUrlencoded({ name: 'a b', v: '&=', l: [1, 2], t: true }), 'name=a+b&v=%26%3D&l=1&l=2&t=True');
    assert.equal(formUrlencoded([['k', 'v~.']]), 'k=v~.');
    assert.deepEqual(statusCodes('200, 201'), [200, 201]);
    assert.deepEqual(statusCodes(undefined), [200]);
    assert.equal(statusCodes(['x']), undefined);
  });

  it('refuses a method that is not one word; skips in check mode', async () => {
    const bad = await planWith(uri, { url: 'http://e/', method: 'GET X' }, cannedCtx([]));
    assert.match(String(bad.failed), /single word in uppercase/);
    const check = await planWith(uri, { url: 'http://e/' }, cannedCtx([], { check: true }));
    assert.equal(check.skipped, true);
    assert.equal(check.msg, 'remote module (ansible.legacy.uri) does not support check mode');
  });

  it('the body and credentials travel in the curl config on stdin, a body with line breaks escaped', async () => {
    const p = await planWith(
      uri,
      { url: 'http://e/', method: 'put', body: 'line1\nsecret"2', url_password: 'hunter2', url_username: 'me' },
      cannedCtx([]),
    );
    const step = p.steps[0];
    assert.ok(!step.command.includes('hunter2') && !step.command.includes('secret'));
    assert.match(step.stdin!, /^data-raw = "line1\\nsecret\\"2"$/m);
    assert.match(step.stdin!, /^request = "PUT"$/m);
    assert.match(step.stdin!, /^user = "me:hunter2"$/m);
  });
});

describe('uri: results', () => {
  const json =
    'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\nSet-Cookie: s=1; Path=/\r\nX-Two-Words: y\r\n\r\n';
  it('headers lower-cased with underscores, cookies, json', () => {
    const r = uriResult({ url: 'http://e/a' }, [200], false, {
      code: 0,
      stdout: report(json, `body=${Buffer.from('{"a": 1}').toString('base64')}\n`),
      stderr: '',
    });
    assert.deepEqual(r, {
      redirected: false,
      url: 'http://e/a',
      status: 200,
      content_type: 'application/json',
      content_length: '8',
      set_cookie: 's=1; Path=/',
      x_two_words: 'y',
      cookies_string: 's=1',
      cookies: { s: '1' },
      msg: 'OK (8 bytes)',
      elapsed: 0,
      changed: false,
      json: { a: 1 },
    });
  });
  it('a status not accepted fails, with the content asked for; a refused connection is status -1', () => {
    const r = uriResult({ url: 'http://e/a' }, [200], true, {
      code: 0,
      stdout: report(
        'HTTP/1.0 404 Not here\r\nContent-Length: 2\r\n\r\n',
        `body=${Buffer.from('no').toString('base64')}\n`,
      ),
      stderr: '',
    });
    assert.equal(r.failed, true);
    assert.equal(r.msg, 'Status code was 404 and not [200]: HTTP Error 404: Not here');
    assert.equal(r.content, 'no');
    const refused = uriResult({ url: 'http://e/a' }, [200], false, {
      code: 0,
      stdout: 'elapsed=0\nstatus=000\nfinal_url=\nhttp_rc=7\nhttp_err=curl: (7) Failed to connect\nheaders=\n',
      stderr: '',
    });
    assert.deepEqual(refused, {
      redirected: false,
      url: 'http://e/a',
      status: -1,
      msg: 'Status code was -1 and not [200]: Request failed: <urlopen error [Errno 111] Connection refused>',
      elapsed: 0,
      changed: false,
      failed: true,
    });
  });
  it('a host without curl is refused in words', () => {
    assert.match(
      String(uriResult({ url: 'http://e/' }, [200], false, { code: 0, stdout: 'tool=none\n', stderr: '' }).msg),
      /curl or wget/,
    );
  });
});
