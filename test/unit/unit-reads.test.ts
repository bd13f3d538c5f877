// Reads of systemd units share one systemctl per trip and user: each read gets exactly what it would
// have printed alone (properties in systemctl's order, a block per unit asked, duplicates included).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readBatch, type ReadRequest } from '../../src/engine/connection/batch.js';
import { LocalConnection } from '../../src/engine/connection/local.js';
import { parseUnitsShow, shareUnitReads, unitsShow } from '../../src/engine/connection/unit-reads.js';

// A systemctl that prints what systemd does for `show -p PROPS -- UNITS` (its own property order, a
// blank line between units) and logs each call, so the test can count them.
const FAKE = `#!/bin/sh
echo "$*" >> "$SYSTEMCTL_LOG"
[ "$1" = show ] && [ "$2" = -p ] && [ "$4" = -- ] || exit 2
props=,$3,; shift 4; first=1
for u; do
  [ -n "$first" ] || echo; first=
  for p in Id LoadState ActiveState UnitFileState NeedDaemonReload InvocationID; do
    case $props in *,$p,*) case $p in
      Id) echo "Id=$u" ;; LoadState) echo LoadState=loaded ;; ActiveState) echo "ActiveState=active-$u" ;;
      UnitFileState) echo UnitFileState=enabled ;; NeedDaemonReload) echo NeedDaemonReload=no ;; InvocationID) echo "InvocationID=id-$u" ;;
    esac ;; esac
  done
done
`;

describe('reads of units share one systemctl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-play-units-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'systemctl'), FAKE);
  chmodSync(join(dir, 'systemctl'), 0o755);
  const log = join(dir, 'log');
  const withPath = (cmd: string) => `PATH=${dir}:$PATH SYSTEMCTL_LOG=${log} ${cmd}`;

  it('unitsShow and parseUnitsShow are inverses; any other command is not one', () => {
    const c = unitsShow(['ssh.service', 'getty@tty1.service'], ['Id', 'ActiveState']);
    assert.equal(c, 'systemctl show -p Id,ActiveState -- ssh.service getty@tty1.service');
    assert.deepEqual(parseUnitsShow(c), { units: ['ssh.service', 'getty@tty1.service'], props: ['Id', 'ActiveState'] });
    for (const other of [
      'systemctl show ssh.service',
      "systemctl show -p Id -- 'a b.service'",
      'systemctl show -p Id -- x.service; rm -rf /',
      'systemctl show -p Id -- *.service',
    ]) {
      assert.equal(parseUnitsShow(other), undefined, other);
    }
    assert.throws(() => unitsShow(['a b.service'], ['Id']), /not a unit or property name/);
  });

  it('each read gets what it prints alone, from one systemctl; other reads and users are untouched', async () => {
    const reads: ReadRequest[] = [
      { command: unitsShow(['ssh.service', 'sshd.service'], ['Id', 'LoadState', 'ActiveState']), become: false },
      { command: 'echo between', become: false },
      // InvocationID asked before ActiveState: systemctl prints them in its own order all the same.
      {
        command: unitsShow(
          ['relay-tunnel.service', 'relay-play-rollback.service'],
          ['InvocationID', 'ActiveState', 'UnitFileState'],
        ),
        become: false,
      },
      { command: unitsShow(['ssh.service', 'ssh.service'], ['NeedDaemonReload']), become: false },
    ];
    const conn = new LocalConnection('local');
    const alone = [];
    for (const r of reads) alone.push(await conn.run(withPath(r.command)));
    rmSync(log, { force: true });
    // The batch runs each command as it is: give the merged one the fake's PATH the same way.
    const { reqs, spread } = shareUnitReads(reads);
    assert.equal(reqs.length, 2, 'the three reads of units became one');
    const results = await readBatch(
      conn,
      reqs.map((r) => ({ ...r, command: r.command.startsWith('systemctl ') ? withPath(r.command) : r.command })),
    );
    assert.deepEqual(spread(results), alone);
    assert.equal(
      (await import('node:fs')).readFileSync(log, 'utf8').trim().split('\n').length,
      1,
      'one systemctl call',
    );
  });

  it('reads as different users are not merged; a failed systemctl gives each read its failure', async () => {
    const a = { command: unitsShow(['a.service'], ['Id']), become: false };
    const b = { command: unitsShow(['b.service'], ['Id']), become: true };
    assert.equal(shareUnitReads([a, b]).reqs.length, 2);
    const { reqs, spread } = shareUnitReads([a, { ...a, command: unitsShow(['c.service'], ['Id']) }]);
    assert.equal(reqs.length, 1);
    const failed = { code: 1, stdout: '', stderr: 'Failed to connect to bus\n' };
    assert.deepEqual(spread([failed]), [failed, failed]);
    // Output that does not split into one block per unit: neither read takes it (each is read alone).
    assert.deepEqual(spread([{ code: 0, stdout: 'Id=a.service\n', stderr: '' }]), [undefined, undefined]);
  });
});
