// The path-choosing race (src/engine/connection/route.ts) with fake attempts on a fake clock: which path wins,
// when the other path (the relay's, for relay-play) starts, and that no loser's connection is left open.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { race, type Attempt } from '../../src/engine/connection/route.js';

interface Fake {
  attempt: Attempt<string>;
  succeed(v: string): void;
  fail(msg: string): void;
  connectTcp(): void;
  markSlow(): void;
  cancelled: boolean;
}

function fake(): Fake {
  let succeed!: (v: string) => void;
  let fail!: (e: Error) => void;
  let markSlow!: () => void;
  let answering = false;
  const result = new Promise<string>((res, rej) => ((succeed = res), (fail = rej)));
  result.catch(() => undefined);
  const slow = new Promise<void>((r) => (markSlow = r));
  const f: Fake = {
    attempt: { result, answering: () => answering, slow, cancel: () => (f.cancelled = true) },
    succeed: (v) => succeed(v),
    fail: (msg) => {
      markSlow();
      fail(new Error(msg));
    },
    connectTcp: () => (answering = true),
    markSlow: () => markSlow(),
    cancelled: false,
  };
  return f;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('race: direct vs through the relay', () => {
  it('a home device: direct answers and logs in; the relay path never starts', async () => {
    const direct = fake();
    let relayStarted = false;
    const p = race(
      direct.attempt,
      () => ((relayStarted = true), fake().attempt),
      () => undefined,
    );
    direct.connectTcp();
    direct.succeed('direct-conn');
    const r = await p;
    assert.equal(r.via, 'direct');
    assert.equal(r.winner, 'direct-conn');
    assert.equal(relayStarted, false);
  });

  it('an away device: no TCP answer in time → the relay path starts and wins; direct is cancelled', async () => {
    const direct = fake();
    const relay = fake();
    let relayStarted = false;
    const p = race(
      direct.attempt,
      () => ((relayStarted = true), relay.attempt),
      () => undefined,
    );
    await tick();
    assert.equal(relayStarted, false, 'not before the direct attempt is slow');
    direct.markSlow();
    await tick();
    assert.equal(relayStarted, true);
    relay.succeed('relay-conn');
    const r = await p;
    assert.equal(r.via, 'other');
    assert.equal(r.winner, 'relay-conn');
    assert.equal(direct.cancelled, true);
  });

  it('direct refused at once (e.g. a changed key, or connection refused) → relay at once, and the direct error is kept', async () => {
    const direct = fake();
    const relay = fake();
    const p = race(
      direct.attempt,
      () => relay.attempt,
      () => undefined,
    );
    direct.fail('REMOTE HOST KEY HAS CHANGED');
    await tick();
    relay.succeed('relay-conn');
    const r = await p;
    assert.equal(r.via, 'other');
    assert.match(r.directError!.message, /HOST KEY/);
  });

  it('direct answered TCP but is still logging in when the relay path wins: direct gets its grace and wins; the relay connection is closed', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const direct = fake();
      const relay = fake();
      const discarded: string[] = [];
      const p = race(
        direct.attempt,
        () => relay.attempt,
        (c) => discarded.push(c),
        1500,
      );
      direct.connectTcp();
      direct.markSlow();
      await tick();
      relay.succeed('relay-conn');
      await tick();
      mock.timers.tick(1000);
      direct.succeed('direct-conn');
      const r = await p;
      assert.equal(r.via, 'direct');
      await tick();
      assert.deepEqual(discarded, ['relay-conn']);
    } finally {
      mock.timers.reset();
    }
  });

  it('direct answered TCP but hangs: after the grace the relay path wins', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const direct = fake();
      const relay = fake();
      const p = race(
        direct.attempt,
        () => relay.attempt,
        () => undefined,
        1500,
      );
      direct.connectTcp();
      direct.markSlow();
      await tick();
      relay.succeed('relay-conn');
      await tick();
      mock.timers.tick(1500);
      const r = await p;
      assert.equal(r.via, 'other');
      assert.equal(direct.cancelled, true);
    } finally {
      mock.timers.reset();
    }
  });

  it('a direct login that arrives after the relay won is closed, not leaked', async () => {
    const direct = fake();
    const relay = fake();
    const discarded: string[] = [];
    const p = race(
      direct.attempt,
      () => relay.attempt,
      (c) => discarded.push(c),
    );
    direct.markSlow();
    await tick();
    relay.succeed('relay-conn');
    await p;
    direct.succeed('late-direct');
    await tick();
    assert.deepEqual(discarded, ['late-direct']);
  });

  it('both fail: one error carrying both reasons', async () => {
    const direct = fake();
    const relay = fake();
    const p = race(
      direct.attempt,
      () => relay.attempt,
      () => undefined,
    );
    direct.fail('timed out');
    await tick();
    relay.fail('tunnel not up');
    await assert.rejects(p, (e: Error & { direct?: Error; other?: Error }) => {
      assert.equal(e.direct?.message, 'timed out');
      assert.equal(e.other?.message, 'tunnel not up');
      return true;
    });
  });

  it('the relay path failing first does not end the race while direct may still succeed', async () => {
    const direct = fake();
    const relay = fake();
    const p = race(
      direct.attempt,
      () => relay.attempt,
      () => undefined,
    );
    direct.markSlow();
    await tick();
    relay.fail('no tunnel');
    await tick();
    direct.succeed('direct-conn');
    assert.equal((await p).via, 'direct');
  });
});
