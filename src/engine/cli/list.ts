// --list-tasks, --list-hosts and --syntax-check of `relay-play run`, printed as ansible-playbook does.
import type { Inventory } from '../inventory/index.js';
import { matchHosts } from '../inventory/index.js';
import type { Playbook } from '../playbook/types.js';
import { limitHosts } from '../runner/play.js';
import { preflight } from '../runner/preflight.js';
import type { ModuleRegistry } from '../modules/registry.js';

const tagsOf = (tags: string[]) => `TAGS: [${[...new Set(tags)].join(', ')}]`;

function playHosts(pb: Playbook, inv: Inventory, limit?: string): string[][] {
  const limited = limitHosts(inv, limit);
  return pb.plays.map((play) =>
    matchHosts(inv, play.hosts, play.hostsPos).hosts.filter((h) => !limited || limited.has(h)),
  );
}

export function listing(
  pb: Playbook,
  inv: Inventory,
  what: { tasks?: boolean; hosts?: boolean },
  limit?: string,
): string {
  const hosts = playHosts(pb, inv, limit);
  const lines = ['', `playbook: ${pb.file}`];
  pb.plays.forEach((play, i) => {
    lines.push('', `  play #${i + 1} (${play.hosts}): ${play.name}\t${tagsOf(play.tags)}`);
    if (what.hosts) {
      lines.push(
        `    pattern: ${JSON.stringify(play.hosts.split(':')).replace(/"/g, "'")}`,
        `    hosts (${hosts[i].length}):`,
        ...hosts[i].map((h) => `      ${h}`),
      );
    }
    if (what.tasks) {
      lines.push(
        '    tasks:',
        ...play.tasks.filter((t) => !t.implicit).map((t) => `      ${t.name}\t${tagsOf(t.tags)}`),
      );
    }
  });
  return lines.join('\n') + '\n';
}

/** Everything a run checks before it touches a host: the playbook, its roles and templates, the variables. */
export function syntaxCheck(pb: Playbook, inv: Inventory, modules: ModuleRegistry, limit?: string): string {
  preflight(pb, inv, playHosts(pb, inv, limit), modules);
  return `\nplaybook: ${pb.file}\n`;
}
