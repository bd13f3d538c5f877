// Knowing when a device drops, on real hosts: the relay's tunnel watcher (roles/relay-watch) with a
// webhook receiver on the client host (https, its own certificate trusted by the relay), metrics checked
// with promtool and scraped through Debian's node_exporter on the relay, `status` reading the watcher's
// record, and a reboot of the relay. The grace and the sample interval are short here (alert_grace 8,
// watch_interval 1) so the test runs in minutes; the defaults' logic is tested in test/unit/watch.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { checkMetrics } from './integration/promtool.js';
import { relayInventory } from './integration/relay-lab.js';
import { recap, relayPlay, show, tempDir, waitFor, writeYaml } from './integration/util.js';

const avail = labAvailable();
const GRACE = 8;
const INTERVAL = 1;
const HOOK_PORT = 8443;
const HOOK_DIR = '/var/tmp/relay-play-hook';
const METRICS = '/var/lib/prometheus/node-exporter/relay-play.prom';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the receiver on the client recorded of one POST. */
interface Received {
  t: number;
  path: string;
  type: string;
  event: { device: string; state: string; since: string; relay: string; last_seen: string | null };
}

// The receiver: HTTPS (its own certificate), records each POST as a JSON line, answers 204.
const RECEIVER = `import http.server, json, ssl, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        with open('${HOOK_DIR}/events', 'a') as f:
            f.write(json.dumps({'t': time.time(), 'path': self.path, 'type': self.headers.get('Content-Type'),
                                'event': json.loads(body)}) + '\\n')
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(('0.0.0.0', ${HOOK_PORT}), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain('${HOOK_DIR}/cert.pem', '${HOOK_DIR}/key.pem')
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
`;

describe(
  'knowing when a device drops: watcher, webhooks, metrics, last seen',
  { skip: avail.ok ? false : avail.why, timeout: 900_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    let token: string;
    let url: string;
    const devices = ['rpi1', 'rpi2'];

    const writeInventory = (
      relayVars: Record<string, unknown>,
      devs = devices,
      extra: Record<string, Record<string, unknown>> = {},
    ) =>
      writeYaml(dir, 'inventory.yaml', relayInventory(lab, { devices: devs, vars: { server: relayVars, ...extra } }));
    const watchVars = () => ({ alert_webhook_url: url, alert_grace: GRACE, watch_interval: INTERVAL });

    const received = async (): Promise<Received[]> => {
      const r = await lab.exec('client', `cat ${HOOK_DIR}/events 2>/dev/null; true`);
      assert.equal(r.code, 0, show(r));
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Received);
    };
    const events = async (device?: string) =>
      (await received()).filter((e) => !device || e.event.device === device).map((e) => e.event.state);
    const startReceiver = async () => {
      const r = await lab.exec(
        'client',
        `sudo systemctl reset-failed relay-play-hook 2>/dev/null; sudo systemd-run -q --unit relay-play-hook python3 ${HOOK_DIR}/receiver.py`,
      );
      assert.equal(r.code, 0, show(r));
      await waitFor('the receiver listening', 20_000, async () =>
        (await lab.exec('client', `ss -Hltn 'sport = :${HOOK_PORT}'`)).stdout.includes(`:${HOOK_PORT}`),
      );
    };
    /** The receiver running (an earlier test that failed midway may have left it stopped or frozen). */
    const ensureReceiver = async () => {
      await lab.exec('client', 'sudo systemctl kill -s SIGCONT relay-play-hook 2>/dev/null; true');
      if ((await lab.exec('client', 'systemctl is-active -q relay-play-hook')).code !== 0) await startReceiver();
    };
    const stopReceiver = async () => {
      const r = await lab.exec('client', 'sudo systemctl stop relay-play-hook');
      assert.equal(r.code, 0, show(r));
    };

    const metrics = async () => {
      const r = await lab.exec('server', `cat ${METRICS}`);
      assert.equal(r.code, 0, show(r));
      return r.stdout;
    };
    const metric = (text: string, name: string, device?: string) => {
      const line = text.split('\n').find((l) => l.startsWith(device ? `${name}{device="${device}"} ` : `${name} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    const tunnelUp = async (device: string) => metric(await metrics(), 'relay_play_tunnel_up', device);
    const waitTunnel = (device: string, up: boolean, ms = 60_000) =>
      waitFor(
        `${device} ${up ? 'up' : 'down'} in the metrics`,
        ms,
        async () => (await tunnelUp(device)) === (up ? 1 : 0),
        250,
      );
    const tunnel = async (device: string, verb: 'stop' | 'start') => {
      const r = await lab.exec(device, `sudo systemctl ${verb} relay-tunnel.service`);
      assert.equal(r.code, 0, show(r));
    };
    /** waitFor, and on a timeout what the watcher logged and the receiver got. */
    const waitWatch = async (what: string, ms: number, fn: () => Promise<boolean>) => {
      try {
        return await waitFor(what, ms, fn, 500);
      } catch (e) {
        const log = await watchLog();
        throw new Error(
          `${(e as Error).message}\n--- watcher\n${log.split('\n').slice(-40).join('\n')}\n--- received\n${JSON.stringify(await received(), null, 1)}`,
        );
      }
    };
    const watchLog = async () =>
      (await lab.exec('server', 'sudo journalctl -u relay-play-watch --no-pager -o cat')).stdout;
    const statusJson = async () => {
      const r = await relayPlay(lab, ['status', inventory, '--json'], 60_000);
      return { r, rows: JSON.parse(r.stdout) as Record<string, unknown>[] };
    };

    before(async () => {
      lab = await startLab(['server', ...devices, 'client'], { bootTimeoutMs: 300_000 });
      dir = tempDir('relay-play-watch-');
      token = `relay-play-hook-${randomBytes(8).toString('hex')}`;
      url = `https://${lab.hosts.client.ip}:${HOOK_PORT}/hook/${token}`;
      // The receiver's certificate (for its address), trusted by the relay as a CA of its own.
      const cert = await lab.exec(
        'client',
        `sudo mkdir -p ${HOOK_DIR} && cd ${HOOK_DIR} && sudo openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=relay-play-hook -addext subjectAltName=IP:${lab.hosts.client.ip} -keyout key.pem -out cert.pem 2>&1 && sudo tee receiver.py >/dev/null && sudo chmod 0644 key.pem && cat cert.pem`,
        { input: RECEIVER },
      );
      assert.equal(cert.code, 0, show(cert));
      const trust = await lab.exec(
        'server',
        'sudo tee /usr/local/share/ca-certificates/relay-play-hook.crt >/dev/null && sudo update-ca-certificates 2>&1',
        { input: cert.stdout },
      );
      assert.equal(trust.code, 0, show(trust));
      await startReceiver();
      inventory = writeInventory(watchVars());
    });

    after(async () => {
      await lab?.teardown();
    });

    it('apply installs the watcher; a re-run changes nothing; --check --diff shows a new setting and never the URL', async () => {
      const r = await relayPlay(lab, ['apply', inventory]);
      assert.equal(r.code, 0, show(r));
      assert.ok(!`${r.stdout}${r.stderr}`.includes(token), 'the URL is not in the output');
      assert.match(r.stdout, /webhook URL for the watcher/);
      const files = await lab.exec(
        'server',
        'systemctl is-active relay-play-watch.service; systemctl is-enabled relay-play-watch.service; sudo stat -c "%a %U %G" /etc/relay-play/watch-webhook.conf; dpkg-query -W -f="\\${db:Status-Abbrev}\\n" curl',
      );
      assert.deepEqual(
        files.stdout
          .trim()
          .split('\n')
          .map((l) => l.trim()),
        ['active', 'enabled', '600 root root', 'ii'],
        show(files),
      );

      const again = await relayPlay(lab, ['apply', inventory]);
      assert.equal(again.code, 0, show(again));
      for (const [h, s] of Object.entries(recap(again.stdout)))
        assert.equal(s.changed, 0, `${h} changed on a re-run\n${show(again)}`);

      const token2 = `relay-play-hook-${randomBytes(8).toString('hex')}`;
      const changed = writeYaml(
        dir,
        'changed.yaml',
        relayInventory(lab, {
          devices,
          vars: {
            server: {
              ...watchVars(),
              alert_webhook_url: url.replace(token, token2),
              alert_grace: 90,
              watch_interval: 3,
            },
          },
        }),
      );
      const check = await relayPlay(lab, ['apply', changed, '--check', '--diff']);
      assert.equal(check.code, 0, show(check));
      const out = `${check.stdout}${check.stderr}`;
      assert.match(out, /^-Environment=RELAY_PLAY_ALERT_GRACE=8$/m, show(check));
      assert.match(out, /^\+Environment=RELAY_PLAY_ALERT_GRACE=90$/m);
      assert.match(out, /^-Environment=RELAY_PLAY_WATCH_INTERVAL=1$/m);
      assert.match(out, /^\+Environment=RELAY_PLAY_WATCH_INTERVAL=3$/m);
      assert.ok(!out.includes(token) && !out.includes(token2), `neither URL is shown\n${out}`);
      // The unit, the webhook's file (no content shown) and the restart they would notify; nothing else.
      assert.equal(recap(check.stdout).server.changed, 3, show(check));
      assert.match(out, /^changed: \[server\] relay-watch : webhook URL for the watcher \(root only\)$/m);
      assert.match(out, /^changed: \[server\] relay-watch : restart tunnel watcher$/m);
      const unit = await lab.exec('server', 'cat /etc/systemd/system/relay-play-watch.service');
      assert.match(unit.stdout, /^Environment=RELAY_PLAY_ALERT_GRACE=8$/m, 'check mode changed nothing');
    });

    it('metrics: valid for promtool, scraped through Debian node_exporter', async () => {
      await waitTunnel('rpi1', true);
      await waitTunnel('rpi2', true);
      const text = await metrics();
      const lint = checkMetrics(text);
      assert.equal(lint.code, 0, `promtool check metrics:\n${lint.output}\n${text}`);
      assert.equal(lint.output, '');
      assert.equal(metric(text, 'relay_play_devices'), 2);
      const now = Date.now() / 1000;
      for (const d of devices) {
        const seen = metric(text, 'relay_play_tunnel_last_seen_timestamp_seconds', d)!;
        // Sampled every second; a loaded CI machine may run the watcher late by several seconds.
        assert.ok(Math.abs(seen - now) < 15, `${d} last seen ${seen}, now ${now}:\n${text}`);
      }
      const ls = await lab.exec('server', 'ls -A /var/lib/prometheus/node-exporter');
      assert.deepEqual(ls.stdout.split('\n').filter(Boolean), ['relay-play.prom'], 'no temp file lying around');

      const ne = await lab.exec(
        'server',
        'sudo systemctl unmask prometheus-node-exporter.service && sudo systemctl start prometheus-node-exporter.service',
      );
      assert.equal(ne.code, 0, show(ne));
      let scraped = '';
      let curl = '';
      await waitFor('node_exporter answering on :9100', 60_000, async () => {
        const r = await lab.exec('client', `curl -sS --max-time 5 http://${lab.hosts.server.ip}:9100/metrics`);
        scraped = r.stdout;
        curl = `curl exit ${r.code}: ${r.stderr}`;
        return r.code === 0 && scraped.includes('relay_play_tunnel_up{');
      }).catch(async (e: Error) => {
        const journal = await lab.exec('server', 'sudo journalctl -u prometheus-node-exporter --no-pager -n 30');
        throw new Error(`${e.message}\n${curl}\n${journal.stdout}`);
      });
      assert.match(scraped, /^relay_play_tunnel_up\{device="rpi1"\} 1$/m);
      assert.match(scraped, /^relay_play_tunnel_up\{device="rpi2"\} 1$/m);
      assert.match(scraped, /^relay_play_devices 2$/m);
      assert.match(scraped, /^node_textfile_scrape_error 0$/m, 'node_exporter read the file without error');
      assert.match(scraped, /^node_textfile_mtime_seconds\{file="[^"]*relay-play\.prom"\} /m);
    });

    it('a drop shorter than the grace sends nothing', async () => {
      const before = metric(await metrics(), 'relay_play_tunnel_changes_total', 'rpi2')!;
      const t0 = Date.now();
      await tunnel('rpi2', 'stop');
      await waitTunnel('rpi2', false, 10_000);
      await sleep(Math.max(0, (GRACE / 2) * 1000 - (Date.now() - t0)));
      await tunnel('rpi2', 'start');
      await waitTunnel('rpi2', true, 30_000);
      const downFor = (Date.now() - t0) / 1000;
      assert.ok(downFor < GRACE, `the drop lasted ${downFor} s, meant to be shorter than ${GRACE} s`);
      await sleep((GRACE + 3 * INTERVAL + 2) * 1000);
      assert.deepEqual(await received(), []);
      assert.equal(metric(await metrics(), 'relay_play_tunnel_changes_total', 'rpi2'), before + 2);
    });

    it('down longer than the grace: one "down" event, not before the grace; back: one "up"', async () => {
      const t0 = Date.now();
      await tunnel('rpi1', 'stop');
      await waitWatch('the "down" event', (GRACE + 20) * 1000, async () => (await events('rpi1')).length > 0);
      const [down] = await received();
      const after = (down.t * 1000 - t0) / 1000;
      assert.ok(
        after >= GRACE,
        `the "down" event came ${after.toFixed(1)} s after the tunnel stopped: not before ${GRACE} s`,
      );
      assert.ok(after < GRACE + 3 * INTERVAL + 5, `and not much later (${after.toFixed(1)} s)`);
      console.log(`# the "down" event arrived ${after.toFixed(1)} s after the tunnel stopped (grace ${GRACE} s)`);
      assert.equal(down.path, `/hook/${token}`);
      assert.equal(down.type, 'application/json');
      assert.deepEqual(Object.keys(down.event), ['device', 'state', 'since', 'relay', 'last_seen']);
      assert.equal(down.event.device, 'rpi1');
      assert.equal(down.event.state, 'down');
      assert.equal(down.event.relay, 'server');
      const since = Date.parse(down.event.since);
      const seen = Date.parse(down.event.last_seen!);
      assert.ok(
        since >= Math.floor(t0 / 1000) * 1000 && since <= t0 + 5_000,
        `since ${down.event.since}, stopped at ${new Date(t0).toISOString()}`,
      );
      assert.ok(seen <= since && seen >= t0 - 5_000, `last_seen ${down.event.last_seen}`);

      // While it is down: status (table and --json) and the metrics say when it was last seen.
      const { r, rows } = await statusJson();
      assert.equal(r.code, 3, show(r));
      const row = rows.find((x) => x.name === 'rpi1')!;
      assert.equal(row.up, false);
      assert.equal(row.last_seen, new Date(seen).toISOString(), JSON.stringify(row));
      assert.deepEqual(row.watch, {
        state: 'down',
        since: new Date(since).toISOString(),
        changes: (row.watch as { changes: number }).changes,
      });
      const table = await relayPlay(lab, ['status', inventory], 60_000);
      assert.match(table.stdout, /^DEVICE +PORT +TUNNEL +UP FOR +LAST SEEN +ERROR$/m, show(table));
      assert.match(table.stdout, /^rpi1 +\d+ +down +- +\d+s ago +/m, show(table));
      const m = await metrics();
      assert.equal(metric(m, 'relay_play_tunnel_up', 'rpi1'), 0);
      assert.equal(metric(m, 'relay_play_tunnel_last_seen_timestamp_seconds', 'rpi1'), seen / 1000);
      await sleep((3 * INTERVAL + 2) * 1000);
      assert.deepEqual(await events(), ['down'], 'one "down" only');

      await tunnel('rpi1', 'start');
      await waitWatch('the "up" event', 30_000, async () => (await events('rpi1')).length > 1);
      await sleep((3 * INTERVAL + 2) * 1000);
      const all = await received();
      assert.deepEqual(
        all.map((e) => e.event.state),
        ['down', 'up'],
      );
      assert.equal(all[1].event.since, all[1].event.last_seen);
    });

    it('the receiver away (hanging, then gone): events arrive once it is back; tunnels untouched; the URL in no command line or journal line', async () => {
      const base = (await received()).length;
      // Frozen: the kernel accepts connections, nobody answers them, so curl waits for its 10 s timeout.
      const freeze = await lab.exec('client', 'sudo systemctl kill -s SIGSTOP relay-play-hook');
      assert.equal(freeze.code, 0, show(freeze));
      await tunnel('rpi1', 'stop');
      // Every process's command line and environment on the relay, while curl is sending: never the URL.
      let curlSeen = 0;
      const deadline = Date.now() + (GRACE + 15) * 1000;
      while (Date.now() < deadline && curlSeen < 3) {
        const scan = await lab.exec(
          'server',
          `sudo sh -c 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; tr "\\0" "\\n" < $p/environ 2>/dev/null; done'`,
        );
        assert.equal(scan.code, 0, show(scan));
        assert.ok(!scan.stdout.includes(token), 'the URL is in a command line or environment on the relay');
        if (/^curl .*--config \/etc\/relay-play\/watch-webhook\.conf/m.test(scan.stdout)) curlSeen++;
        await sleep(300);
      }
      assert.ok(curlSeen >= 3, 'the scan saw curl sending (else it proves nothing)');
      // While curl hangs, the watcher goes on sampling.
      const mtime = async () => Number((await lab.exec('server', `stat -c %Y ${METRICS}`)).stdout);
      const m0 = await mtime();
      await waitWatch('the metrics rewritten while curl hangs', 10_000, async () => (await mtime()) > m0);
      await waitWatch('a delivery that timed out', 30_000, async () =>
        /webhook: could not send rpi1 down \(curl exit 28: timed out\); next try in 5 s/.test(await watchLog()),
      );
      await stopReceiver();
      await waitWatch('a delivery refused (the receiver gone)', 60_000, async () =>
        /webhook: could not send rpi1 down \(curl exit 7: could not connect\)/.test(await watchLog()),
      );
      // Each failure doubles the wait (the first from 5 s), whatever the failure was.
      const waits = [...(await watchLog()).matchAll(/could not send rpi1 down \(.*\); next try in (\d+) s/g)].map((m) =>
        Number(m[1]),
      );
      assert.deepEqual(
        waits,
        waits.map((_, k) => Math.min(5 * 2 ** k, 300)),
        `the back-off: ${waits.join(', ')}`,
      );
      assert.ok(waits.length >= 2, `retried: ${waits.join(', ')}`);
      await tunnel('rpi1', 'start');
      await waitTunnel('rpi1', true, 30_000);
      // The tunnels did not notice: rpi2 was up all along, rpi1 is back.
      const st = await statusJson();
      assert.equal(st.r.code, 0, show(st.r));
      assert.deepEqual(
        st.rows.map((x) => [x.name, x.up]),
        [
          ['rpi1', true],
          ['rpi2', true],
        ],
      );
      assert.equal((await received()).length, base, 'nothing arrived while it was away');
      await waitWatch(
        'the "down" and the "up" waiting (relay_play_webhook_queued_events 2)',
        10_000,
        async () => metric(await metrics(), 'relay_play_webhook_queued_events') === 2,
      );

      await startReceiver();
      await waitWatch(
        'the queued events, once the receiver is back',
        120_000,
        async () => (await received()).length >= base + 2,
      );
      await sleep((3 * INTERVAL + 2) * 1000);
      const late = (await received()).slice(base);
      assert.deepEqual(
        late.map((e) => [e.event.device, e.event.state]),
        [
          ['rpi1', 'down'],
          ['rpi1', 'up'],
        ],
      );
      assert.match(await watchLog(), /webhook: sent rpi1 down \(HTTP 204\)[^]*webhook: sent rpi1 up \(HTTP 204\)/);

      // No journal line, of any unit, in any field (-o verbose: the command lines of senders too), and no
      // file but the watcher's own config holds the URL (the journal's files included). The token reaches
      // these searches in a file, never on their command lines: sudo would log it.
      const search = await lab.exec(
        'server',
        `p=$(mktemp /tmp/relay-play-needle.XXXXXX) && cat > "$p" && sudo journalctl --no-pager -o verbose | wc -l && { sudo journalctl --no-pager -o verbose | grep -c -F -f "$p"; true; } && echo --- && { sudo grep -rlF -f "$p" /etc /var /run /tmp /root /home 2>/dev/null | grep -v -x -F "$p"; true; }; rm -f "$p"`,
        { input: `${token}\n` },
      );
      const [counts, found] = search.stdout.split('---\n');
      const [lines, hits] = counts.trim().split('\n').map(Number);
      assert.ok(lines > 1000, `the journal was read (${lines} lines)\n${show(search)}`);
      assert.equal(hits, 0, 'the URL is in the journal');
      assert.deepEqual(found.split('\n').filter(Boolean), ['/etc/relay-play/watch-webhook.conf'], show(search));
    });

    it('a device that never came up says so (status, metrics, no event); removing it removes its series', async () => {
      await ensureReceiver();
      // rpi9 is enrolled on the relay (its keys made here) and never boots.
      inventory = writeInventory(watchVars(), [...devices, 'rpi9']);
      const out = `${dir}/rpi9-user-data`;
      const en = await relayPlay(lab, ['enroll', inventory, 'rpi9', '--output', out]);
      assert.equal(en.code, 0, show(en));
      await waitFor('rpi9 in the metrics', 20_000, async () => (await tunnelUp('rpi9')) === 0);
      const m = await metrics();
      assert.equal(metric(m, 'relay_play_devices'), 3);
      assert.equal(metric(m, 'relay_play_tunnel_last_seen_timestamp_seconds', 'rpi9'), undefined);
      assert.equal(checkMetrics(m).code, 0);
      const { rows } = await statusJson();
      const row = rows.find((x) => x.name === 'rpi9')!;
      assert.equal(row.last_seen, null);
      assert.equal((row.watch as { state: string }).state, 'never');
      const table = await relayPlay(lab, ['status', inventory], 60_000);
      assert.match(table.stdout, /^rpi9 +\d+ +down +- +never +/m, show(table));
      const base = (await received()).length;
      await sleep((GRACE + 3 * INTERVAL + 2) * 1000);
      assert.equal((await received()).length, base, 'no event for a device that never came up');

      const rm = await relayPlay(lab, ['remove', inventory, 'rpi9']);
      assert.equal(rm.code, 0, show(rm));
      inventory = writeInventory(watchVars());
      await waitFor('rpi9 gone from the metrics', 20_000, async () => !(await metrics()).includes('rpi9'));
      assert.equal(metric(await metrics(), 'relay_play_devices'), 2);
      const state = await lab.exec('server', 'cat /var/lib/relay-play/watch/state');
      assert.doesNotMatch(state.stdout, /rpi9/);
    });

    it('the relay reboots: state, last seen and counts survive; nothing is announced twice', async () => {
      await ensureReceiver();
      await tunnel('rpi2', 'stop');
      await waitWatch('the "down" event of rpi2', (GRACE + 20) * 1000, async () =>
        (await events('rpi2')).includes('down'),
      );
      const record = async () =>
        (await lab.exec('server', 'cat /var/lib/relay-play/watch/state')).stdout
          .split('\n')
          .find((l) => l.startsWith('rpi2 '));
      const before = await record();
      assert.match(before!, /^rpi2 \d+ down \d+ \d+ \d+ down$/);
      const m0 = await metrics();
      const base = (await received()).length;
      const rpi1Changes = metric(m0, 'relay_play_tunnel_changes_total', 'rpi1')!;

      const booted = Date.now() / 1000;
      await lab.reboot('server');
      await waitFor('the watcher sampling after the reboot', 60_000, async () => {
        const r = await lab.exec('server', `stat -c %Y ${METRICS}`);
        return r.code === 0 && Number(r.stdout) > booted;
      });
      await waitTunnel('rpi1', true, 90_000);
      assert.equal(await record(), before, "rpi2's record is as it was");
      const m1 = await metrics();
      assert.equal(
        metric(m1, 'relay_play_tunnel_last_seen_timestamp_seconds', 'rpi2'),
        metric(m0, 'relay_play_tunnel_last_seen_timestamp_seconds', 'rpi2'),
      );
      assert.equal(
        metric(m1, 'relay_play_tunnel_changes_total', 'rpi2'),
        metric(m0, 'relay_play_tunnel_changes_total', 'rpi2'),
      );
      assert.ok(metric(m1, 'relay_play_tunnel_changes_total', 'rpi1')! >= rpi1Changes, 'a counter never goes back');
      const { rows } = await statusJson();
      const seen = Number(before!.split(' ')[4]);
      assert.equal(rows.find((x) => x.name === 'rpi2')!.last_seen, new Date(seen * 1000).toISOString());

      await sleep((GRACE + 3 * INTERVAL + 2) * 1000);
      // rpi2 was announced down before the reboot: not again. rpi1 was cut off by the reboot: if that
      // lasted longer than the grace, a "down" then an "up"; else nothing.
      const late = (await received()).slice(base).map((e) => [e.event.device, e.event.state].join(' '));
      console.log(`# events after the relay's reboot, before rpi2 came back: ${late.join(', ') || 'none'}`);
      assert.ok(!late.includes('rpi2 down'), late.join(', '));
      assert.ok(late.length === 0 || late.join(', ') === 'rpi1 down, rpi1 up', late.join(', '));

      await tunnel('rpi2', 'start');
      await waitWatch('the "up" event of rpi2', 60_000, async () => (await events('rpi2')).at(-1) === 'up');
      assert.deepEqual(
        (await received())
          .slice(base)
          .filter((e) => e.event.device === 'rpi2')
          .map((e) => e.event.state),
        ['up'],
      );
    });

    // Last: it leaves the relay without curl.
    it('a relay without curl: --check shows apt would install it; with no package mirror, apply fails there only, after tunnels and clients', async () => {
      const rm = await lab.exec('server', 'sudo dpkg -r curl >/dev/null 2>&1; ! command -v curl');
      assert.equal(rm.code, 0, show(rm));
      const check = await relayPlay(lab, ['apply', inventory, '--check', '--diff']);
      assert.equal(check.code, 0, show(check));
      assert.match(
        check.stdout,
        /^changed: \[server\] relay-watch : curl and CA certificates installed$/m,
        show(check),
      );
      assert.match(check.stdout, /^\+curl: /m, show(check));
      assert.equal((await lab.exec('server', 'command -v curl')).code, 1, 'check mode installed nothing');
      // The lab's hosts reach no mirror: apt fails, in the last play; every other play ran before it.
      const r = await relayPlay(lab, ['apply', inventory]);
      assert.equal(r.code, 2, show(r));
      assert.match(
        r.stdout,
        /^fatal: \[server\] relay-watch : curl and CA certificates installed => FAILED!/m,
        show(r),
      );
      assert.match(r.stdout, /PLAY \[clients\][^]*PLAY \[relay tunnel watcher\]/, show(r));
      const st = await statusJson();
      assert.equal(st.r.code, 0, show(st.r));
    });
  },
);
