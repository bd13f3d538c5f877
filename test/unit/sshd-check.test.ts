// sshd_check without hosts: what the report of a real sshd looks like (canned from Debian 12's
// OpenSSH 9.2 and Debian 13's 10.0 lab hosts), what each failure says, and that the relay's proof
// (sshd -T -C user=relay) checks every setting of the drop-in it proves.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { differences, globRegExp, parseReport, sshd_check, sshdUnit } from '../../src/relay/modules/sshd_check.js';
import { bundledRolesDir } from '../../src/relay/app.js';
import { renderString } from '../../src/engine/template/jinja.js';
import { renderHandlebars } from '../../src/engine/template/handlebars.js';
import { cannedCtx, planWith, sandbox, sandboxCtx } from './modules/fake-host.js';

/** systemctl show of both names, as it prints them: whether ssh.service exists, and what sshd.service is (an alias resolves to its unit's Id). */
const units = (sshLoaded: boolean, sshdId: string | null, active: 'ssh' | 'sshd' = sshLoaded ? 'ssh' : 'sshd') =>
  [
    'Id=ssh.service',
    `LoadState=${sshLoaded ? 'loaded' : 'not-found'}`,
    `ActiveState=${sshLoaded && active === 'ssh' ? 'active' : 'inactive'}`,
    '',
    `Id=${sshdId ?? 'sshd.service'}`,
    `LoadState=${sshdId ? 'loaded' : 'not-found'}`,
    `ActiveState=${sshdId && (active === 'sshd' || sshdId === 'ssh.service') ? 'active' : 'inactive'}`,
  ].join('\n') + '\n';
const DEBIAN = units(true, 'ssh.service');

/** A report as the module's script prints it: Debian 13 by default. sshd's debug lines end in \r\n. */
function report(
  o: {
    binary?: string;
    version?: string;
    testRc?: number;
    errors?: string[];
    includes?: string[];
    dump?: string[];
    dumpRc?: number;
  } = {},
): string {
  const lines = [`binary=${o.binary ?? '/usr/sbin/sshd'}`];
  if (o.binary === '') return lines.join('\n') + '\n';
  lines.push(`version=${o.version ?? 'OpenSSH_10.0p2'}`, `test_rc=${o.testRc ?? 0}`);
  for (const i of o.includes ?? ['/etc/ssh/sshd_config.d/*.conf']) lines.push(`I ${i}\r`);
  for (const e of o.errors ?? []) lines.push(`E ${e}\r`);
  if ((o.testRc ?? 0) === 0) {
    lines.push(`dump_rc=${o.dumpRc ?? 0}`);
    for (const d of o.dump ?? [
      'port 22',
      'listenaddress [::]:22',
      'listenaddress 0.0.0.0:22',
      'permittty yes',
      'forcecommand none',
      'persourcepenalties crash:90 authfail:5 noauth:1',
      'persourcepenaltyexemptlist none',
    ])
      lines.push(`T ${d}`);
  }
  return lines.join('\n') + '\n';
}
/** The module's plan on canned reads: `out` for its script, `shown` for its systemctl show of the units. */
const plan = (args: Record<string, unknown>, out: string, host = 'rpi1', shown = DEBIAN) =>
  planWith(
    sshd_check,
    args as never,
    cannedCtx((command) => (command.startsWith('systemctl show ') ? shown : out), { host }),
  );

describe('sshd_check: the report of sshd', () => {
  it('parses binary, units, version, includes (without the \\r of debug output), sshd -T settings', () => {
    const r = parseReport(report(), DEBIAN);
    assert.equal(r.binary, '/usr/sbin/sshd');
    assert.equal(r.version, 'OpenSSH_10.0p2');
    assert.deepEqual(r.includes, ['/etc/ssh/sshd_config.d/*.conf']);
    assert.deepEqual(r.settings.listenaddress, ['[::]:22', '0.0.0.0:22']);
    assert.deepEqual(r.settings.persourcepenaltyexemptlist, ['none']);
    assert.equal(r.testRc, 0);
    assert.equal(r.dumpRc, 0);
  });

  it("the unit: Debian's ssh.service (its alias sshd.service resolves to it), else sshd.service, else none", () => {
    assert.equal(sshdUnit(parseReport(report(), DEBIAN)), 'ssh.service');
    assert.equal(sshdUnit(parseReport(report(), units(false, 'sshd.service'))), 'sshd.service');
    assert.equal(sshdUnit(parseReport(report(), units(false, null))), undefined);
    // Both exist (e.g. a SysV script's generated ssh.service besides the real sshd.service): the running one.
    assert.equal(sshdUnit(parseReport(report(), units(true, 'sshd.service', 'sshd'))), 'sshd.service');
    assert.equal(sshdUnit(parseReport(report(), units(true, 'sshd.service', 'ssh'))), 'ssh.service');
  });

  it("Include globs match as sshd's do: * stays within a directory", () => {
    assert.ok(globRegExp('/etc/ssh/sshd_config.d/*.conf').test('/etc/ssh/sshd_config.d/relay-play.conf'));
    assert.ok(!globRegExp('/etc/ssh/sshd_config.d/*.conf').test('/etc/ssh/sshd_config.d/sub/relay-play.conf'));
    assert.ok(!globRegExp('/etc/ssh/sshd_config.d/*.cfg').test('/etc/ssh/sshd_config.d/relay-play.conf'));
    assert.ok(globRegExp('/etc/ssh/sshd_config.d/[a-z]*').test('/etc/ssh/sshd_config.d/relay-play.conf'));
    assert.ok(!globRegExp('/etc/ssh/sshd_config.d/0?-*.conf').test('/etc/ssh/sshd_config.d/relay-play.conf'));
    assert.ok(!globRegExp('/etc/ssh/sshd.d/*.conf').test('/etc/ssh/sshd_config.d/relay-play.conf'), '. is no wildcard');
  });

  it('differences: case and spacing do not matter, values do', () => {
    const settings = {
      permittty: ['no'],
      permitlisten: ['localhost:22221 localhost:22222'],
      forcecommand: ['/bin/false'],
    };
    assert.deepEqual(
      differences(settings, {
        permittty: 'No',
        permitlisten: 'localhost:22221  localhost:22222',
        forcecommand: '/bin/false',
      }),
      [],
    );
    assert.deepEqual(differences(settings, { permittty: 'yes', permitopen: 'none', permitlisten: 'localhost:22221' }), [
      'permittty: sshd applies "no", want "yes"',
      'permitopen: sshd shows no such setting, want "none"',
      'permitlisten: sshd applies "localhost:22221 localhost:22222", want "localhost:22221"',
    ]);
  });
});

describe('sshd_check: plans', () => {
  it('a good sshd: no change, its facts in the result (PerSourcePenalties known on OpenSSH 10)', async () => {
    const p = await plan({ dropin: '/etc/ssh/sshd_config.d/relay-play.conf' }, report());
    assert.equal(p.failed, undefined);
    assert.equal(p.changed, false);
    assert.deepEqual(p.steps, []);
    assert.deepEqual(p.result, {
      binary: '/usr/sbin/sshd',
      unit: 'ssh.service',
      version: 'OpenSSH_10.0p2',
      penalties: true,
      includes: ['/etc/ssh/sshd_config.d/*.conf'],
      config: '/etc/ssh/sshd_config',
    });
  });

  it('OpenSSH 9.2 (no PerSourcePenalties): penalties false', async () => {
    const p = await plan({}, report({ version: 'OpenSSH_9.2', dump: ['port 22', 'permittty yes'] }));
    assert.equal(p.result?.penalties, false);
  });

  it('two reads, asked together: the script, with the config and the -C spec as single words, and the units', async () => {
    const out = report({ dump: ['port 22', 'permittty no'] });
    const ctx = cannedCtx((command) => (command.startsWith('systemctl show ') ? DEBIAN : out));
    await planWith(
      sshd_check,
      {
        config: '/etc/ssh/my config',
        match: { user: 'relay', host: 'relay-play-check', addr: '192.0.2.1' },
        expect: { permittty: 'no' },
      },
      ctx,
    );
    assert.equal(ctx.reads.length, 2);
    assert.ok(
      ctx.reads[0].endsWith(" sh '/etc/ssh/my config' user=relay,host=relay-play-check,addr=192.0.2.1"),
      ctx.reads[0],
    );
    assert.equal(ctx.reads[1], 'systemctl show -p Id,LoadState,ActiveState -- ssh.service sshd.service');
  });

  it('no sshd, no unit: clear failures', async () => {
    assert.match((await plan({}, report({ binary: '' }))).failed ?? '', /^no sshd on rpi1 /);
    assert.match(
      (await plan({}, report(), 'rpi1', units(false, null))).failed ?? '',
      /neither ssh\.service nor sshd\.service/,
    );
  });

  it('sshd -t failing: its own message, and that nothing was changed', async () => {
    const p = await plan(
      {},
      report({
        testRc: 255,
        errors: [
          '/etc/ssh/sshd_config.d/zz-broken.conf: line 1: Bad configuration option: ThisIsNotAnSshdOption',
          '/etc/ssh/sshd_config.d/zz-broken.conf: terminating, 1 bad configuration options',
        ],
      }),
    );
    assert.equal(
      p.failed,
      "sshd -t fails on rpi1's configuration as it is, before relay-play changes it: /etc/ssh/sshd_config.d/zz-broken.conf: line 1: Bad configuration option: ThisIsNotAnSshdOption; /etc/ssh/sshd_config.d/zz-broken.conf: terminating, 1 bad configuration options",
    );
  });

  it('no Include of sshd_config.d: refused, with the line to add', async () => {
    const p = await plan({ dropin: '/etc/ssh/sshd_config.d/relay-play.conf' }, report({ includes: [] }), 'server');
    assert.match(
      p.failed ?? '',
      /^sshd on server would not read \/etc\/ssh\/sshd_config\.d\/relay-play\.conf: \/etc\/ssh\/sshd_config does not include \/etc\/ssh\/sshd_config\.d \(includes: none\)/,
    );
    assert.match(p.failed ?? '', /settings there would do nothing; none were written\./);
    assert.match(p.failed ?? '', /\n {4}Include \/etc\/ssh\/sshd_config\.d\/\*\.conf$/);
    // An Include of another directory does not count; one nested elsewhere that reaches it does.
    assert.match(
      (
        await plan(
          { dropin: '/etc/ssh/sshd_config.d/relay-play.conf' },
          report({ includes: ['/etc/ssh/other.d/*.conf'] }),
        )
      ).failed ?? '',
      /includes: \/etc\/ssh\/other\.d\/\*\.conf/,
    );
    assert.equal(
      (
        await plan(
          { dropin: '/etc/ssh/sshd_config.d/relay-play.conf' },
          report({ includes: ['/usr/etc/ssh/sshd_config.d/*', '/etc/ssh/sshd_config.d/*.conf'] }),
        )
      ).failed,
      undefined,
    );
  });

  it('settings sshd does not apply: every difference named', async () => {
    const p = await plan(
      {
        match: { user: 'relay', host: 'h', addr: '192.0.2.1' },
        expect: { permittty: 'no', forcecommand: '/bin/false' },
      },
      report(),
      'server',
    );
    assert.match(
      p.failed ?? '',
      /^sshd on server does not apply relay-play's rules \(sshd -T -C user=relay,host=h,addr=192\.0\.2\.1\): permittty: sshd applies "yes", want "no"; forcecommand: sshd applies "none", want "\/bin\/false"\./,
    );
  });

  it('sshd not listening on the port given: says which variable is which', async () => {
    const p = await plan({ port: 2222 }, report(), 'server');
    assert.match(
      p.failed ?? '',
      /^sshd on server listens on port 22, not 2222 \(relay_sshd_port: the port the relay's sshd listens on; relay_ssh_port: the port devices and clients dial/,
    );
    assert.equal((await plan({ port: '22' }, report())).failed, undefined);
  });

  it('sshd -T failing: its message', async () => {
    const p = await plan({ match: { user: 'relay' } }, report({ dumpRc: 255, dump: ['Match spec is invalid'] }));
    assert.match(p.failed ?? '', /^sshd -T -C user=relay fails on rpi1: Match spec is invalid/);
  });

  it('the schema: expect needs match; match words cannot carry a comma or a space', async () => {
    await assert.rejects(plan({ expect: { permittty: 'no' } }, report()), /invalid args/);
    await assert.rejects(plan({ match: { user: 'relay,addr=1.2.3.4' } }, report()), /invalid args/);
    await assert.rejects(plan({ match: { user: 'relay x' } }, report()), /invalid args/);
  });
});

describe('sshd_check: its script, run for real against a fake sshd and systemctl', () => {
  // What sshd prints: with -ddd it logs to stderr with \r\n line ends, its version and each Include it
  // reads; -T tests as -t does, then dumps the settings on stdout (LogLevel as -ddd made it).
  const FAKE_SSHD = `#!/bin/sh
case "$1" in -ddd) debug=1; shift ;; esac
mode=$1
if [ -n "$debug" ]; then
  printf 'debug1: sshd version OpenSSH_10.0, OpenSSL 3.5.9\\r\\n' >&2
  printf 'debug2: load_server_config: filename %s\\r\\n' "$3" >&2
  if [ -n "$INCLUDE" ]; then printf 'debug2: %s line 12: new include %s\\r\\n' "$3" "$INCLUDE" >&2; fi
  printf 'debug3: %s:62 setting KbdInteractiveAuthentication no\\r\\n' "$3" >&2
fi
if [ -n "$BROKEN" ]; then printf '%s\\r\\n' "$BROKEN" "$3: terminating, 1 bad configuration options" >&2; exit 255; fi
if [ "$mode" = -T ]; then
  printf 'port %s\\npermittty no\\npersourcepenalties crash:90 noauth:1\\n' "\${PORT:-22}"
  if [ -n "$debug" ]; then echo 'loglevel DEBUG3'; else echo 'loglevel INFO'; fi
fi
`;
  // Debian: ssh.service, and sshd.service its alias; a block per unit asked for, a blank line between.
  const FAKE_SYSTEMCTL = `#!/bin/sh
printf 'Id=ssh.service\\nLoadState=loaded\\nActiveState=active\\n'
for u in "$@"; do case "$u" in sshd.service) printf '\\nId=ssh.service\\nLoadState=loaded\\nActiveState=active\\n' ;; esac; done
`;
  const withFakes = async <T>(
    env: Record<string, string>,
    fn: (ctx: ReturnType<typeof sandboxCtx>) => Promise<T>,
  ): Promise<T> => {
    const sb = sandbox();
    const saved = { ...process.env };
    try {
      writeFileSync(sb.p('sshd'), FAKE_SSHD, { mode: 0o755 });
      writeFileSync(sb.p('systemctl'), FAKE_SYSTEMCTL, { mode: 0o755 });
      Object.assign(process.env, { PATH: `${sb.dir}:${process.env.PATH}`, INCLUDE: '', BROKEN: '', PORT: '' }, env);
      return await fn(sandboxCtx(sb));
    } finally {
      for (const k of ['PATH', 'INCLUDE', 'BROKEN', 'PORT']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      sb.cleanup();
    }
  };

  it('a good sshd: its binary, unit, version, the Include it reads, and its settings', async () => {
    const p = await withFakes({ INCLUDE: '/etc/ssh/sshd_config.d/*.conf' }, (ctx) =>
      planWith(
        sshd_check,
        {
          dropin: '/etc/ssh/sshd_config.d/relay-play.conf',
          match: { user: 'relay', host: 'h', addr: '192.0.2.1' },
          expect: { permittty: 'no' },
          port: 22,
        },
        ctx,
      ),
    );
    assert.equal(p.failed, undefined);
    assert.match(String(p.result?.binary), /\/sshd$/);
    assert.deepEqual(
      { ...p.result, binary: 'x' },
      {
        binary: 'x',
        unit: 'ssh.service',
        version: 'OpenSSH_10.0',
        penalties: true,
        includes: ['/etc/ssh/sshd_config.d/*.conf'],
        config: '/etc/ssh/sshd_config',
      },
    );
  });

  it('without a -C spec, one sshd -T: its settings, version and Include, not the LogLevel -ddd gave it', async () => {
    const outputs: string[] = [];
    const p = await withFakes({ INCLUDE: '/etc/ssh/sshd_config.d/*.conf', PORT: '2222' }, (ctx) => {
      const read = ctx.read.bind(ctx);
      ctx.read = (command) => {
        const r = read(command);
        outputs.push(r.stdout);
        return r;
      };
      return planWith(sshd_check, { dropin: '/etc/ssh/sshd_config.d/relay-play.conf', port: 22 }, ctx);
    });
    assert.match(p.failed ?? '', /listens on port 2222, not 22/);
    assert.deepEqual(
      { ...p.result, binary: 'x' },
      {
        binary: 'x',
        unit: 'ssh.service',
        version: 'OpenSSH_10.0',
        penalties: true,
        includes: ['/etc/ssh/sshd_config.d/*.conf'],
        config: '/etc/ssh/sshd_config',
      },
    );
    // Two reads: the script (one sshd -T) and systemctl show of the units.
    assert.equal(outputs.length, 2);
    const r = parseReport(
      outputs.find((o) => o.startsWith('binary='))!,
      outputs.find((o) => o.startsWith('Id='))!,
    );
    assert.deepEqual([r.testRc, r.dumpRc, r.settings.loglevel, r.settings.permittty], [0, 0, undefined, ['no']]);
    assert.deepEqual(Object.keys(r.units), ['ssh.service', 'sshd.service']);
  });

  it('sshd -t failing: only its own messages, not the debug lines nor the Include it read', async () => {
    const p = await withFakes(
      {
        INCLUDE: '/etc/ssh/sshd_config.d/*.conf',
        BROKEN: '/etc/ssh/sshd_config.d/zz.conf: line 1: Bad configuration option: Nope',
      },
      (ctx) => planWith(sshd_check, {}, ctx),
    );
    assert.equal(
      p.failed,
      "sshd -t fails on h1's configuration as it is, before relay-play changes it: /etc/ssh/sshd_config.d/zz.conf: line 1: Bad configuration option: Nope; /etc/ssh/sshd_config: terminating, 1 bad configuration options",
    );
  });

  it('no Include: refused', async () => {
    const p = await withFakes({}, (ctx) =>
      planWith(sshd_check, { dropin: '/etc/ssh/sshd_config.d/relay-play.conf' }, ctx),
    );
    assert.match(p.failed ?? '', /does not include \/etc\/ssh\/sshd_config\.d \(includes: none\)/);
  });
});

describe('the relay proves what its drop-in says', () => {
  it('the sshd -T check expects every setting of the Match block, with the same values', () => {
    const vars = { relay_permit: 'localhost:22221 localhost:22222', relay_max_startups: '20:30:100' };
    const conf = String(
      renderHandlebars(readFileSync(join(bundledRolesDir(), 'relay-user/templates/relay-play.conf.hbs'), 'utf8'), vars),
    );
    // The Match block's settings, and the global ones the drop-in sets before it.
    const written = Object.fromEntries(
      conf
        .split('\n')
        .filter((l) => !/^Match /.test(l))
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => [l.split(/\s+/)[0].toLowerCase(), l.split(/\s+/).slice(1).join(' ')]),
    );
    const tasks = parse(readFileSync(join(bundledRolesDir(), 'relay-user/tasks/main.yaml'), 'utf8')) as Record<
      string,
      any // eslint-disable-line @typescript-eslint/no-explicit-any
    >[];
    const proof = tasks.find((t) => t.sshd_check?.expect)!;
    assert.ok(proof, 'relay-user has an sshd_check with expect');
    const expected = Object.fromEntries(
      Object.entries(proof.sshd_check.expect as Record<string, unknown>).map(([k, v]) => [
        k,
        String(renderString(String(v), vars)),
      ]),
    );
    assert.deepEqual(expected, written);
    assert.deepEqual(proof.sshd_check.match, { user: 'relay', host: 'relay-play-check', addr: '192.0.2.1' });
    assert.equal(proof.sshd_check.port, '{{ relay_sshd_port }}');
  });
});
