// NixOS hosts (`os: nixos`): relay-play changes none of their files. Instead it prints the NixOS
// configuration that does what the roles would do — rendered from the same role templates with the
// same facts, so the authorized_keys options, the sshd Match block and the tunnel's ExecStart are
// exactly those of a Debian host.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHandlebars } from '../engine/index.js';
import { bundledRolesDir } from './app.js';

type Vars = Record<string, unknown>;

/** A Nix double-quoted string. */
export function nixString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/** A Nix indented string ('' ... ''), each line indented by `pad`. */
export function nixLines(text: string, pad: string): string {
  const body = text
    .replace(/''/g, "'''")
    .replace(/\$\{/g, "''${")
    .split('\n')
    .map((l) => (l ? pad + '  ' + l : ''))
    .join('\n');
  return `''\n${body}\n${pad}''`;
}

/** An attribute name, quoted unless it is a plain identifier. */
export const nixAttr = (name: string) => (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) ? name : nixString(name));

/** A bundled role's template rendered with `vars` (the same text a Debian host gets). */
export function roleTemplate(role: string, file: string, vars: Vars): string {
  return String(renderHandlebars(readFileSync(join(bundledRolesDir(), role, 'templates', file), 'utf8'), vars));
}

const meaningful = (text: string) => text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

/** Store paths instead of FHS paths a NixOS host does not have (applied to escaped Nix text: adds interpolations). */
const nixPaths = (nix: string) =>
  nix
    .replace(/"\/usr\/bin\/ssh /, '"${pkgs.openssh}/bin/ssh ')
    .replace(/ForceCommand \/bin\/false/, 'ForceCommand ${pkgs.coreutils}/bin/false');

/** `[Service]` settings of a rendered unit, but the command it runs: `key = value;` lines for serviceConfig. */
function serviceSettings(unit: string, pad: string): string[] {
  const service = unit.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0] ?? '';
  return [...service.matchAll(/^(\w+)=(.*)$/gm)]
    .filter(([, key]) => key !== 'ExecStart')
    .map(([, key, value]) => `${pad}${key} = ${/^\d+$/.test(value) ? value : nixString(value)};`);
}

/**
 * A relay-user role script as a NixOS service: the same script relay-play installs on other relays
 * (`script`, run as `name`), with the programs it calls on its PATH and the unit's [Service] settings.
 */
function scriptServiceNix(
  vars: Vars,
  name: string,
  [script, scriptName]: [string, string],
  unitFile: string,
  path: string,
  comment: string[],
): string[] {
  const nixVars = { ...vars, sshd: { unit: 'sshd.service' } };
  const text = roleTemplate('relay-user', script, nixVars)
    .replace(/^#!.*\n/, '')
    .replace(/^# Managed by relay-play.*\n/m, '');
  const unit = roleTemplate('relay-user', unitFile, nixVars);
  const description = /^Description=(.*)$/m.exec(unit)?.[1] ?? name;
  return [
    ...comment.map((l) => `  # ${l}`),
    `  systemd.services.${name} = {`,
    `    description = ${nixString(description)};`,
    '    after = [ "sshd.service" ];',
    '    wantedBy = [ "multi-user.target" ];',
    `    path = [ ${path} ];`,
    '    serviceConfig = {',
    `      ExecStart = pkgs.writeShellScript ${nixString(scriptName)} ${nixLines(text.trimEnd(), '      ')};`,
    ...serviceSettings(unit, '      '),
    '    };',
    '  };',
  ];
}

/** The stale-tunnel reaper and the port handover, as on other relays. */
function reaperNix(vars: Vars): string[] {
  return [
    ...scriptServiceNix(
      vars,
      'relay-play-reaper',
      ['reap-stale-tunnels.sh.hbs', 'relay-play-reap-stale-tunnels'],
      'relay-play-reaper.service.hbs',
      'pkgs.iproute2 pkgs.gawk pkgs.gnugrep pkgs.coreutils pkgs.procps pkgs.util-linux',
      [
        'A device that changed address gets its port back within ~15 s: this ends the relay-side session',
        'its old address left behind (the same script relay-play runs as relay-play-reaper.service elsewhere).',
      ],
    ),
    ...scriptServiceNix(
      vars,
      'relay-play-handover',
      ['hand-over-ports.sh.hbs', 'relay-play-hand-over-ports'],
      'relay-play-handover.service.hbs',
      'pkgs.iproute2 pkgs.gawk pkgs.coreutils pkgs.util-linux pkgs.systemd',
      [
        '...and at once when its new tunnel is refused the port: this ends the old session of the same key',
        '(the same script relay-play runs as relay-play-handover.service elsewhere).',
      ],
    ),
  ];
}

/** The relay's configuration. `vars`: the relay's vars with relay_fleet's facts. */
export function relayNix(name: string, vars: Vars): string {
  const keys = meaningful(roleTemplate('authorized-key', 'authorized_keys.hbs', vars));
  const lines = meaningful(roleTemplate('relay-user', 'relay-play.conf.hbs', vars)).map((l) => l.trimEnd());
  // Global settings go to services.openssh.settings: extraConfig comes last in sshd_config, where they
  // could land inside another Match block.
  const isGlobal = (l: string) => /^MaxStartups\s/.test(l);
  const sshd = lines.filter((l) => !isGlobal(l));
  const settings = lines.filter(isGlobal).map((l) => l.split(/\s+/));
  const keyList = keys.length ? `[\n${keys.map((k) => `      ${nixString(k)}\n`).join('')}    ]` : '[ ]';
  return [
    `# relay-play: NixOS configuration of the relay ${name} (what \`relay-play apply\` does on other hosts).`,
    '# Add it to imports (or paste it) in configuration.nix, then nixos-rebuild switch.',
    '# The relay user holds tunnels only: device keys listen on their own ports, client jump keys reach them.',
    '{ pkgs, ... }:',
    '{',
    '  users.users.relay = {',
    '    isSystemUser = true;',
    '    group = "relay";',
    '    home = "/home/relay";',
    '    createHome = true;',
    '    shell = "${pkgs.shadow}/bin/nologin";',
    `    openssh.authorizedKeys.keys = ${keyList};`,
    '  };',
    '  users.groups.relay = { };',
    ...settings.map(([k, v]) => `  services.openssh.settings.${k} = ${nixString(v)};`),
    `  services.openssh.extraConfig = ${nixPaths(nixLines(sshd.join('\n'), '  '))};`,
    ...reaperNix(vars),
    '}',
    '',
  ].join('\n');
}

export interface DeviceNixInfo {
  /** relay_public_key is not in the inventory yet: say how to make and paste it. */
  missingKey: boolean;
  missingHostKey: boolean;
}

/** One of a device's tunnels, as relay_fleet's tunnel_relays fact gives it. */
interface TunnelRelay {
  name: string;
  address: string;
  ssh_port: number | string;
  host_key?: string;
  unit: string;
  suffix: string;
}

/** The device's tunnels: tunnel_relays, or (facts from before several relays) the one relay's. */
function tunnelRelaysOf(vars: Vars): TunnelRelay[] {
  const list = vars.tunnel_relays;
  if (Array.isArray(list) && list.length) return list as TunnelRelay[];
  return [
    {
      name: String(vars.relay_host ?? 'relay'),
      address: String(vars.relay_address),
      ssh_port: vars.relay_ssh_port as number,
      host_key: vars.relay_host_key as string | undefined,
      unit: 'relay-tunnel.service',
      suffix: '',
    },
  ];
}

/**
 * A device's configuration: a service per relay it keeps a tunnel to, named and pinned as on other
 * devices (relay-tunnel.service and known_hosts for its first relay, relay-tunnel-RELAY.service and
 * known_hosts-RELAY for the others). `vars`: the device's vars with relay_fleet's facts (tunnel_port,
 * tunnel_forwards, tunnel_relays).
 */
export function deviceNix(
  name: string,
  vars: Vars,
  info: DeviceNixInfo = { missingKey: false, missingHostKey: false },
): string {
  const tunnels = tunnelRelaysOf(vars).map((t) => {
    const unit = roleTemplate('reverse-tunnel-service', 'relay-tunnel.service.hbs', {
      ...vars,
      relay_address: t.address,
      relay_ssh_port: t.ssh_port,
      tunnel_suffix: t.suffix,
    });
    const field = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]?.trim();
    return { ...t, field };
  });
  const field = tunnels[0].field;
  const user = field('User') ?? String(vars.tunnel_user);
  const ownUser = user === 'relay-tunnel';
  const lines = [
    `# relay-play: NixOS configuration of the device ${name} (what \`relay-play apply\` does on other hosts).`,
    '# Add it to imports (or paste it) in configuration.nix, then nixos-rebuild switch.',
  ];
  if (tunnels.length > 1)
    lines.push(
      `# A tunnel to each of its relays (${tunnels.map((t) => t.name).join(', ')}), on the same port: ssh reaches it while any is up.`,
    );
  if (info.missingKey || info.missingHostKey) {
    lines.push(
      '# The relay accepts this device once the inventory has its keys. On the device, after nixos-rebuild:',
      `#   sudo install -d -m 0755 /etc/relay-play && sudo ssh-keygen -q -t ed25519 -N '' -C 'relay-access ${name}' -f /etc/relay-play/id_relay`,
      `#   sudo chown ${user} /etc/relay-play/id_relay`,
      `# then in the inventory, as host vars of ${name}:`,
      '#   relay_public_key: "<the line in /etc/relay-play/id_relay.pub>"',
      '#   ssh_host_key: "<the line in /etc/ssh/ssh_host_ed25519_key.pub>"',
      '# and run relay-play apply again: the tunnel comes up by itself within seconds.',
    );
  }
  lines.push('{ pkgs, ... }:', '{');
  if (ownUser) {
    lines.push(
      `  users.users.${nixAttr(user)} = {`,
      '    isSystemUser = true;',
      `    group = ${nixString(user)};`,
      '  };',
      `  users.groups.${nixAttr(user)} = { };`,
    );
  }
  for (const t of tunnels) {
    const service = t.unit.replace(/\.service$/, '');
    // A relay relay-play has never reached: its host key is unknown, and a tunnel must not trust on first use.
    if (!t.host_key) {
      lines.push(
        `  # No tunnel to the relay ${t.name} yet: relay-play has not read its host key. Once it has`,
        `  # (relay-play apply with ${t.name} up), print this again for systemd.services.${nixAttr(service)}.`,
      );
      continue;
    }
    const restartSec = Number(t.field('RestartSec') ?? 5);
    lines.push(
      `  # The relay ${t.name}'s host key, pinned: no prompt, no trust on first use.`,
      `  environment.etc.${nixString(`relay-play/known_hosts${t.suffix}`)}.text = ${nixString(`relay-play-relay ${t.host_key}\n`)};`,
      `  systemd.services.${nixAttr(service)} = {`,
      `    description = ${nixString(t.field('Description') ?? 'relay-play reverse SSH tunnel')};`,
      '    wants = [ "network-online.target" ];',
      '    after = [ "network-online.target" ];',
      '    wantedBy = [ "multi-user.target" ];',
      '    # Never give up: a device may be offline for days.',
      '    startLimitIntervalSec = 0;',
      '    serviceConfig = {',
      `      User = ${nixString(user)};`,
      `      ExecStart = ${nixPaths(nixString(t.field('ExecStart') ?? ''))};`,
      `      Restart = ${nixString(t.field('Restart') ?? 'always')};`,
      `      RestartSec = ${Number.isFinite(restartSec) ? restartSec : 5};`,
      // The random wait after a failure (spreads a fleet's reconnects), as the unit writes it.
      ...(t.field('ExecStopPost') ? [`      ExecStopPost = ${nixString(t.field('ExecStopPost')!)};`] : []),
      '    };',
      '  };',
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}
