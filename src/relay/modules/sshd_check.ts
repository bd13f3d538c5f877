// sshd_check: what sshd is on this host and whether its configuration does what relay-play needs.
// Read-only (two reads, asked together, so they ride in the play's batched reads; runs in --check too):
//   - the sshd binary (found on PATH with the sbin dirs, not assumed at /usr/sbin/sshd), its version, and
//     its systemd unit (Debian's ssh.service or sshd.service elsewhere; an alias resolves to its unit);
//   - `sshd -t` of the configuration as it is now: a broken one fails the task with sshd's own message;
//   - `dropin`: sshd must read that file (a sshd_config without the Include of sshd_config.d ignores
//     it), else the task fails and says which line to add;
//   - `match` + `expect`: the effective settings for a connection (`sshd -T -C user=...`) must be these,
//     else the task fails listing each one that differs;
//   - `port`: sshd must listen on it.
// Result: binary, unit, version, penalties (whether sshd has PerSourcePenalties, OpenSSH 9.8+), includes.
import { type Module, type Plan, shFile, shScript, unitBlocks, unitsShow } from '../../engine/index.js';

interface SshdCheckArgs {
  config?: string;
  dropin?: string;
  match?: { user: string; host?: string; addr?: string };
  expect?: Record<string, string | number>;
  port?: number | string;
}

const WORD = '^[A-Za-z0-9._:/@-]+$';

const schema = {
  type: 'object',
  properties: {
    config: { type: 'string', pattern: '^/' },
    dropin: { type: 'string', pattern: '^/' },
    match: {
      type: 'object',
      properties: {
        user: { type: 'string', pattern: WORD },
        host: { type: 'string', pattern: WORD },
        addr: { type: 'string', pattern: WORD },
      },
      required: ['user'],
      additionalProperties: false,
    },
    expect: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
    port: { type: ['integer', 'string'], pattern: '^[0-9]+$' },
  },
  dependencies: { expect: ['match'] },
  additionalProperties: false,
};

export interface SshdReport {
  binary: string;
  /** systemctl show of ssh.service and sshd.service: Id, LoadState and ActiveState of each. */
  units: Record<string, { Id?: string; LoadState?: string; ActiveState?: string }>;
  version: string;
  testRc: number;
  /** exit code of sshd -T (-1: not run) */
  dumpRc: number;
  errors: string[];
  includes: string[];
  /** sshd -T: keyword → values (keywords such as port and listenaddress repeat). */
  settings: Record<string, string[]>;
  /** sshd -T's lines as printed (its message, when it fails). */
  dump: string[];
}

/** sshd's two unit names (Debian's ssh.service, and sshd.service: elsewhere the unit, on Debian its alias). */
const SSHD_UNITS = ['ssh.service', 'sshd.service'];
const UNITS = unitsShow(SSHD_UNITS, ['Id', 'LoadState', 'ActiveState']);

/** The script's report, and `systemctl show` of both unit names (UNITS; '' when systemctl failed). */
export function parseReport(stdout: string, unitsShown: string): SshdReport {
  const r: SshdReport = {
    binary: '',
    units: {},
    version: '',
    testRc: -1,
    dumpRc: -1,
    errors: [],
    includes: [],
    settings: {},
    dump: [],
  };
  unitBlocks(unitsShown).forEach((b, i) => {
    if (i < SSHD_UNITS.length)
      r.units[SSHD_UNITS[i]] = { Id: b.get('Id'), LoadState: b.get('LoadState'), ActiveState: b.get('ActiveState') };
  });
  for (const line of stdout.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = /^(binary|version|test_rc|dump_rc)=(.*)$/.exec(line))) {
      if (m[1] === 'binary') r.binary = m[2];
      else if (m[1] === 'version') r.version = m[2];
      else if (m[1] === 'test_rc') r.testRc = Number(m[2]);
      else r.dumpRc = Number(m[2]);
    } else if (line.startsWith('I ')) r.includes.push(line.slice(2));
    else if (line.startsWith('E ')) r.errors.push(line.slice(2));
    else if ((m = /^T (\S+) ?(.*)$/.exec(line))) {
      (r.settings[m[1].toLowerCase()] ??= []).push(m[2]);
      r.dump.push(line.slice(2));
    }
  }
  return r;
}

/**
 * The unit sshd runs as: of ssh.service (Debian's; sshd.service is its alias there) and sshd.service
 * (most others), the one running, else the first that exists.
 */
export function sshdUnit(r: SshdReport): string | undefined {
  const loaded = ['ssh.service', 'sshd.service']
    .map((name) => ({ name, ...r.units[name] }))
    .filter((u) => u.LoadState === 'loaded');
  const u = loaded.find((x) => x.ActiveState === 'active') ?? loaded[0];
  return u ? u.Id || u.name : undefined;
}

/** A glob of sshd's Include (`*`, `?`, `[...]`; `*` does not cross `/`) as a RegExp. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** Each expected setting sshd -T shows otherwise, as "keyword: sshd applies X, want Y". */
export function differences(settings: Record<string, string[]>, expect: Record<string, string | number>): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(expect)) {
    const got = settings[key.toLowerCase()]?.join(' ');
    if (got === undefined) out.push(`${key}: sshd shows no such setting, want "${want}"`);
    else if (norm(got) !== norm(String(want))) out.push(`${key}: sshd applies "${got}", want "${want}"`);
  }
  return out;
}

const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';

/** The configuration file, and sshd -C's connection spec ('' for none). */
function target(args: SshdCheckArgs): { config: string; spec: string } {
  const config = args.config ?? '/etc/ssh/sshd_config';
  const spec = args.match
    ? Object.entries(args.match)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '';
  return { config, spec };
}

export const sshd_check: Module<SshdCheckArgs, 'sshd' | 'units'> = {
  schema,
  // The units' systemctl is shared with the other reads of units in the batch (unitsShow). sshd_check.sh
  // (beside this file) says what the script prints: $1 the config, $2 the -C spec.
  reads(args) {
    const { config, spec } = target(args);
    return {
      sshd: { command: shScript(shFile('relay/modules/sshd_check.sh'), [config, spec]), become: true },
      units: { command: UNITS, become: true },
    };
  },

  plan(args, ctx, read): Plan {
    const { config, spec } = target(args);
    const { sshd: out, units } = read;
    const fail = (msg: string, result: Record<string, unknown> = {}): Plan => ({
      changed: false,
      steps: [],
      failed: msg,
      result,
    });
    if (out.code !== 0) return fail(`cannot inspect sshd: ${out.stderr.trim() || `exit ${out.code}`}`);
    const r = parseReport(out.stdout, units.code === 0 ? units.stdout : '');
    if (!r.binary) return fail(`no sshd on ${ctx.host} (looked on PATH and in /usr/local/sbin, /usr/sbin, /sbin)`);
    const unit = sshdUnit(r);
    const result = {
      binary: r.binary,
      unit: unit ?? '',
      version: r.version,
      penalties: 'persourcepenalties' in r.settings,
      includes: r.includes,
      config,
    };
    if (!unit)
      return fail(
        `sshd on ${ctx.host} runs under neither ssh.service nor sshd.service; relay-play reloads it through systemd`,
        result,
      );
    if (r.testRc !== 0) {
      return fail(
        `sshd -t fails on ${ctx.host}'s configuration as it is, before relay-play changes it: ${r.errors.join('; ') || `exit ${r.testRc}`}`,
        result,
      );
    }
    if (r.dumpRc !== 0) {
      return fail(
        `sshd -T${spec ? ` -C ${spec}` : ''} fails on ${ctx.host}: ${r.dump.join('; ') || `exit ${r.dumpRc}`}`,
        result,
      );
    }
    if (args.dropin && !r.includes.some((g) => globRegExp(g).test(args.dropin!))) {
      const line = `Include ${dirOf(args.dropin)}/*.conf`;
      return fail(
        `sshd on ${ctx.host} would not read ${args.dropin}: ${config} does not include ${dirOf(args.dropin)}` +
          ` (includes: ${r.includes.join(', ') || 'none'}), so relay-play's settings there would do nothing; none were written.` +
          ` Add this line near the top of ${config}, before any Match block, then run relay-play again:\n    ${line}`,
        result,
      );
    }
    if (args.expect) {
      const diff = differences(r.settings, args.expect);
      if (diff.length) {
        return fail(
          `sshd on ${ctx.host} does not apply relay-play's rules (sshd -T -C ${spec}): ${diff.join('; ')}.` +
            " sshd takes the first value it reads for each setting: look for these settings in a Match block or a file read before relay-play's.",
          result,
        );
      }
    }
    if (args.port !== undefined) {
      const ports = r.settings.port ?? [];
      if (!ports.includes(String(args.port))) {
        return fail(
          `sshd on ${ctx.host} listens on port ${ports.join(', ') || '(none)'}, not ${args.port}` +
            " (relay_sshd_port: the port the relay's sshd listens on; relay_ssh_port: the port devices and clients dial, which differs behind a port forward)",
          result,
        );
      }
    }
    return { changed: false, steps: [], result, msg: `${r.version || 'sshd'} at ${r.binary}, unit ${unit}` };
  },
};
