// The bench's report: what each tool's runs measured, and whether the comparison is valid. A report is
// valid only when every run passed its checks and every tool left relay-play's end state on every
// host; only a valid report is published (bench/results/), and only a valid one of the same commit
// and machine serves as the 8-device baseline of a larger run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { endStateDiff, RELAY_PLAY_ONLY, type EndState, type RelayPlayOnly } from './end-state.js';
import { median, type Breakdown, type Machine, type ProfileSummary } from './lib.js';

export type Tool = 'relay-play' | 'ansible' | 'ansible-pipelining';

export const TOOLS: Tool[] = ['relay-play', 'ansible', 'ansible-pipelining'];

export const TOOL_LABEL: Record<Tool, string> = {
  'relay-play': 'relay-play',
  ansible: 'ansible (stock)',
  'ansible-pipelining': 'ansible (pipelining)',
};

export interface RunRecord {
  seconds: number;
  code: number;
  ok: boolean;
  problems: string[];
  changed: Record<string, number>;
  peakRssMB?: number;
  cpuSeconds?: number;
  /** share of the whole machine's CPU busy during the run (the tool, the lab hosts, and anyone else) */
  machineBusy?: number;
  breakdown: Breakdown;
  /** relay-play: ms from its process start to its first byte to a host (RELAY_PLAY_TRACE's "first byte" line) */
  startupMs?: number;
}

export interface PhaseResult {
  tool: Tool;
  hosts: number;
  labBootSeconds: number;
  loadavg: { before: number[]; after: number[] };
  /** machine CPU busy share over 3 s just before the floor and the runs, and how long the bench waited for it */
  quietBefore: { busy: number; waitedSeconds: number };
  floor: { runs: number[]; median: number };
  first: RunRecord;
  noChange: RunRecord[];
  /** median of the no-change runs that passed every check (NaN when none did) */
  noChangeMedian: number;
  addOne: RunRecord;
  verified: { rpi1ThroughRelay: boolean; newDeviceThroughRelay: boolean };
  /** every host's end state after the add-one run (bench/end-state.ts): compared with relay-play's */
  endState: EndState;
  /**
   * what this tool left on every host of the things only relay-play installs (bench/end-state.ts,
   * RELAY_PLAY_ONLY): never compared; for Ansible, what is there of them at all
   */
  relayPlayOnly?: EndState;
  /** what went wrong in this tool's runs besides the timed ones (default-forks run, profiling run) */
  problems: string[];
  /** relay-play only, when hosts > 20: a no-change run with the default --forks 20 (N+1 inventory) */
  noChangeDefaultForks?: number;
  /** sudo invocations on the relay, rpi1 and the client per no-change run (from their journals) */
  sudoPerNoChangeRun: Record<string, number>;
  /** relay-play only: `relay-play status` of the N devices, all tunnels up (the first scans every tunnel's host key) */
  status?: { runs: number[]; first: number; median: number };
  /** relay-play only: no-change runs with every device away, reached through its tunnel */
  away?: { noChange: RunRecord[]; noChangeMedian: number; rpi1SudoPerRun: number };
  profile?: { noChange: ProfileSummary };
  env?: Record<string, string>;
}

export interface RelayPlayUnderTest {
  source: 'commit snapshot' | 'working tree';
  commit: string;
  dirty?: string[];
  root: string;
}

export interface Report {
  date: string;
  devices: number;
  hosts: number;
  repeat: number;
  machine: Machine;
  relayPlay: RelayPlayUnderTest;
  phases: PhaseResult[];
  problems: string[];
  /** no problems: every run passed, and every tool left the same end state as relay-play on every host */
  valid: boolean;
  targets?: { name: string; holds: boolean; detail: string }[];
  /** per tool compared with relay-play: "host: item" → its differing lines */
  endStateDiffers?: Record<string, Record<string, string[]>>;
  /** the end state's scope: what only relay-play installs is named here, read (PhaseResult.relayPlayOnly), not compared */
  notCompared?: { installedOnlyByRelayPlay: RelayPlayOnly[] };
}

/** The scope note of every report: what the end-state comparison leaves out, by name. */
export function notCompared(): NonNullable<Report['notCompared']> {
  return { installedOnlyByRelayPlay: RELAY_PLAY_ONLY.map((o) => ({ ...o, roles: [...o.roles] })) };
}

/** Median of the runs that passed every check: a failed run's seconds never count. */
export function okMedian(runs: RunRecord[]): number {
  const ok = runs.filter((r) => r.ok).map((r) => r.seconds);
  return ok.length ? median(ok) : NaN;
}

/** Each other tool's end state against relay-play's, on every host: "host: item" → differing lines. */
export function compareEndStates(phases: PhaseResult[]): NonNullable<Report['endStateDiffers']> {
  const rp = phases.find((p) => p.tool === 'relay-play');
  const out: NonNullable<Report['endStateDiffers']> = {};
  if (!rp) return out;
  for (const p of phases)
    if (p !== rp) out[p.tool] = endStateDiff(rp.endState, p.endState, ['relay-play', TOOL_LABEL[p.tool]]);
  return out;
}

/** Why a report (this run's, or a results file's) is not a valid comparison; empty when it is. */
export function reportProblems(rep: Report): string[] {
  const out = [...(rep.problems ?? [])];
  for (const p of rep.phases ?? []) {
    for (const r of [p.first, ...p.noChange, p.addOne, ...(p.away?.noChange ?? [])]) {
      if (!r.ok)
        out.push(
          ...(r.problems.length ? r.problems : ['a run failed its checks']).map((x) => `${TOOL_LABEL[p.tool]}: ${x}`),
        );
    }
  }
  for (const [tool, diff] of Object.entries(rep.endStateDiffers ?? {})) {
    // Older files list the differing items only (string[]); newer ones map them to their lines.
    const items = Array.isArray(diff) ? (diff as string[]) : Object.keys(diff);
    if (items.length)
      out.push(`${TOOL_LABEL[tool as Tool] ?? tool}: end state differs from relay-play's in ${items.join(', ')}`);
  }
  return [...new Set(out)];
}

/** The latest valid results file with `devices` devices, the same relay-play commit and the same machine kind. */
export function baseline(
  results: string,
  devices: number,
  rep: Report,
  log: (msg: string) => void,
): { file: string; report: Report } | undefined {
  const files = fs.existsSync(results)
    ? fs
        .readdirSync(results)
        .filter((f) => new RegExp(`-${devices}(-[a-z+-]+)?\\.json$`).test(f))
        .sort()
        .reverse()
    : [];
  for (const f of files) {
    let r: Report;
    try {
      r = JSON.parse(fs.readFileSync(path.join(results, f), 'utf8')) as Report;
    } catch (e) {
      log(`baseline: ${f} is not readable JSON, not used: ${(e as Error).message}`);
      continue;
    }
    if (r.relayPlay?.commit !== rep.relayPlay.commit || !r.phases?.some((p) => p.tool === 'relay-play')) continue;
    if (r.machine?.nproc !== rep.machine.nproc || r.machine?.cpuModel !== rep.machine.cpuModel) continue;
    const why = reportProblems(r);
    if (why.length) {
      log(`baseline: ${f} is not a valid comparison, not used: ${why.join('; ')}`);
      continue;
    }
    return { file: f, report: r };
  }
  return undefined;
}
