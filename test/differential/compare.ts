// The differential suite's judge: the JSON of one playbook run by ansible-playbook (its json callback)
// and by relay-play (`run --json`, the same shape) must say the same things — each task's result on each
// host, the recap's counts — except for the fields below, each allowed for a reason.

/** Result fields never compared, and why. Keys are field names at any depth of a task's result. */
export const ALLOWED: Record<string, string> = {
  invocation: "Ansible's echo of the module's arguments, every default filled in: not an outcome of the task",
  start: 'the clock time the command started on that host',
  end: 'the clock time the command ended on that host',
  stop: 'the clock time the pause ended (pause)',
  delta: 'how long the command ran',
  atime: "the file's access time on that host",
  mtime: "the file's modification time on that host (written at another moment)",
  ctime: "the file's change time on that host",
  inode: 'the inode number the file got on that host',
  version: "the inode's generation number (stat's version, from lsattr -v) the file got on that host",
  dev: "the device number of the host's filesystem",
  backup_file: 'a backup is named after the time and the process that made it',
  backup: 'a backup is named after the time and the process that made it (lineinfile)',
  warnings: "Ansible's advice to the playbook's author (e.g. to prefer a module to a command)",
  deprecations: "Ansible's notices of its own deprecations",
  date: "an HTTP reply's Date header (uri): the server's clock when it answered",
};

/**
 * Parts of values that are random on each host, masked (in any string, at any depth) before comparing, and why.
 * The cases name their temporary files with these prefixes only.
 */
export const MASKED: { pattern: RegExp; mask: string; reason: string }[] = [
  {
    pattern: /(?<=\/)(ansible\.|tmp-)[a-z0-9_]{8}/g,
    mask: '$1XXXXXXXX',
    reason: "tempfile's name: its prefix, then 8 random characters (Python's tempfile, and relay-play's)",
  },
  {
    pattern: /(?<=\/\.ansible\/tmp\/)ansible-tmp-[^/\s"]+/g,
    mask: 'ansible-tmp-X',
    reason: "where a file sent from here lands on the host (unarchive's archive): named after a clock and a process",
  },
  {
    pattern: /(?<=^Paused for \d+\.)\d+(?= (seconds|minutes)$)/g,
    mask: 'NN',
    reason: "pause's measured duration: its hundredths of a second are the controller's timing",
  },
  {
    pattern: /(?<=(?:start|stop)_time=\[)\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+(?=\])|(?<=; pid=)[1-9]\d*(?= ;)/g,
    mask: 'X',
    reason:
      "a systemd unit's command status (systemctl show's Exec*): when that host ran it, and the process id it got",
  },
  {
    pattern: /Shared connection to \S+ closed\.(\r?\n)?/g,
    mask: '',
    reason:
      "the notice of Ansible's own ssh client (a multiplexed connection, raw's terminal) on the runner: not the task's output",
  },
];

/** A string with MASKED applied. */
const masked = (s: string) => MASKED.reduce((t, m) => t.replace(m.pattern, m.mask), s);

/**
 * Fields not compared when ansible-playbook's value is one relay-play cannot have, and why: the test
 * says which values. Keys are field names at any depth.
 */
export const ALLOWED_VALUES: Record<string, { test: (v: unknown) => boolean; why: string }> = {
  src: {
    test: (v) => typeof v === 'string' && /\/\.ansible\/tmp\//.test(v),
    why: "the temporary file Ansible uploaded copy's content to on that host (relay-play sends it on stdin)",
  },
};

/** Top-level keys of a result that belong to the tool's callback, not to the task: `_ansible_*`. */
const internal = (key: string) => key.startsWith('_ansible');

export interface RunJson {
  plays: { play: { name: string }; tasks: { task: { name: string }; hosts: Record<string, unknown> }[] }[];
  stats: Record<string, Record<string, number>>;
}

/**
 * Ansible's pointer at the YAML source that it appends to a message ("The error appears to be in
 * 'FILE': line N, column M ..." and the offending lines): where relay-play gives file:line in its own
 * words. The message before it is compared.
 */
const SOURCE_POINTER = /\n\nThe error appears to be in '[\s\S]*$/;

/** `v` without the allowed and internal fields, at every depth. */
export function normalize(v: unknown, allowed: Record<string, string> = ALLOWED): unknown {
  // A line masked away entirely (a *_lines element) is dropped.
  if (Array.isArray(v))
    return v.filter((x) => typeof x !== 'string' || x === '' || masked(x) !== '').map((x) => normalize(x, allowed));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!internal(k) && !(k in allowed)) out[k] = normalize(x, allowed);
    return out;
  }
  if (typeof v === 'string') return masked(v.replace(SOURCE_POINTER, ''));
  return v;
}

const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

/** Every place where `a` and `b` differ, as "PATH: A vs B". */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    return Array.from({ length: n }, (_, i) => differences(a[i], b[i], `${path}[${i}]`)).flat();
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .filter((k) => !ALLOWED_VALUES[k]?.test((a as Record<string, unknown>)[k]))
      .sort();
    return keys.flatMap((k) =>
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path || '.'}: ${show(a)} vs ${show(b)}`];
}

/** The two runs' differences: tasks (by play and order, with their names), results per host, and stats. */
export function compareRuns(ansible: RunJson, relayPlay: RunJson, allowed = ALLOWED): string[] {
  const out: string[] = [];
  const plays = Math.max(ansible.plays.length, relayPlay.plays.length);
  for (let p = 0; p < plays; p++) {
    const [pa, pr] = [ansible.plays[p], relayPlay.plays[p]];
    if (!pa || !pr) {
      out.push(`play ${p}: ${pa ? 'only ansible-playbook ran it' : 'only relay-play ran it'}`);
      continue;
    }
    const tasks = Math.max(pa.tasks.length, pr.tasks.length);
    for (let t = 0; t < tasks; t++) {
      const [ta, tr] = [pa.tasks[t], pr.tasks[t]];
      const where = `play ${p} task ${t} (${ta?.task.name ?? tr?.task.name})`;
      if (!ta || !tr) {
        out.push(`${where}: ${ta ? 'only ansible-playbook ran it' : 'only relay-play ran it'}`);
        continue;
      }
      if (ta.task.name !== tr.task.name) out.push(`${where}: named "${ta.task.name}" vs "${tr.task.name}"`);
      out.push(...differences(normalize(ta.hosts, allowed), normalize(tr.hosts, allowed)).map((d) => `${where} ${d}`));
    }
  }
  out.push(...differences(ansible.stats, relayPlay.stats).map((d) => `stats${d}`));
  return out;
}
