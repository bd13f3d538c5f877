// The relay's tunnel watcher (roles/relay-watch/templates/watch-tunnels.sh.hbs), run here one sample at
// a time (RELAY_PLAY_WATCH_ONCE=1) on a fleet state file, with `ss`, `date` and `curl` stood in for:
// the clock and the listeners are what each test says, and curl records what it was given. With the
// defaults the role ships (a 60 s grace) unless a test says otherwise. Then the inventory's checks of
// the watcher's settings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseInventory } from '../../src/engine/inventory/index.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import { InputError } from '../../src/engine/util/errors.js';
import { bundledRolesDir } from '../../src/relay/app.js';
import { emptyFleet, planFleetChanges, serializeFleet } from '../../src/relay/fleet.js';
import { prepareRelayInventory } from '../../src/relay/inventory.js';
import { parseWatchState } from '../../src/relay/status.js';

const ROLE = join(bundledRolesDir(), 'relay-watch');
const DEFAULTS = parse(readFileSync(join(ROLE, 'defaults', 'main.yaml'), 'utf8')) as Record<string, unknown>;
const SCRIPT = String(renderHandlebars(readFileSync(join(ROLE, 'templates', 'watch-tunnels.sh.hbs'), 'utf8'), {}));
const URL = 'https://hooks.example.test/relay/SECRET-TOKEN-42';

const FAKES = {
  ss: '#!/bin/sh\ncat "$FAKE/ss"\n',
  date: '#!/bin/sh\nif [ "$1" = "+%s" ]; then cat "$FAKE/now"; else exec /bin/date "$@"; fi\n',
  // Records its arguments, its config and (when it "succeeds": exit 0, HTTP 2xx) the event it was given;
  // answers with $FAKE/code (200) and exits with $FAKE/rc (0).
  curl: `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE/curl.log"
code=$(cat "$FAKE/code" 2>/dev/null || echo 200)
rc=$(cat "$FAKE/rc" 2>/dev/null || echo 0)
cfg=
prev=
for a; do
  case $rc:$code:$a in 0:2??:@*) cat "\${a#@}" >> "$FAKE/posted" ;; esac
  [ "$prev" = --config ] && cfg=$a
  prev=$a
done
cat "$cfg" >> "$FAKE/configs"
printf '%s' "$code"
exit "$rc"
`,
};

interface Event {
  device: string;
  state: 'down' | 'up';
  since: string;
  relay: string;
  last_seen: string | null;
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000', '');

describe('relay-play-watch: one sample at a time', () => {
  const root = mkdtempSync(join(tmpdir(), 'relay-play-watch-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  let dir: string;
  const f = (name: string) => join(dir, name);
  const fleet = (devices: Record<string, number>) =>
    writeFileSync(
      f('state/fleet.json'),
      serializeFleet(
        planFleetChanges(emptyFleet(), {
          devices: Object.entries(devices).map(([name, port]) => ({
            name,
            explicitPort: port,
            // A forward: its port is not a tunnel (and its "port" key is one level deeper).
            forwards: name === 'rpi1' ? [{ name: 'web', port: 80, relayPort: port + 100 }] : [],
          })),
          clients: [{ name: 'laptop' }],
          portBase: 22221,
        }).state,
      ),
    );

  beforeEach(() => {
    dir = join(root, String(++n));
    for (const d of ['bin', 'state', 'prom']) mkdirSync(join(dir, d), { recursive: true });
    for (const [name, text] of Object.entries(FAKES)) {
      writeFileSync(join(dir, 'bin', name), text);
      chmodSync(join(dir, 'bin', name), 0o755);
    }
    writeFileSync(f('script'), SCRIPT);
    writeFileSync(f('hook.conf'), `url = "${URL}"\n`);
    fleet({ rpi1: 22221, rpi2: 22222 });
  });

  /** One sample at `now` with the given device ports listening on loopback (and sshd's own port). */
  const sample = (now: number, listening: number[], env: Record<string, string> = {}) => {
    writeFileSync(f('now'), `${now}\n`);
    writeFileSync(
      f('ss'),
      [
        'LISTEN 0 128 0.0.0.0:22 0.0.0.0:*',
        ...listening.map((p, i) =>
          i % 2 ? `LISTEN 0 128 [::1]:${p} [::]:*` : `LISTEN 0 128 127.0.0.1:${p} 0.0.0.0:*`,
        ),
        // Not a tunnel: a listener on every address.
        'LISTEN 0 128 *:22299 *:*',
      ].join('\n') + '\n',
    );
    const r = spawnSync('sh', [f('script')], {
      encoding: 'utf8',
      env: {
        PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
        FAKE: dir,
        RELAY_PLAY_WATCH_ONCE: '1',
        RELAY_PLAY_STATE_DIR: f('state'),
        RELAY_PLAY_METRICS_DIR: f('prom'),
        RELAY_PLAY_WEBHOOK_CONFIG: f('hook.conf'),
        RELAY_PLAY_RELAY: 'server',
        ...env,
      },
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr, '');
    return r.stdout;
  };
  const posted = (): Event[] =>
    existsSync(f('posted'))
      ? readFileSync(f('posted'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Event)
      : [];
  const queued = () => readdirSync(f('state/watch/spool')).filter((x) => x.endsWith('.json'));
  const metrics = () => readFileSync(f('prom/relay-play.prom'), 'utf8');
  const metric = (name: string, device?: string) => {
    const line = metrics()
      .split('\n')
      .find((l) => l.startsWith(device ? `${name}{device="${device}"} ` : `${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  const curlCalls = () =>
    existsSync(f('curl.log')) ? readFileSync(f('curl.log'), 'utf8').split('\n').filter(Boolean) : [];
  const fail = (rc: number, code = '000') => {
    writeFileSync(f('rc'), String(rc));
    writeFileSync(f('code'), code);
  };
  const heal = () => {
    rmSync(f('rc'), { force: true });
    rmSync(f('code'), { force: true });
  };

  it('the role ships a 60 s grace and a 5 s sample; the script defaults to the same', () => {
    assert.equal(DEFAULTS.alert_grace, 60);
    assert.equal(DEFAULTS.watch_interval, 5);
    assert.equal(DEFAULTS.metrics_textfile_dir, '/var/lib/prometheus/node-exporter');
    assert.equal(DEFAULTS.alert_webhook_url, '');
    assert.match(SCRIPT, /^grace=\$\{RELAY_PLAY_ALERT_GRACE:-60\}$/m);
    assert.match(SCRIPT, /^interval=\$\{RELAY_PLAY_WATCH_INTERVAL:-5\}$/m);
  });

  it('a device down longer than the default grace: one "down" event, not before; back up: one "up"', () => {
    sample(1000, [22221, 22222]);
    sample(1005, [22221, 22222]);
    assert.match(sample(1010, [22222]), /rpi1: tunnel down \(port 22221 not held; last seen 5 s ago\)/);
    for (let t = 1015; t <= 1070; t += 5) sample(t, [22222]);
    assert.deepEqual(posted(), [], 'down for exactly 60 s: not longer than the grace yet');
    const out = sample(1075, [22222]);
    assert.match(out, /webhook: queued rpi1 down/);
    assert.match(out, /webhook: sent rpi1 down \(HTTP 200\)/);
    assert.deepEqual(posted(), [
      { device: 'rpi1', state: 'down', since: iso(1010), relay: 'server', last_seen: iso(1005) },
    ]);
    for (let t = 1080; t <= 1200; t += 5) sample(t, [22222]);
    assert.equal(posted().length, 1, 'still down: nothing more');
    assert.match(sample(1205, [22221, 22222]), /rpi1: tunnel up \(port 22221, down for 195 s\)/);
    assert.deepEqual(posted()[1], {
      device: 'rpi1',
      state: 'up',
      since: iso(1205),
      relay: 'server',
      last_seen: iso(1205),
    });
    for (let t = 1210; t <= 1300; t += 5) sample(t, [22221, 22222]);
    assert.equal(posted().length, 2);
    assert.equal(metric('relay_play_tunnel_changes_total', 'rpi1'), 2);
    assert.equal(metric('relay_play_tunnel_changes_total', 'rpi2'), 0);
  });

  it('the URL is only in the config file curl reads (--config), never among its arguments', () => {
    sample(1000, [22221]);
    sample(1005, []);
    sample(1100, []);
    assert.equal(posted().length, 1);
    const calls = curlCalls();
    assert.equal(calls.length, 1);
    assert.ok(!calls[0].includes('SECRET-TOKEN'), calls[0]);
    assert.match(calls[0], new RegExp(`--config ${f('hook.conf')}`));
    assert.match(calls[0], /--proto =http,https/);
    assert.equal(readFileSync(f('configs'), 'utf8'), `url = "${URL}"\n`);
  });

  it('a drop shorter than the grace sends nothing, and counts two changes', () => {
    sample(1000, [22221, 22222]);
    sample(1005, [22222]);
    sample(1060, [22222]);
    sample(1065, [22221, 22222]);
    for (let t = 1070; t <= 1200; t += 5) sample(t, [22221, 22222]);
    assert.deepEqual(posted(), []);
    assert.deepEqual(queued(), []);
    assert.equal(metric('relay_play_tunnel_changes_total', 'rpi1'), 2);
    assert.equal(metric('relay_play_tunnel_up', 'rpi1'), 1);
  });

  it('the grace is a setting (RELAY_PLAY_ALERT_GRACE, from alert_grace)', () => {
    const env = { RELAY_PLAY_ALERT_GRACE: '10' };
    sample(1000, [22221], env);
    sample(1002, [], env);
    sample(1012, [], env);
    assert.deepEqual(posted(), []);
    sample(1013, [], env);
    assert.equal(posted().length, 1);
  });

  it('metrics: each device, Prometheus text format, written by rename', () => {
    sample(1000, [22221]);
    sample(1005, [22221, 22222]);
    sample(1010, [22222]);
    const text = metrics();
    assert.equal(
      text,
      [
        '# HELP relay_play_tunnel_up Whether the relay holds the reverse tunnel of the device (1) or not (0).',
        '# TYPE relay_play_tunnel_up gauge',
        'relay_play_tunnel_up{device="rpi1"} 0',
        'relay_play_tunnel_up{device="rpi2"} 1',
        '# HELP relay_play_tunnel_last_seen_timestamp_seconds When the relay last saw the tunnel of the device up (Unix time).',
        '# TYPE relay_play_tunnel_last_seen_timestamp_seconds gauge',
        'relay_play_tunnel_last_seen_timestamp_seconds{device="rpi1"} 1005',
        'relay_play_tunnel_last_seen_timestamp_seconds{device="rpi2"} 1010',
        '# HELP relay_play_tunnel_changes_total Times the tunnel of the device went up or down, as the watcher saw it.',
        '# TYPE relay_play_tunnel_changes_total counter',
        'relay_play_tunnel_changes_total{device="rpi1"} 1',
        'relay_play_tunnel_changes_total{device="rpi2"} 1',
        '# HELP relay_play_devices Devices in the fleet state of the relay.',
        '# TYPE relay_play_devices gauge',
        'relay_play_devices 2',
        '# HELP relay_play_webhook_queued_events Events waiting to be sent to the webhook.',
        '# TYPE relay_play_webhook_queued_events gauge',
        'relay_play_webhook_queued_events 0',
        '',
      ].join('\n'),
    );
    assert.deepEqual(readdirSync(f('prom')), ['relay-play.prom'], 'no temp file left (and none named *.prom)');
    assert.match(SCRIPT, /prom=\$metrics_dir\/\.relay-play\.prom\.new/);
  });

  it('a device never seen up: state "never", no last-seen series, no event however long', () => {
    sample(1000, [22221]);
    for (let t = 1005; t <= 1500; t += 5) sample(t, [22221]);
    assert.deepEqual(posted(), []);
    assert.equal(metric('relay_play_tunnel_up', 'rpi2'), 0);
    assert.equal(metric('relay_play_tunnel_last_seen_timestamp_seconds', 'rpi2'), undefined);
    const w = parseWatchState(readFileSync(f('state/watch/state'), 'utf8'));
    assert.deepEqual(w.get('rpi2'), { port: 22222, state: 'never', since: 1000, lastSeen: 0, changes: 0 });
    // Its first time up counts as a change; then it may drop like any other.
    sample(1505, [22221, 22222]);
    assert.equal(metric('relay_play_tunnel_changes_total', 'rpi2'), 1);
    sample(1510, [22221]);
    sample(1571, [22221]);
    assert.deepEqual(
      posted().map((e) => [e.device, e.state]),
      [['rpi2', 'down']],
    );
  });

  it('a failing endpoint: the event stays queued, retried with back-off (5, 10, 20 s ...), then sent in order', () => {
    sample(1000, [22221, 22222]);
    sample(1005, [22222]);
    fail(7);
    const out = sample(1070, [22222]);
    assert.match(out, /webhook: could not send rpi1 down \(curl exit 7: could not connect\); next try in 5 s/);
    assert.doesNotMatch(out, /SECRET/);
    assert.equal(queued().length, 1);
    assert.equal(metric('relay_play_webhook_queued_events'), 1);
    sample(1072, [22222]);
    assert.equal(curlCalls().length, 1, 'not before the back-off');
    assert.equal(metric('relay_play_webhook_queued_events'), 1);
    assert.match(sample(1075, [22222]), /next try in 10 s/);
    sample(1080, [22222]);
    assert.equal(curlCalls().length, 2);
    assert.match(sample(1085, [22222]), /next try in 20 s/);
    // Back while the endpoint still fails: the "up" waits behind the "down".
    sample(1090, [22221, 22222]);
    assert.equal(curlCalls().length, 3);
    assert.equal(queued().length, 2);
    heal();
    const sent = sample(1105, [22221, 22222]);
    assert.match(sent, /sent rpi1 down[^]*sent rpi1 up/);
    assert.deepEqual(
      posted().map((e) => e.state),
      ['down', 'up'],
    );
    assert.deepEqual(queued(), []);
    assert.ok(!existsSync(f('state/watch/retry')), 'the back-off starts over');
  });

  it('the back-off stops growing at 300 s', () => {
    sample(1000, [22221]);
    sample(1005, []);
    fail(28);
    let t = 1070;
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      const m = /timed out\); next try in (\d+) s/.exec(sample(t, []));
      assert.ok(m, `attempt ${i}`);
      waits.push(Number(m[1]));
      t += Number(m[1]);
    }
    assert.deepEqual(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('refused with 4xx: dropped (retrying cannot help); 429 and 5xx: retried', () => {
    sample(1000, [22221, 22222]);
    sample(1005, []);
    fail(0, '404');
    assert.match(
      sample(1070, []),
      /refused rpi1 down with HTTP 404; dropped[^]*refused rpi2 down with HTTP 404; dropped/,
    );
    assert.deepEqual(queued(), []);
    sample(1075, [22221, 22222]);
    fail(0, '429');
    sample(1080, []);
    assert.match(sample(1150, []), /could not send rpi1 down \(HTTP 429\)/);
    assert.equal(queued().length, 2);
    fail(0, '503');
    assert.match(sample(1160, []), /could not send rpi1 down \(HTTP 503\)/);
    heal();
    sample(1200, []);
    assert.deepEqual(queued(), []);
  });

  it('no webhook configured: no events queued, the state and metrics all the same; one later finds nothing stale', () => {
    rmSync(f('hook.conf'));
    sample(1000, [22221]);
    sample(1005, []);
    sample(1100, []);
    assert.deepEqual(queued(), []);
    assert.equal(metric('relay_play_tunnel_up', 'rpi1'), 0);
    writeFileSync(f('hook.conf'), `url = "${URL}"\n`);
    sample(1200, []);
    assert.deepEqual(posted(), [], 'the drop was already past its grace before there was a webhook');
    sample(1205, [22221]);
    assert.deepEqual(
      posted().map((e) => e.state),
      ['up'],
    );
  });

  it('a device taken out of the fleet: its record and series go, nothing is sent for it', () => {
    sample(1000, [22221, 22222]);
    sample(1005, [22221]);
    fleet({ rpi1: 22221 });
    assert.match(sample(1010, [22221]), /rpi2: no longer in the fleet; forgotten/);
    assert.equal(metric('relay_play_devices'), 1);
    assert.doesNotMatch(metrics(), /rpi2/);
    assert.deepEqual([...parseWatchState(readFileSync(f('state/watch/state'), 'utf8')).keys()], ['rpi1']);
    sample(1100, [22221]);
    assert.deepEqual(posted(), []);
  });

  it('a new port for a device (tunnel_port changed) is followed, by name', () => {
    sample(1000, [22221]);
    fleet({ rpi1: 22230, rpi2: 22222 });
    sample(1005, [22230]);
    assert.equal(metric('relay_play_tunnel_up', 'rpi1'), 1);
    assert.equal(parseWatchState(readFileSync(f('state/watch/state'), 'utf8')).get('rpi1')!.port, 22230);
  });

  it('several relays: each watches only the devices that keep a tunnel to it', () => {
    writeFileSync(
      f('state/fleet.json'),
      serializeFleet(
        planFleetChanges(emptyFleet(), {
          devices: Array.from({ length: 8 }, (_, i) => ({ name: `rpi${i + 1}`, explicitPort: 22221 + i })),
          clients: [],
          portBase: 22221,
          relays: ['server', 'other'],
          perDevice: 1,
        }).state,
      ),
    );
    const held = JSON.parse(readFileSync(f('state/fleet.json'), 'utf8')) as {
      devices: Record<string, { relays: string[] }>;
    };
    const mine = Object.keys(held.devices).filter((d) => held.devices[d].relays.includes('server'));
    const theirs = Object.keys(held.devices).filter((d) => !mine.includes(d));
    assert.ok(mine.length && theirs.length, JSON.stringify(held));
    sample(1000, []);
    for (const d of mine) assert.equal(metric('relay_play_tunnel_up', d), 0, d);
    for (const d of theirs) assert.equal(metric('relay_play_tunnel_up', d), undefined, `${d} is the other relay's`);
    assert.equal(metric('relay_play_devices'), mine.length);
  });

  it('no fleet state yet: nothing written, nothing fails', () => {
    rmSync(f('state/fleet.json'));
    assert.equal(sample(1000, []), '');
    assert.ok(!existsSync(f('prom/relay-play.prom')));
  });

  it('a metrics directory it cannot write: said once, the state is kept all the same', () => {
    const env = { RELAY_PLAY_METRICS_DIR: '/proc/relay-play-no-such-dir' };
    assert.match(sample(1000, [22221], env), /metrics: cannot write to \/proc\/relay-play-no-such-dir/);
    sample(1005, [], env);
    assert.equal(parseWatchState(readFileSync(f('state/watch/state'), 'utf8')).get('rpi1')!.state, 'down');
  });

  it('no metrics directory set: no metrics, no complaint', () => {
    assert.equal(sample(1000, [22221], { RELAY_PLAY_METRICS_DIR: '' }).includes('metrics'), false);
    assert.ok(!existsSync(f('prom/relay-play.prom')));
  });
});

describe('inventory: the watcher settings', () => {
  const inv = (relayVars: string) =>
    parseInventory(
      `all:
  children:
    relay: {hosts: {server: {ansible_host: 198.18.0.10, ${relayVars}}}}
    devices: {hosts: {rpi1: {ansible_host: 198.18.0.11}}}
`,
      'inv.yaml',
    );
  const ok = (vars: string) => prepareRelayInventory(inv(vars));
  const refused = (vars: string, re: RegExp) =>
    assert.throws(
      () => prepareRelayInventory(inv(vars)),
      (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('SECRET'),
    );

  it('takes http(s) URLs, whole seconds and absolute paths', () => {
    ok('alert_webhook_url: "https://ntfy.sh/relay-SECRET?x=1&y=%20", alert_grace: 0, watch_interval: 2');
    ok('alert_webhook_url: "http://198.18.0.1:8080/hook", metrics_textfile_dir: /srv/metrics');
    ok('alert_webhook_url: "", metrics_textfile_dir: ""');
  });

  it('refuses what would not survive a unit file or a curl config, without echoing the URL', () => {
    refused('alert_webhook_url: "ftp://host/SECRET"', /alert_webhook_url must be an http/);
    refused('alert_webhook_url: "https://host/SECRET\\"\\nupload-file = /etc/shadow"', /alert_webhook_url/);
    refused('alert_webhook_url: "https://host/SECRET x"', /alert_webhook_url/);
    refused('alert_webhook_url: "https://host/SECRET\\\\"', /alert_webhook_url/);
    refused('alert_grace: -1', /alert_grace must be a whole number/);
    refused('alert_grace: "60s"', /alert_grace/);
    refused('watch_interval: 0', /watch_interval/);
    refused('watch_interval: 1.5', /watch_interval/);
    refused('metrics_textfile_dir: "relative/dir"', /metrics_textfile_dir must be an absolute path/);
    refused('metrics_textfile_dir: "/var/lib/x\\nExecStart=/bin/sh"', /metrics_textfile_dir/);
  });
});
