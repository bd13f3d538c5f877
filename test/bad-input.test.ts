// Bad input never reaches a host. Each test/bad-input/*.yaml is a broken inventory (for `apply`) or
// playbook (for `run`, with a valid inventory) whose header says what must be reported:
//
//   # expect: line 14: devices rpi1 and rpi2 both use tunnel_port     (error at FILE:14:COL)
//   # expect: cli: --limit rpi9: no host or group                     (error about an argument: no file position)
//   # command: run                                                    (default: apply)
//   # args: --limit rpi9                                              (extra arguments)
//   # exit: 4                                                         (default 1: ansible-playbook's code:
//                                                                      4 what its parser refuses, 2 a task
//                                                                      that could only fail)
//
// LAB_IP and LAB_KEY in a case stand for a running lab host's address and the admin key, so a run
// that did get past validation would really log in. The proof that none did: the lab host's sshd logs
// every TCP connection (LogLevel VERBOSE), and after each case no connection from the runner shows
// up other than the test's own reads of that log. A control case shows the check does see a run.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labAvailable, startLab, type Lab } from './lab/index.js';
import { REPO, relayPlay, show, tempDir, writeYaml } from './integration/util.js';

const avail = labAvailable();
const CASES_DIR = join(REPO, 'test', 'bad-input');

interface Case {
  name: string;
  text: string;
  command: 'apply' | 'run';
  args: string[];
  line?: number;
  fragment: string;
  exit: number;
}

function loadCase(name: string): Case {
  const text = readFileSync(join(CASES_DIR, name), 'utf8');
  const header = (key: string) => new RegExp(`^# ${key}: ?(.*)$`, 'm').exec(text)?.[1]?.trim();
  const expect = header('expect');
  const m = expect ? /^(?:line (\d+)|cli): (.+)$/.exec(expect) : null;
  if (!m) throw new Error(`${name}: needs a header "# expect: line N: fragment" or "# expect: cli: fragment"`);
  const command = (header('command') ?? 'apply') as Case['command'];
  if (command !== 'apply' && command !== 'run') throw new Error(`${name}: command must be apply or run`);
  return {
    name,
    text,
    command,
    args: header('args')?.split(/\s+/).filter(Boolean) ?? [],
    line: m[1] ? Number(m[1]) : undefined,
    fragment: m[2],
    exit: Number(header('exit') ?? 1),
  };
}

const caseNames = readdirSync(CASES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const cases = caseNames.map(loadCase);

describe(
  'bad input: one error with file:line, exit as ansible-playbook, no host touched',
  { skip: avail.ok ? false : avail.why, timeout: 600_000 },
  () => {
    let lab: Lab;
    let dir: string;
    let inventory: string;
    let cursor = '';
    /** Source ports of the test's own connections to the target (its log reads). */
    const ownPorts = new Set<string>();

    const subst = (s: string) => s.replaceAll('LAB_IP', lab.hosts.target.ip).replaceAll('LAB_KEY', lab.adminKey);

    /** Connections the target's sshd logged since the last call, other than the test's own. */
    const newConnections = async (): Promise<string[]> => {
      // Give journald a moment, so a connection made just before is in the log.
      await new Promise((r) => setTimeout(r, 300));
      const r = await lab.exec(
        'target',
        `echo "$SSH_CLIENT"; sudo journalctl -u ssh --no-pager -o cat --show-cursor ${cursor ? `--after-cursor='${cursor}'` : ''}`,
        { timeoutMs: 20_000 },
      );
      assert.equal(r.code, 0, show(r));
      const [client, ...lines] = r.stdout.trimEnd().split('\n');
      ownPorts.add(client.split(' ')[1]);
      const last = lines.pop() ?? '';
      const c = /^-- cursor: (.+)$/.exec(last);
      if (c) cursor = c[1];
      else if (last) lines.push(last);
      return lines.filter((l) => {
        const port = / port (\d+)/.exec(l)?.[1];
        return port !== undefined && !ownPorts.has(port);
      });
    };

    before(async () => {
      lab = await startLab(['target'], { bootTimeoutMs: 300_000 });
      dir = tempDir('relay-play-bad-input-');
      // Every TCP connection is logged ("Connection from 198.18.0.1 port N on ..."), not only logins.
      const v = await lab.exec(
        'target',
        "echo 'LogLevel VERBOSE' | sudo tee /etc/ssh/sshd_config.d/00-verbose.conf >/dev/null && sudo systemctl reload ssh && sudo sshd -T | grep -i '^loglevel'",
      );
      assert.equal(v.stdout.trim(), 'loglevel VERBOSE', show(v));
      const h = lab.inventoryHosts().target;
      inventory = writeYaml(dir, 'inventory.yaml', {
        all: {
          vars: { ansible_user: h.ansible_user, ansible_ssh_private_key_file: h.ansible_ssh_private_key_file },
          hosts: { target: { ansible_host: h.ansible_host } },
        },
      });
      await newConnections(); // sets the cursor
    });

    after(async () => {
      await lab?.teardown();
    });

    it(`the corpus has cases for inventories and playbooks (${cases.length})`, () => {
      assert.ok(cases.filter((c) => c.command === 'apply').length >= 20, 'inventory cases');
      assert.ok(cases.filter((c) => c.command === 'run').length >= 12, 'playbook cases');
    });

    for (const c of cases) {
      it(`${c.name}: ${c.line ? `line ${c.line}` : 'cli'}: ${c.fragment}`, async () => {
        const file = join(dir, c.name);
        writeYaml(dir, c.name, subst(c.text));
        const argv = c.command === 'apply' ? ['apply', file, ...c.args] : ['run', file, '-i', inventory, ...c.args];
        const fragment = subst(c.fragment);
        const modes = ['plain', 'json'] as const;
        const runs = await Promise.all(
          modes.map((mode) => relayPlay(lab, mode === 'json' ? [...argv, '--json'] : argv, 60_000)),
        );
        for (const [i, mode] of modes.entries()) {
          const r = runs[i];
          const ctx = `${mode}: ${argv.join(' ')}\n${show(r)}`;
          assert.equal(r.code, c.exit, ctx);
          assert.equal(r.stdout, '', `nothing on stdout: ${ctx}`);
          const lines = r.stderr.split('\n');
          const errors = lines.filter((l) => l.startsWith('error: '));
          assert.equal(errors.length, 1, `exactly one error line: ${ctx}`);
          const at = lines.indexOf(errors[0]);
          if (c.line !== undefined) {
            const m = /^error: (.+?):(\d+):(\d+): (.*)$/.exec(errors[0]);
            assert.ok(m, `error: FILE:LINE:COL: ... ${ctx}`);
            assert.equal(m[1], file, `the error names the file: ${ctx}`);
            assert.equal(Number(m[2]), c.line, `line: ${ctx}`);
            assert.ok(m[4].includes(fragment), `message has "${fragment}": ${ctx}`);
          } else {
            assert.doesNotMatch(errors[0], /^error: \S+:\d+:\d+: /, `an argument error has no file position: ${ctx}`);
            assert.ok(errors[0].includes(fragment), `message has "${fragment}": ${ctx}`);
          }
          assert.match(lines[at + 1] ?? '', /^ {2}hint: \S/, `a hint follows: ${ctx}`);
          assert.ok(!/at .*\.js:\d+/.test(r.stderr), `no stack trace: ${ctx}`);
        }
        const seen = await newConnections();
        assert.deepEqual(seen, [], `the lab host saw a connection during ${c.name}`);
      });
    }

    it('control: a valid run does show up in the lab host log (the check above can see a touch)', async () => {
      const pb = writeYaml(dir, 'valid.yaml', [
        { name: 'valid', hosts: 'all', tasks: [{ name: 'true', command: 'true' }] },
      ]);
      const r = await relayPlay(lab, ['run', pb, '-i', inventory]);
      assert.equal(r.code, 0, show(r));
      const seen = await newConnections();
      assert.ok(
        seen.some((l) => /^Connection from 198\.18\.0\.1 port \d+/.test(l)),
        seen.join('\n'),
      );
      assert.ok(
        seen.some((l) => /^Accepted publickey for admin from 198\.18\.0\.1/.test(l)),
        seen.join('\n'),
      );
    });
  },
);
