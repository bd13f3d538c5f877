// Reads that ask systemd about units — `systemctl show -p PROPS -- UNITS`, as unitsShow writes them —
// share one systemctl per trip and user. Each call costs a process and a call into systemd (~6 ms of CPU
// on a small host, half of it systemd's own), and a no-change run asked twice on every device (its sshd,
// its tunnel) and three times on the relay. Each read still gets exactly what it would have printed alone.
import { runsAs } from './become.js';
import { shellJoin, splitJoined } from '../util/quote.js';
import type { ReadRequest, RunResult } from './types.js';

/** A unit name as systemd takes it (no globs, no spaces), and a property name. */
const UNIT = /^[A-Za-z0-9:_.@\\-]+$/;
const PROP = /^[A-Za-z]+$/;

/** The command that shows `props` of each of `units`, in order: one block each, blank-line separated. */
export function unitsShow(units: readonly string[], props: readonly string[]): string {
  const bad = [...units.filter((u) => !UNIT.test(u)), ...props.filter((p) => !PROP.test(p))];
  if (bad.length || !units.length || !props.length)
    throw new Error(`not a unit or property name: ${bad.join(', ') || '(none given)'}`);
  return shellJoin(['systemctl', 'show', '-p', props.join(','), '--', ...units]);
}

/** unitsShow's inverse: its units and properties, or undefined for any other command. */
export function parseUnitsShow(command: string): { units: string[]; props: string[] } | undefined {
  const w = command.startsWith('systemctl show -p ') ? splitJoined(command) : undefined;
  if (!w || w.length < 6 || w[0] !== 'systemctl' || w[1] !== 'show' || w[2] !== '-p' || w[4] !== '--') return undefined;
  const props = w[3].split(',');
  const units = w.slice(5);
  if (!props.every((p) => PROP.test(p)) || !units.every((u) => UNIT.test(u))) return undefined;
  return { units, props };
}

/** systemctl show's output: one block of `Prop=value` lines per unit, in the order asked. */
export function unitBlocks(stdout: string): Map<string, string>[] {
  const text = stdout.replace(/\n$/, '');
  if (!text) return [];
  return text
    .split('\n\n')
    .map(
      (b) =>
        new Map(
          b.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
        ),
    );
}

/**
 * `reqs` with the unitsShow reads of each user merged into one (in the place of the first of them).
 * `spread` turns the results of the returned reads back into one per read of `reqs`; a merged read
 * whose output does not split cleanly gives undefined for its reads (they are then read alone).
 */
export function shareUnitReads<R extends ReadRequest>(
  reqs: readonly R[],
): { reqs: R[]; spread(results: (RunResult | undefined)[]): (RunResult | undefined)[] } {
  const shows = reqs.map((r) => parseUnitsShow(r.command));
  const groups = new Map<string, number[]>();
  shows.forEach((s, i) => {
    if (s) groups.set(runsAs(reqs[i]), [...(groups.get(runsAs(reqs[i])) ?? []), i]);
  });
  const shared = [...groups.values()].filter((g) => g.length > 1);
  if (!shared.length) return { reqs: [...reqs], spread: (results) => results };

  // Where each read of `reqs` went: its own index in `out`, or its group's merged read.
  const at = new Map<number, { index: number; units?: string[] }>();
  const out: R[] = [];
  for (const [i, r] of reqs.entries()) {
    const group = shared.find((g) => g.includes(i));
    if (!group) {
      at.set(i, { index: out.length });
      out.push(r);
    } else if (group[0] === i) {
      const units = [...new Set(group.flatMap((k) => shows[k]!.units))];
      const props = [...new Set(group.flatMap((k) => shows[k]!.props))];
      for (const k of group) at.set(k, { index: out.length, units });
      out.push({ ...r, command: unitsShow(units, props) });
    }
  }
  const spread = (results: (RunResult | undefined)[]) =>
    reqs.map((_, i): RunResult | undefined => {
      const { index, units } = at.get(i)!;
      const r = results[index];
      if (!r || !units || r.code !== 0) return r;
      const blocks = unitBlocks(r.stdout);
      if (blocks.length !== units.length) return undefined;
      const { units: mine, props } = shows[i]!;
      // systemctl prints properties in its own order, whatever the order asked: keep the block's order.
      const own = mine.map((u) =>
        [...blocks[units.indexOf(u)]].filter(([p]) => props.includes(p)).map(([p, v]) => `${p}=${v}`),
      );
      if (own.some((lines) => !lines.length)) return undefined;
      return { code: 0, stdout: `${own.map((lines) => lines.join('\n')).join('\n\n')}\n`, stderr: r.stderr };
    });
  return { reqs: out, spread };
}
