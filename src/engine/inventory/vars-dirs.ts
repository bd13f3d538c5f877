// group_vars/ and host_vars/ beside the inventory file and beside the playbook, found as Ansible's
// host_group_vars plugin finds them: NAME, NAME.yml, NAME.yaml or NAME.json (the first that exists),
// or a directory NAME/ whose files (those with one of these extensions or none, hidden and backup~
// files skipped, subdirectories walked) are read in name order, each later one winning.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../util/errors.js';
import { loadYamlFile } from '../yaml/source.js';

type Vars = Record<string, unknown>;

const EXTENSIONS = ['.yml', '.yaml', '.json'];

/** The files of `base/kind/name`, in the order Ansible reads them. */
export function varsFiles(base: string, kind: 'group_vars' | 'host_vars', name: string): string[] {
  const dir = join(base, kind);
  if (!isDir(dir)) return [];
  for (const ext of ['', ...EXTENSIONS]) {
    const path = join(dir, name + ext);
    if (!existsSync(path)) continue;
    return isDir(path) ? dirFiles(path) : [path];
  }
  return [];
}

function dirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const path = join(dir, entry);
    const ext = extname(entry);
    if (isDir(path)) {
      if (!ext) out.push(...dirFiles(path));
    } else if (!ext || EXTENSIONS.includes(ext)) out.push(path);
  }
  return out;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The variables of `files`, merged in order (a later file's value wins). */
export function readVarsFiles(files: string[]): Vars {
  const out: Vars = {};
  for (const file of files) {
    const src = loadYamlFile(file);
    const data = src.toJS();
    if (data === null || data === undefined) continue;
    if (typeof data !== 'object' || Array.isArray(data))
      throw new InputError(
        `${file} must be a mapping of variable names to values`,
        { file, line: 1, col: 1 },
        'write it as "name: value" lines',
      );
    Object.assign(out, data);
  }
  return out;
}

/** One kind's variables for every name asked, from each base directory in turn; each file read once. */
export class VarsDirs {
  private readonly seen = new Map<string, Vars>();

  constructor(readonly bases: string[]) {}

  /** `kind/name` of base directory `base`. */
  of(base: string, kind: 'group_vars' | 'host_vars', name: string): Vars {
    const key = `${base}\0${kind}\0${name}`;
    let vars = this.seen.get(key);
    if (!vars) {
      vars = readVarsFiles(varsFiles(base, kind, name));
      this.seen.set(key, vars);
    }
    return vars;
  }
}
