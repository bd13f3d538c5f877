// `-e` / `--extra-vars`, as ansible-playbook reads each one: `@FILE` (YAML or JSON), an inline YAML or
// JSON mapping (`{...}`), or `key=value` words (values are text); later ones win. They are the highest
// variables of the run (src/engine/runner/vars.ts) and template a play's `hosts:`.
import { EXIT, InputError } from '../util/errors.js';
import { parseKv } from '../util/kv.js';
import type { Playbook } from '../playbook/types.js';
import { renderDeep } from '../template/jinja.js';
import { loadYamlFile, parseYaml } from '../yaml/source.js';

type Vars = Record<string, unknown>;

export function extraVars(options: string[]): Vars {
  const out: Vars = {};
  for (const opt of options) {
    const text = opt.trim();
    if (text.startsWith('@')) Object.assign(out, mapping(loadYamlFile(text.slice(1)).toJS(), text.slice(1)));
    else if (text.startsWith('{') || text.startsWith('['))
      Object.assign(out, mapping(parseYaml(text, '--extra-vars').toJS(), '--extra-vars'));
    else if (text) Object.assign(out, parseKv(text));
  }
  return out;
}

function mapping(data: unknown, where: string): Vars {
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw new InputError(
      `${where}: extra vars must be a mapping of variable names to values`,
      undefined,
      'give key=value words, a {...} mapping, or @FILE of one',
      EXIT.usage,
    );
  return data as Vars;
}

/** `pb` with each play's `hosts:` template rendered from its vars and the extra vars, as Ansible does. */
export function renderPlayHosts(pb: Playbook, extra: Vars): Playbook {
  const plays = pb.plays.map((play) => {
    if (!play.hosts.includes('{{') && !play.hosts.includes('{%')) return play;
    try {
      return { ...play, hosts: String(renderDeep(play.hosts, { ...play.vars, ...extra })) };
    } catch (e) {
      throw new InputError(
        `the field 'hosts' has an invalid value, which includes an undefined variable: ${(e as Error).message}`,
        play.hostsPos,
        'define it in the play, or give it with -e NAME=VALUE',
      );
    }
  });
  return { ...pb, plays };
}
