// wait_for: wait on the host for a port to open or close, a file to appear (with a regex in it) or go,
// a port's connections to drain, or just for some seconds — Ansible's module's loop, run by one sh
// script on the host (wait_for.sh): the same deadline, sleeps and messages. A regex is matched on the host
// by grep -P and, once it matches a file, its groups here with Python's semantics (util/pyre). For
// `drained`, the addresses of `host` and `exclude_hosts` are resolved on the host by a read first. As
// Ansible's module (it does not declare check mode support), it is skipped in check mode.
import { isIP } from 'node:net';
import { shFile } from '../util/sh-file.js';
import { shScript } from '../util/quote.js';
import { pyRegex } from '../util/pyre.js';
import type { RunResult } from '../connection/types.js';
import { readOutput, type Module, type Plan } from './types.js';

interface WaitForArgs {
  host?: string;
  port?: number;
  path?: string;
  state?: 'started' | 'stopped' | 'present' | 'absent' | 'drained';
  search_regex?: string;
  delay?: number;
  timeout?: number;
  sleep?: number;
  connect_timeout?: number;
  msg?: string;
  exclude_hosts?: string[] | string;
  active_connection_states?: string[] | string;
}

const SCRIPT = () => shFile('engine/modules/wait_for.sh');

/** /proc/net/tcp's codes of the states Ansible names. */
const STATE_IDS: Record<string, string> = {
  ESTABLISHED: '01',
  SYN_SENT: '02',
  SYN_RECV: '03',
  FIN_WAIT1: '04',
  FIN_WAIT2: '05',
  TIME_WAIT: '06',
};
const DEFAULT_STATES = ['ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'SYN_RECV', 'SYN_SENT', 'TIME_WAIT'];

/** A list argument as Ansible's type=list takes it: a list, or text split at commas. */
const listArg = (v: string[] | string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : Array.isArray(v)
      ? v.map(String)
      : String(v)
          .split(',')
          .map((s) => s.trim());

/** An IPv6 address's 16 bytes. */
function v6Bytes(ip: string): number[] {
  let s = ip.split('%')[0];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (v4) {
    tail = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const words = (t: string) => (t ? t.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const r = rest === undefined ? [] : words(rest);
  const all = rest === undefined ? h : [...h, ...Array<number>(8 - h.length - r.length).fill(0), ...r];
  const bytes = all.flatMap((w) => [w >> 8, w & 0xff]);
  if (v4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * An address as /proc/net/tcp* writes it, as Ansible's module converts one: each 4-byte word of the
 * address in the host's (little-endian) order, in hex, FAMILY:HEX. An IPv4 address also as ::ffff:IP.
 */
export function procHex(ip: string): string[] {
  const words = (bytes: number[]) =>
    Array.from({ length: bytes.length / 4 }, (_, i) =>
      bytes
        .slice(i * 4, i * 4 + 4)
        .reverse()
        .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
        .join(''),
    ).join('');
  if (isIP(ip) === 4) {
    const b = ip.split('.').map(Number);
    return [`4:${words(b)}`, `6:${words(v6Bytes(`::ffff:${ip}`))}`];
  }
  return [`6:${words(v6Bytes(ip))}`];
}

/** The addresses getent ahosts printed for each name (`=NAME` lines, then its addresses); undefined: unresolved. */
export function parseAhosts(out: string): Map<string, string[] | undefined> {
  const got = new Map<string, string[] | undefined>();
  let name: string | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('=')) {
      name = line.slice(1);
      got.set(name, undefined);
    } else if (line.startsWith('!')) name = undefined;
    else if (name !== undefined && line.trim()) {
      const addr = line.trim().split(/\s+/)[0];
      const list = got.get(name) ?? [];
      if (!list.includes(addr)) list.push(addr);
      got.set(name, list);
    }
  }
  return got;
}

const RESOLVE = 'for h do printf "=%s\\n" "$h"; getent ahosts "$h" || echo "!"; done';

/** A validation failure of Ansible's module, before it waits. */
function invalid(args: WaitForArgs): string | undefined {
  const state = args.state ?? 'started';
  if (args.port && args.path) return 'port and path parameter can not both be passed to wait_for';
  if (args.path && state === 'stopped')
    return 'state=stopped should only be used for checking a port in the wait_for module';
  if (args.path && state === 'drained')
    return 'state=drained should only be used for checking a port in the wait_for module';
  if (args.exclude_hosts !== undefined && state !== 'drained') return 'exclude_hosts should only be with state=drained';
  for (const s of listArg(args.active_connection_states) ?? DEFAULT_STATES)
    if (!STATE_IDS[s]) return `unknown active_connection_state (${s}) defined`;
  return undefined;
}

export const wait_for: Module<WaitForArgs, 'addrs'> = {
  schema: {
    type: 'object',
    properties: {
      host: { type: 'string', minLength: 1 },
      port: { type: 'integer' },
      path: { type: 'string', minLength: 1 },
      state: { enum: ['started', 'stopped', 'present', 'absent', 'drained'] },
      search_regex: { type: 'string' },
      delay: { type: 'integer' },
      timeout: { type: 'integer' },
      sleep: { type: 'integer' },
      connect_timeout: { type: 'integer' },
      msg: { type: 'string' },
      exclude_hosts: { type: ['array', 'string'], items: { type: 'string' } },
      active_connection_states: { type: ['array', 'string'], items: { type: 'string' } },
    },
    additionalProperties: false,
  },

  reads(args, ctx) {
    if (ctx.check || args.state !== 'drained' || !args.port || invalid(args)) return {};
    const names = [args.host ?? '127.0.0.1', ...(listArg(args.exclude_hosts) ?? [])];
    return { addrs: { command: shScript(RESOLVE, names), become: false } };
  },

  plan(args, ctx, read): Plan {
    if (ctx.check)
      return { changed: false, skipped: true, steps: [], msg: 'remote module (wait_for) does not support check mode' };
    const state = args.state ?? 'started';
    const host = args.host ?? '127.0.0.1';
    const fail = (msg: string, result: Record<string, unknown> = {}): Plan => ({
      changed: false,
      steps: [],
      failed: msg,
      result,
    });
    let re: RegExp | undefined;
    if (args.search_regex !== undefined) {
      try {
        re = pyRegex(args.search_regex, 'search_regex', { multiline: true });
      } catch (e) {
        return fail(`Invalid regular expression: ${(e as Error).message}`);
      }
    }
    const bad = invalid(args);
    if (bad) return fail(bad, { elapsed: 0 });

    const port = args.port || undefined;
    const path = args.path || undefined;
    const what =
      !port && !path && state !== 'drained' ? 'sleep' : state === 'drained' ? 'drained' : port ? 'port' : 'path';
    let ips: string[] = [];
    let excl: string[] = [];
    if (what === 'drained') {
      // Ansible's module fails on int(None) here.
      if (!port) return fail('state=drained needs a port (Ansible\'s module fails on "int(None)")');
      const got = parseAhosts(readOutput(read.addrs, 'the addresses of host and exclude_hosts'));
      const names = [host, ...(listArg(args.exclude_hosts) ?? [])];
      const unresolved = names.find((n) => !got.get(n));
      if (unresolved) return fail(`[Errno -2] Name or service not known: ${unresolved}`);
      ips = got.get(host)!.flatMap(procHex);
      excl = names.slice(1).flatMap((n) => got.get(n)!.flatMap(procHex));
    }
    const states = (listArg(args.active_connection_states) ?? DEFAULT_STATES).map((s) => STATE_IDS[s]);
    const timeout = args.timeout ?? 300;
    const command = shScript(SCRIPT(), [
      what,
      ['absent', 'stopped'].includes(state) ? 'absent' : 'present',
      timeout,
      Math.max(0, args.delay ?? 0),
      Math.max(0, args.sleep ?? 1),
      args.connect_timeout ?? 5,
      host,
      port ?? '',
      path ?? '',
      args.search_regex === undefined || args.search_regex === '' ? '' : `(?m)${args.search_regex}`,
      states.join(' '),
      ips.join(' '),
      excl.join(' '),
      port ? port.toString(16).toUpperCase().padStart(4, '0') : '',
      // Ansible's type=path: ~ and $VARS expanded on the host.
      path && (path.startsWith('~') || path.includes('$')) ? 'expand' : '',
    ]);
    // The path as the host expanded it (the script's first line then).
    let expanded = path;
    const timedOut = (): string => {
      if (args.msg) return args.msg;
      if (what === 'drained') return `Timeout when waiting for ${host}:${port} to drain`;
      if (state === 'absent' || state === 'stopped')
        return port
          ? `Timeout when waiting for ${host}:${port} to stop.`
          : `Timeout when waiting for ${expanded} to be absent.`;
      if (port)
        return args.search_regex
          ? `Timeout when waiting for search string ${args.search_regex} in ${host}:${port}`
          : `Timeout when waiting for ${host}:${port}`;
      return args.search_regex
        ? `Timeout when waiting for search string ${args.search_regex} in ${expanded}`
        : `Timeout when waiting for file ${expanded}`;
    };
    return {
      changed: false,
      steps: [{ describe: `wait for ${path ?? (port ? `${host}:${port}` : `${timeout} seconds`)}`, command }],
      acceptNonZero: true,
      finish(outputs: RunResult[]) {
        const out = outputs[0];
        let stdout = out?.stdout ?? '';
        const x = /^expanded (\S*)\n/.exec(stdout);
        if (x) {
          expanded = Buffer.from(x[1], 'base64').toString('utf8');
          stdout = stdout.slice(x[0].length);
        }
        const [head, info = '-', body = ''] = stdout.split('\n');
        const m = /^(ok|timeout|stat-error) (\d+)(?: (.*))?$/.exec(head);
        if (!out || !m)
          return { failed: true, msg: `wait_for did not finish: ${out?.stderr.trim() || `exit ${out?.code}`}` };
        const elapsed = Math.floor(Number(m[2]) / 1e9);
        if (m[1] === 'timeout') return { failed: true, msg: timedOut(), elapsed };
        if (m[1] === 'stat-error')
          return { failed: true, msg: args.msg || `Failed to stat ${expanded}, ${m[3]}`, elapsed };
        let groups: (string | null)[] = [];
        let groupdict: Record<string, string | null> = {};
        if (re && path && body) {
          re.lastIndex = 0;
          const hit = re.exec(Buffer.from(body, 'base64').toString('utf8'));
          if (hit) {
            groups = hit.slice(1).map((g) => g ?? null);
            groupdict = Object.fromEntries(Object.entries(hit.groups ?? {}).map(([k, v]) => [k, v ?? null]));
          }
        }
        // As Ansible's exit_json (add_path_info): an existing path's owner, mode, size and kind, as `state` too.
        const [uid, gid, owner, group, mode, size, kind] = info.split('|');
        const pathInfo =
          info === '-'
            ? {}
            : {
                uid: Number(uid),
                gid: Number(gid),
                owner: owner === 'UNKNOWN' ? uid : owner,
                group: group === 'UNKNOWN' ? gid : group,
                mode: `0${mode.padStart(3, '0')}`,
                state: kind,
                size: Number(size),
              };
        return {
          state,
          port: args.port ?? null,
          search_regex: args.search_regex ?? null,
          match_groups: groups,
          match_groupdict: groupdict,
          path: args.path === undefined ? null : (expanded ?? args.path),
          elapsed,
          ...pathInfo,
        };
      },
    };
  },
};
