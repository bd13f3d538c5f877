// The run's read cache (src/engine/runner/read-cache.ts): each of its rules, tried both ways.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadRequest, RunResult } from '../../src/engine/connection/types.js';
import { ReadCache } from '../../src/engine/runner/read-cache.js';

const req = (command: string, become = false, becomeUser?: string): ReadRequest => ({ command, become, becomeUser });
const out = (stdout: string): RunResult => ({ code: 0, stdout, stderr: '' });
const put = (cache: ReadCache, host: string, r: ReadRequest, stdout: string) =>
  cache.add(host, [r], Promise.resolve([out(stdout)]));
const got = async (cache: ReadCache, host: string, r: ReadRequest) => (await cache.get(host, r))?.stdout;

describe('ReadCache', () => {
  const a = req('cat /etc/a');

  it('serves a read until its host changes, never after', async () => {
    const cache = new ReadCache();
    put(cache, 'h1', a, 'one');
    assert.equal(await got(cache, 'h1', a), 'one');
    cache.changed('h1');
    assert.equal(cache.get('h1', a), undefined, 'taken before the change');
    put(cache, 'h1', a, 'two');
    assert.equal(await got(cache, 'h1', a), 'two', 'taken after the change (the reads in a trip after its steps)');
  });

  it('a read still on its way when its host changes is not used either', async () => {
    const cache = new ReadCache();
    let answer!: (r: RunResult[]) => void;
    cache.add('h1', [a], new Promise((res) => (answer = res)));
    assert.ok(cache.has('h1', a), 'in flight: a task waits for it rather than read again');
    cache.changed('h1');
    answer([out('stale')]);
    assert.equal(cache.get('h1', a), undefined);
  });

  it("within a play, another host's change leaves a host's reads good", async () => {
    const cache = new ReadCache();
    cache.startPlay(0);
    put(cache, 'h1', a, 'one');
    cache.changed('h2');
    assert.equal(await got(cache, 'h1', a), 'one');
  });

  it('in a later play, a read is good only while nothing has changed anywhere', async () => {
    const cache = new ReadCache();
    cache.startPlay(0);
    put(cache, 'h1', a, 'one');
    cache.startPlay(1);
    assert.equal(await got(cache, 'h1', a), 'one', 'nothing changed since');
    cache.changed('h2');
    assert.equal(cache.get('h1', a), undefined, 'h2 changed after it was taken, in another play');
    put(cache, 'h1', a, 'two');
    assert.equal(await got(cache, 'h1', a), 'two', 'taken in this play, after that change');
  });

  it('a change on this machine (a delegated task) counts between plays only', async () => {
    const cache = new ReadCache();
    put(cache, 'h1', a, 'one');
    cache.changed();
    assert.equal(await got(cache, 'h1', a), 'one');
    cache.startPlay(1);
    assert.equal(cache.get('h1', a), undefined);
  });

  it('the same command as the same user is one read; as another user, another', async () => {
    const cache = new ReadCache();
    put(cache, 'h1', req('id -un', true), 'root');
    assert.equal(await got(cache, 'h1', req('id -un', true, 'root')), 'root', 'become without a user is root');
    assert.equal(cache.get('h1', req('id -un', false)), undefined, 'the login user');
    assert.equal(cache.get('h1', req('id -un', true, 'app')), undefined, 'another become user');
    assert.equal(cache.get('h2', req('id -un', true)), undefined, 'another host');
  });

  it('a trip that failed gives undefined (the task reads for itself), not an error', async () => {
    const cache = new ReadCache();
    cache.add('h1', [a], Promise.reject(new Error('connection lost')));
    assert.equal(await cache.get('h1', a), undefined);
  });

  it('settled() waits for the reads expected for a host', async () => {
    const cache = new ReadCache();
    let done = false;
    let finish!: () => void;
    cache.expect(
      'h1',
      new Promise<void>((res) => (finish = res)).then(() => {
        put(cache, 'h1', a, 'early');
        done = true;
      }),
    );
    const waited = cache.settled('h1').then(() => done);
    finish();
    assert.equal(await waited, true);
    assert.equal(await got(cache, 'h1', a), 'early');
    await cache.settled('h2'); // nothing expected: at once
  });
});
