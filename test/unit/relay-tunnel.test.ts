// relay_tunnel's plan without a host: a relay that failed in this run leaves the tunnel as it is, after
// the reads the task makes first, asked at once (so they can be sent before the relay's plays run); the
// rollback's own files are put in place before any change to the tunnel, from those same reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseTunnelFacts, relay_tunnel, tunnelRead } from '../../src/relay/modules/relay_tunnel.js';
import { cannedCtx, planWith } from './modules/fake-host.js';
import { parseShScript } from '../../src/engine/util/quote.js';
import { shFile } from '../../src/engine/util/sh-file.js';

const TEMPLATES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'roles',
  'reverse-tunnel-service',
  'templates',
);
const tpl = (name: string) => join(TEMPLATES, name);
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const ARGS = {
  src: tpl('relay-tunnel.service.hbs'),
  rollback_src: tpl('tunnel-rollback.sh.hbs'),
  rollback_unit_src: tpl('relay-play-rollback.service.hbs'),
  relay_host_key: KEY,
};

/** A file line of the read: owner:group:mode and content, as the host reports it. */
const fileLine = (name: string, content: string, attrs = 'root:root:644') =>
  `${name}=${attrs} ${Buffer.from(content).toString('base64')}`;
const text = (name: string) => readFileSync(tpl(name), 'utf8');

/** The read of a device whose tunnel runs as wanted; `over` replaces lines by key. */
function state(over: Record<string, string> = {}): string {
  const lines: Record<string, string> = {
    unit: fileLine('unit', text('relay-tunnel.service.hbs')),
    pin: fileLine('pin', `relay-play-relay ${KEY}\n`),
    rollback_unit: fileLine('rollback_unit', text('relay-play-rollback.service.hbs')),
    rollback_script: fileLine('rollback_script', text('tunnel-rollback.sh.hbs'), 'root:root:755'),
    ...over,
  };
  const units = [
    'units',
    'ActiveState=active',
    'UnitFileState=enabled',
    'InvocationID=abc',
    '',
    `ActiveState=inactive`,
    `UnitFileState=${over.rollbackEnabled ?? 'enabled'}`,
    'InvocationID=',
    'end-units',
  ];
  return [
    ...wire([lines.unit, lines.pin, lines.rollback_unit, lines.rollback_script]),
    ...units,
    'armed=',
    'newkey=no',
    '',
  ].join('\n');
}

/** The four files as the read reports them: which exist, a stat line each (owner:group:mode size), one base64 of them all. */
function wire(files: string[]): string[] {
  const present = files
    .map((l) => l.slice(l.indexOf('=') + 1))
    .map((v) =>
      v === 'absent' ? undefined : { attrs: v.split(' ')[0], content: Buffer.from(v.split(' ')[1] ?? '', 'base64') },
    );
  const found = present.filter((f) => f !== undefined);
  return [
    ...present.map((f, i) => `file${i + 1}=${f ? 'yes' : 'absent'}`),
    ...found.map((f) => `stat=${f.attrs} ${f.content.length}`),
    ...(found.length ? [`content=${Buffer.concat(found.map((f) => f.content)).toString('base64')}`] : []),
  ];
}

const describes = (p: { steps: { describe: string }[] }) => p.steps.map((s) => s.describe);

/** A host that answers the task's two reads from state(): the units' block for its systemctl show, the rest for its script. */
function tunnelCtx(text: string) {
  const lines = text.split('\n');
  const [from, to] = [lines.indexOf('units'), lines.indexOf('end-units')];
  const shown = lines.slice(from + 1, to).join('\n') + '\n';
  const script = [...lines.slice(0, from), ...lines.slice(to + 1)].join('\n');
  return cannedCtx((command) => (command.startsWith('systemctl show ') ? shown : script));
}

describe('relay_tunnel', () => {
  for (const ready of [false, 'False', 'no']) {
    it(`relay_ready ${JSON.stringify(ready)}: skipped after its read, nothing changed`, async () => {
      const ctx = tunnelCtx(state({ unit: 'unit=absent' }));
      const p = await planWith(relay_tunnel, { ...ARGS, relay_ready: ready } as never, ctx);
      assert.equal(p.skipped, true);
      assert.equal(p.changed, false);
      assert.deepEqual(p.steps, []);
      assert.match(p.msg ?? '', /relay failed in this run/);
      assert.equal(ctx.reads.length, 2); // its script and its units, asked at once: one trip
    });
  }

  it('a tunnel running as wanted, with its rollback in place: nothing to do, one read', async () => {
    const ctx = tunnelCtx(state());
    const p = await planWith(relay_tunnel, ARGS as never, ctx);
    assert.equal(p.changed, false);
    assert.deepEqual(p.steps, []);
    assert.equal(ctx.reads.length, 2); // its script and its units, asked at once: one trip
  });

  it('a first install: the rollback (directory, script, unit) before the snapshot and the switch, which enables both units', async () => {
    const none = {
      unit: 'unit=absent',
      pin: 'pin=absent',
      rollback_unit: 'rollback_unit=absent',
      rollback_script: 'rollback_script=absent',
      rollbackEnabled: '',
    };
    const p = await planWith(relay_tunnel, ARGS as never, tunnelCtx(state(none)));
    assert.equal(p.changed, true);
    assert.deepEqual(describes(p), [
      'mkdir /usr/local/lib/relay-play',
      'write /usr/local/lib/relay-play/tunnel-rollback',
      'write /etc/systemd/system/relay-play-rollback.service',
      'keep the running tunnel configuration for a rollback',
      'write /etc/systemd/system/relay-tunnel.service',
      'write /etc/relay-play/known_hosts',
      'restart relay-tunnel.service with a rollback armed (60 s)',
    ]);
    assert.ok(p.confirm, 'the change is confirmed through the relay');
    assert.match(p.steps[1].command, /0755/);
    const switchArgs = parseShScript(p.steps[p.steps.length - 1].command)!.args;
    assert.equal(switchArgs[6], 'relay-play-rollback.service', 'the switch enables the rollback unit too');
    assert.equal(switchArgs[7], '', 'units new to systemd: no reload forced');
  });

  it('only the rollback drifted (script edited, unit disabled): put back, the tunnel not restarted', async () => {
    const p = await planWith(
      relay_tunnel,
      ARGS as never,
      tunnelCtx(
        state({
          rollback_script: fileLine('rollback_script', '#!/bin/sh\nexit 0\n', 'root:root:755'),
          rollbackEnabled: 'disabled',
        }),
      ),
    );
    assert.equal(p.changed, true);
    assert.deepEqual(describes(p), [
      'write /usr/local/lib/relay-play/tunnel-rollback',
      'enable relay-play-rollback.service',
    ]);
    assert.equal(p.confirm, undefined);
    assert.deepEqual(
      p.diff?.map((d) => d.after_header),
      ['/usr/local/lib/relay-play/tunnel-rollback'],
    );
  });

  it('a tunnel running but disabled by hand: enabled with a daemon-reload, and confirmed under the invocation it has', async () => {
    const ctx = tunnelCtx(state().replace('UnitFileState=enabled', 'UnitFileState=disabled'));
    const p = await planWith(relay_tunnel, { ...ARGS, confirm_timeout: 10 } as never, ctx);
    assert.deepEqual(describes(p), ['start relay-tunnel.service']);
    // systemd keeps the UnitFileState it loaded: without the reload the next run would find it disabled again.
    assert.match(p.steps[0].command, /daemon-reload/);
    // The device's confirm says "waiting" while the tunnel runs the invocation given as before ($1).
    const confirm = {
      host: 'h1',
      via: 'direct' as const,
      run: async (command: string) => ({
        code: 0,
        stdout: parseShScript(command)?.args[0] === 'abc' ? 'waiting active\n' : 'confirmed\n',
        stderr: '',
      }),
      probe: async () => ({ close: async () => undefined }) as never,
      adopt: async () => undefined,
      reconnect: async () => undefined,
    };
    const done = await p.confirm!(confirm, []);
    assert.equal(done.failed, undefined, done.failed);
  });

  it("the rollback script's mode drifted: chmod only", async () => {
    const p = await planWith(
      relay_tunnel,
      ARGS as never,
      tunnelCtx(
        state({ rollback_script: fileLine('rollback_script', text('tunnel-rollback.sh.hbs'), 'root:root:644') }),
      ),
    );
    assert.deepEqual(describes(p), ['chmod 0755 /usr/local/lib/relay-play/tunnel-rollback']);
  });
});

describe('reload_if_needed (the tunnel switch and the rollback unit)', () => {
  // systemctl faked on PATH: `show` prints the canned answer, every call is logged.
  const run = (answer: string, units: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-systemctl-'));
    try {
      writeFileSync(
        join(dir, 'systemctl'),
        `#!/bin/sh\necho "$*" >> "${dir}/calls"\nif [ "$1" = show ]; then printf '%s' '${answer}'; fi\n`,
        { mode: 0o755 },
      );
      const r = spawnSync(
        'sh',
        ['-c', `${shFile('relay/modules/relay_tunnel/reload-if-needed.sh')}\nreload_if_needed "$@"`, 'sh', ...units],
        {
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(join(dir, 'calls'), 'utf8').includes('daemon-reload');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const two = ['relay-tunnel.service', 'relay-play-rollback.service'];

  it('no reload when systemd says no for every unit (a block each, an empty line between)', () => {
    assert.equal(run('no\n\nno\n', two), false);
    assert.equal(run('no\n', ['relay-play-rollback.service']), false);
  });

  it('a reload when any unit says yes, or an answer is missing', () => {
    assert.equal(run('no\n\nyes\n', two), true);
    assert.equal(run('yes\n\nno\n', two), true);
    assert.equal(run('no\n', two), true);
    assert.equal(run('', two), true);
  });

  it("the read, run by sh on real files: each file's content and attributes exactly, absent ones absent; a file changed between stat and read is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-tunnel-read-'));
    try {
      // The units are names under /etc/systemd/system: ../ leads them here.
      const up = `../../..${dir}`;
      writeFileSync(join(dir, 'relay-tunnel.service'), 'ünïcode unit\n');
      writeFileSync(join(dir, 'known_hosts'), ''); // empty
      writeFileSync(join(dir, 'rollback'), '#!/bin/sh\nno newline at end', { mode: 0o750 });
      const cmd = tunnelRead(
        dir,
        `${up}/relay-tunnel.service`,
        '',
        `${up}/relay-play-rollback.service`,
        join(dir, 'rollback'),
      );
      const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
      const f = parseTunnelFacts(r.stdout, '');
      const me = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
      assert.deepEqual(
        f.unit,
        { exists: true, type: 'file', owner: me, group: f.unit.group, mode: '0644', content: 'ünïcode unit\n' },
        r.stdout + r.stderr,
      );
      assert.equal(f.pin.content, '');
      assert.deepEqual(f.rollbackUnit, { exists: false });
      assert.equal(f.rollbackScript.content, '#!/bin/sh\nno newline at end');
      assert.equal(f.rollbackScript.mode, '0750');
      // A file that grew after its stat: the pieces would not be the files.
      const grown = r.stdout.replace(
        /^content=.*$/m,
        `content=${Buffer.from('ünïcode unit\nX#!/bin/sh\nno newline at end').toString('base64')}`,
      );
      assert.throws(() => parseTunnelFacts(grown, ''), /changed while they were read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('confirm.sh: a confirm whose answer was lost is answered the same when asked again', () => {
  // systemctl faked on PATH: the tunnel runs a new invocation; the rollback files are real, in a temp dir.
  const confirm = (dir: string, before: string, token: string) => {
    const cmd = shFile('relay/modules/relay_tunnel/confirm.sh', {
      TUNNEL_UNIT: 'relay-tunnel.service',
      DIR: dir,
      RB: 'rollback',
      TIMER: 'relay-play-rollback-arm',
    });
    const r = spawnSync('sh', ['-c', cmd, 'sh', before, token], {
      env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const device = () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-confirm-'));
    spawnSync('mkdir', ['-p', join(dir, 'bin'), join(dir, 'rollback')]);
    writeFileSync(
      join(dir, 'bin', 'systemctl'),
      `#!/bin/sh\nif [ "$1" = show ]; then printf 'InvocationID=new\\nActiveState=active\\n'; fi\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(dir, 'rollback', 'armed'), 'T1\n');
    return dir;
  };

  it('confirmed once: the rollback disarmed; asked again with the same token: confirmed, not rolled back', () => {
    const dir = device();
    try {
      assert.equal(confirm(dir, 'old', 'T1'), 'confirmed');
      assert.equal(spawnSync('test', ['-e', join(dir, 'rollback')]).status, 1, 'the rollback is disarmed');
      assert.equal(confirm(dir, 'old', 'T1'), 'confirmed');
      assert.equal(confirm(dir, 'old', 'T2'), 'rolled-back', 'another change, never confirmed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the same invocation as before the change: waiting, nothing disarmed', () => {
    const dir = device();
    try {
      assert.equal(confirm(dir, 'new', 'T1'), 'waiting active');
      assert.equal(readFileSync(join(dir, 'rollback', 'armed'), 'utf8'), 'T1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
