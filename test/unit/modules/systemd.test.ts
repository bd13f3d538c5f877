// systemd: canned `systemctl show` output; the exact planned commands.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemd } from '../../../src/engine/modules/systemd.js';
import { cannedCases, cannedCtx, planWith, schemaOk, type CannedCase } from './fake-host.js';

const show = (active: string, file: string, load = 'loaded', needReload = 'no') =>
  `ActiveState=${active}\nUnitFileState=${file}\nLoadState=${load}\nNeedDaemonReload=${needReload}\n`;
const sc = (verb: string, name = 'relay-tunnel.service') => `systemctl ${verb} -- ${name}`;
/**
 * enable/disable of a unit systemd has loaded keep their own daemon-reload: systemd keeps the loaded
 * unit's UnitFileState until then (a run after `enable --no-reload` would find it disabled again).
 */
const en = (verb: 'enable' | 'disable', name = 'relay-tunnel.service') => `systemctl ${verb} -- ${name}`;
/** With daemon_reload: the same, then a reload only if systemd asks for one (systemd 257 does after enable). */
const enR = (verb: 'enable' | 'disable', name = 'relay-tunnel.service') =>
  `sh -c 'systemctl ${verb} --no-reload -- "$1" && if [ "$(systemctl show -p NeedDaemonReload --value -- "$1")" = yes ]; then systemctl daemon-reload; fi' sh ${name}`;

const cases: CannedCase[] = [
  {
    name: 'start + enable a stopped, disabled unit',
    args: { state: 'started', enabled: true },
    read: show('inactive', 'disabled'),
    commands: [en('enable'), sc('start')],
    changed: true,
  },
  {
    name: 'already started and enabled: nothing',
    args: { state: 'started', enabled: true },
    read: show('active', 'enabled'),
    commands: [],
    changed: false,
  },
  {
    name: 'activating counts as started',
    args: { state: 'started' },
    read: show('activating', 'enabled'),
    commands: [],
  },
  { name: 'stop a running unit', args: { state: 'stopped' }, read: show('active', 'enabled'), commands: [sc('stop')] },
  { name: 'stopped already', args: { state: 'stopped' }, read: show('inactive', 'enabled'), commands: [] },
  {
    name: 'restarted always changes',
    args: { state: 'restarted' },
    read: show('active', 'enabled'),
    commands: [sc('restart')],
    changed: true,
  },
  {
    name: 'reloaded a running unit',
    args: { state: 'reloaded' },
    read: show('active', 'enabled'),
    commands: [sc('reload')],
    changed: true,
  },
  {
    name: 'reloaded a stopped unit starts it',
    args: { state: 'reloaded' },
    read: show('inactive', 'enabled'),
    commands: [sc('start')],
  },
  {
    name: 'disable an enabled unit',
    args: { enabled: false },
    read: show('active', 'enabled'),
    commands: [en('disable')],
  },
  { name: 'a static unit counts as enabled', args: { enabled: true }, read: show('inactive', 'static'), commands: [] },
  {
    name: 'a static unit counts as enabled: disabled as Ansible does (a change, each time)',
    args: { enabled: false },
    read: show('inactive', 'static'),
    commands: [en('disable')],
  },
  { name: 'mask', args: { masked: true }, read: show('inactive', 'disabled'), commands: [`${sc('mask')} || :`] },
  {
    name: 'unmask, enable, start in that order',
    args: { masked: false, enabled: true, state: 'started' },
    read: show('inactive', 'masked', 'masked'),
    commands: [`${sc('unmask')} || :`, en('enable'), sc('start')],
  },
  {
    name: 'unmask reloads systemd itself: no separate daemon-reload',
    args: { masked: false, state: 'started', daemon_reload: true },
    read: show('inactive', 'masked', 'masked', 'yes'),
    commands: [`${sc('unmask')} || :`, sc('start')],
  },
  {
    name: 'daemon_reload comes first',
    args: { daemon_reload: true, state: 'restarted' },
    read: show('active', 'enabled', 'loaded', 'yes'),
    commands: ['systemctl daemon-reload', sc('restart')],
    changed: true,
  },
  {
    name: 'a changed unit file being enabled: the enable reloads systemd itself, no separate daemon-reload',
    args: { daemon_reload: true, enabled: true, state: 'restarted' },
    read: show('active', 'disabled', 'loaded', 'yes'),
    commands: [en('enable'), sc('restart')],
    changed: true,
  },
  {
    name: 'daemon_reload with nothing else to do: a step, not a change',
    args: { daemon_reload: true, state: 'started' },
    read: show('active', 'enabled', 'loaded', 'yes'),
    commands: ['systemctl daemon-reload'],
    changed: false,
  },
  {
    name: 'daemon_reload when systemd needs none: skipped',
    args: { daemon_reload: true, state: 'started' },
    read: show('active', 'enabled'),
    commands: [],
    changed: false,
  },
  {
    name: 'daemon_reload not needed, the unit stopped: start is a change',
    args: { daemon_reload: true, state: 'started' },
    read: show('inactive', 'enabled'),
    commands: [sc('start')],
    changed: true,
  },
  {
    name: 'unknown unit: a clear failure',
    args: { state: 'started' },
    read: show('inactive', '', 'not-found'),
    failed: /Could not find the requested service relay-tunnel\.service/,
  },
  {
    name: 'unknown unit, enabled requested: failure',
    args: { enabled: true },
    read: show('inactive', '', 'not-found'),
    failed: /Could not find/,
  },
  {
    name: 'unknown unit in check mode with daemon_reload: expected to appear, changed',
    args: { daemon_reload: true, enabled: true, state: 'started' },
    read: show('inactive', '', 'not-found'),
    check: true,
    commands: [enR('enable'), sc('start')], // systemd loads the new unit on start
    changed: true,
  },
  {
    name: 'unknown unit with daemon_reload (apply): no reload unless systemd asks after enable; it loads the new unit when it starts',
    args: { daemon_reload: true, enabled: true, state: 'started' },
    read: show('inactive', '', 'not-found'),
    commands: [enR('enable'), sc('start')], // systemd loads the new unit on start
    changed: true,
  },
];

describe('systemd (canned facts)', () => {
  cannedCases(systemd, cases, {
    baseArgs: { name: 'relay-tunnel.service' },
    readCommand: 'systemctl show -- relay-tunnel.service',
  });

  it('the unit name is quoted in every command', async () => {
    const name = "x';reboot;'.service";
    const ctx = cannedCtx(show('inactive', 'disabled'));
    const plan = await planWith(systemd, { name, state: 'started' }, ctx);
    assert.equal(ctx.reads[0], `systemctl show -- 'x'\\'';reboot;'\\''.service'`);
    assert.equal(plan.steps[0].command, `systemctl start -- 'x'\\'';reboot;'\\''.service'`);
  });

  it('enable with daemon_reload of a unit not loaded yet: reloads exactly when systemd asks afterwards (run for real with a fake systemctl)', async () => {
    const plan = await planWith(
      systemd,
      { name: 'relay-tunnel.service', enabled: true, daemon_reload: true },
      cannedCtx(show('inactive', '', 'not-found')),
    );
    const dir = mkdtempSync(join(tmpdir(), 'relay-play-systemctl-'));
    try {
      // A systemctl that logs its calls and answers NeedDaemonReload from $NEED.
      writeFileSync(
        join(dir, 'systemctl'),
        '#!/bin/sh\necho "$*" >> "$LOG"\nif [ "$1" = show ]; then echo "$NEED"; fi\n',
        { mode: 0o755 },
      );
      for (const need of ['yes', 'no']) {
        const log = join(dir, `log-${need}`);
        const r = spawnSync('sh', ['-c', plan.steps[0].command], {
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, LOG: log, NEED: need },
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stderr);
        const calls = readFileSync(log, 'utf8').trim().split('\n');
        assert.deepEqual(calls, [
          'enable --no-reload -- relay-tunnel.service',
          'show -p NeedDaemonReload --value -- relay-tunnel.service',
          ...(need === 'yes' ? ['daemon-reload'] : []),
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('daemon_reload alone needs no read', async () => {
    const ctx = cannedCtx([]);
    const plan = await planWith(systemd, { daemon_reload: true }, ctx);
    assert.equal(ctx.reads.length, 0);
    assert.deepEqual(
      plan.steps.map((s) => s.command),
      ['systemctl daemon-reload'],
    );
    assert.equal(plan.changed, false);
  });

  it('result carries the status; a diff of what changes', async () => {
    const plan = await planWith(
      systemd,
      { name: 'ssh', state: 'started', enabled: true },
      cannedCtx(show('inactive', 'disabled')),
    );
    assert.deepEqual(plan.result, {
      name: 'ssh',
      state: 'started',
      enabled: true,
      status: { ActiveState: 'inactive', UnitFileState: 'disabled', LoadState: 'loaded', NeedDaemonReload: 'no' },
    });
    assert.deepEqual(plan.diff, [
      {
        before_header: 'unit ssh',
        after_header: 'unit ssh',
        before: 'enabled: false\nstate: inactive\n',
        after: 'enabled: true\nstate: active\n',
      },
    ]);
  });

  it('a failing systemctl show is an error', async () => {
    await assert.rejects(
      planWith(
        systemd,
        { name: 'ssh', state: 'started' },
        cannedCtx({ code: 1, stdout: '', stderr: 'Failed to connect to bus' }),
      ),
      /Failed to connect to bus/,
    );
  });

  it('schema', () => {
    assert.ok(schemaOk(systemd, { name: 'ssh', state: 'started', enabled: true }));
    assert.ok(schemaOk(systemd, { daemon_reload: true }));
    assert.ok(!schemaOk(systemd, { state: 'started' }));
    assert.ok(!schemaOk(systemd, { name: 'ssh', state: 'running' }));
    assert.ok(!schemaOk(systemd, { name: 'ssh', scope: 'user' }));
  });
});
