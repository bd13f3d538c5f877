// Counting the round trips of a run with ansible_connection: local, from outside the product: the
// local connection starts one `sh -c LINE` per round trip, so a `sh` first on PATH that records each
// such LINE (not the shells those start) before running the real one sees every round trip.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TripCounter {
  /** Environment for the CLI's child process: the recording `sh` first on PATH. */
  env: Record<string, string>;
  /** The command lines recorded since the last reset(), one per round trip. */
  trips(): string[];
  reset(): void;
}

export function tripCounter(dir: string): TripCounter {
  const bin = join(dir, 'trip-counter-bin');
  const log = join(dir, 'trips');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'sh'),
    `#!/bin/sh
if [ -n "\${RP_TRIP_LOG:-}" ] && [ -z "\${RP_TRIP_SEEN:-}" ] && [ "$1" = "-c" ]; then
  RP_TRIP_SEEN=1; export RP_TRIP_SEEN
  printf '%s\\0' "$2" >> "$RP_TRIP_LOG"
fi
exec /bin/sh "$@"
`,
  );
  chmodSync(join(bin, 'sh'), 0o755);
  const reset = () => rmSync(log, { force: true });
  reset();
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, RP_TRIP_LOG: log },
    trips: () => {
      try {
        return readFileSync(log, 'utf8').split('\0').slice(0, -1);
      } catch {
        return [];
      }
    },
    reset,
  };
}
