// The differential suite: every playbook in test/differential/cases/ is run by ansible-playbook on one lab
// host and by relay-play on its twin (same image, fresh), each as the host `target`. Cases that do not
// agree yet wait in test/differential/pending/ (RELAY_PLAY_DIFF_DIR=pending runs those instead); a case
// moves to cases/ once relay-play agrees with it, and stays there. The runs must say the
// same things (each task's result, field by field, but for the fields test/differential/compare.ts allows,
// each for a reason), end with the same exit code, and leave the same files where the case says (its
// `# state:` line). ansible-playbook (Debian's ansible-core) is the oracle.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type ExecResult, type Lab } from './lab/index.js';
import { relayPlay, REPO, show, tempDir, writeYaml } from './integration/util.js';
import { ALLOWED, compareRuns, type RunJson } from './differential/compare.js';

const CASES = join(REPO, 'test', 'differential', process.env.RELAY_PLAY_DIFF_DIR ?? 'cases');
const avail = labAvailable();
const ansible = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).status === 0;
const required = process.env.CI === 'true' || process.env.RELAY_PLAY_LAB_REQUIRED === '1';
const only = process.env.RELAY_PLAY_DIFF_CASES?.split(',');

/**
 * A case's settings, from its comment lines: `# state: PATH...`, and `# allow: FIELD: WHY` for a field
 * not compared in that case only (as compare.ts's ALLOWED, with the reason).
 */
function settings(text: string): { state: string[]; allow: Record<string, string> } {
  const state = [...text.matchAll(/^# state: (.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
  const allow = Object.fromEntries([...text.matchAll(/^# allow: (\w+): (.+)$/gm)].map((m) => [m[1], m[2].trim()]));
  return { state, allow };
}

/** Every file and directory under `paths` on `host`: type, mode, owner, group, size and content hash. */
async function endState(lab: Lab, host: string, paths: string[]): Promise<string> {
  if (!paths.length) return '';
  const script =
    'for p in "$@"; do if [ -e "$p" ] || [ -L "$p" ]; then find "$p" -print0 | sort -z | ' +
    'xargs -0 stat -c "%n %F %a %U %G %s"; find "$p" -type f -print0 | sort -z | xargs -0 -r sha256sum; ' +
    'else echo "$p absent"; fi; done';
  const r = await lab.exec(host, `sudo -n sh -c '${script}' sh ${paths.join(' ')}`);
  assert.equal(r.code, 0, show(r));
  return r.stdout;
}

function parseJson(tool: string, r: ExecResult): RunJson {
  const start = r.stdout.indexOf('{');
  try {
    return JSON.parse(r.stdout.slice(start)) as RunJson;
  } catch (e) {
    throw new Error(`${tool} printed no JSON (${(e as Error).message})\n${show(r)}`);
  }
}

describe(
  'differential: playbooks run by ansible-playbook and relay-play agree',
  {
    skip: !avail.ok ? avail.why : !ansible && !required ? 'ansible-playbook is not installed' : false,
    timeout: 1_800_000,
  },
  () => {
    let lab: Lab;
    let dir: string;
    const inventory: Record<'a' | 'b', string> = { a: '', b: '' };

    before(async () => {
      assert.ok(ansible, 'ansible-playbook must be installed here (scripts/install-deps)');
      lab = await startLab(['twin-a', 'twin-b']);
      dir = tempDir();
      const hosts = lab.inventoryHosts();
      // OpenSSH (Ansible's) reads known_hosts from the passwd home, not $HOME: name the lab's file.
      const common = `-o UserKnownHostsFile=${lab.home}/.ssh/known_hosts`;
      inventory.a = writeYaml(dir, 'a.yaml', {
        all: { hosts: { target: { ...hosts['twin-a'], ansible_ssh_common_args: common } } },
      });
      inventory.b = writeYaml(dir, 'b.yaml', { all: { hosts: { target: hosts['twin-b'] } } });
    });

    after(async () => {
      await lab?.teardown();
    });

    const cases = readdirSync(CASES)
      .filter((f) => f.endsWith('.yml'))
      .filter((f) => !only || only.includes(f.replace(/\.yml$/, '')))
      .sort();
    for (const file of cases) {
      it(file, async () => {
        const playbook = join(CASES, file);
        const { state, allow } = settings(readFileSync(playbook, 'utf8'));
        const env = {
          LC_ALL: 'C.UTF-8',
          ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
          ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_RETRY_FILES_ENABLED: '0',
          ANSIBLE_DEPRECATION_WARNINGS: '0',
          // Fewer round trips per task, the same results: the suite's slowest half is ansible-playbook.
          ANSIBLE_PIPELINING: '1',
        };
        const [a, b] = await Promise.all([
          lab.run(['ansible-playbook', '-i', inventory.a, playbook], { env, cwd: CASES, timeoutMs: 300_000 }),
          relayPlay(lab, ['run', '--json', playbook, '-i', inventory.b], 300_000),
        ]);
        const diffs = compareRuns(parseJson('ansible-playbook', a), parseJson('relay-play', b), {
          ...ALLOWED,
          ...allow,
        });
        if (a.code !== b.code) diffs.unshift(`exit code: ${a.code} vs ${b.code}`);
        const [sa, sb] = await Promise.all([endState(lab, 'twin-a', state), endState(lab, 'twin-b', state)]);
        if (sa !== sb) diffs.push(`end state differs:\n--- ansible-playbook\n${sa}--- relay-play\n${sb}`);
        assert.deepEqual(diffs, [], `${file}: ansible-playbook vs relay-play\n${diffs.join('\n')}`);
      });
    }
  },
);
