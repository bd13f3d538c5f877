// `relay-play enroll`: what a new device runs on its first boot, as a cloud-config (`user-data`) or as
// a plain POSIX shell script (`firstrun.sh`, or pasted by a person on site), with a tunnel to each relay of
// the device. Pure text: the keys, port and tunnels come from src/relay/commands/enroll.ts, which recorded
// and authorized them on the relays first.
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { shq } from '../engine/index.js';
import { roleTemplate } from './nixos.js';

/** One tunnel of the device: to its first relay relay-tunnel.service, to each other relay-tunnel-RELAY.service. */
export interface FirstBootTunnel {
  relay: string;
  /** Its unit's name (relays.ts tunnelUnitName). */
  unit: string;
  /** '' for relay-tunnel.service, -RELAY for relay-tunnel-RELAY.service: names its pinned key file. */
  suffix: string;
  /** The relay's host key line for /etc/relay-play/known_hosts<suffix> ("relay-play-relay ssh-ed25519 ..."). */
  pin: string;
  /** The unit, rendered from the role's own template (so the next apply finds nothing to change). */
  text: string;
}

export interface FirstBoot {
  device: string;
  port: number;
  tunnelUser: string;
  /** OpenSSH private key (ed25519) of the device's relay key, and its public line. */
  relayKey: { private: string; public: string };
  /** The device's sshd ed25519 host key, made here so clients can pin it before the device ever boots. */
  hostKey: { private: string; public: string };
  /** One per relay of the device, its first relay first. */
  tunnels: FirstBootTunnel[];
  /** relay-play's own login (ansible_user and its public key), so the next apply can manage the device. */
  login?: { user: string; key: string };
}

/**
 * The device's tunnels as the relays handed them out (relay_fleet's tunnel_relays), each unit rendered
 * from the role's template with the variables the role's tunnel task gives it. A relay whose host key
 * is not known yet (never reached) has no pin: its tunnel is left to the first apply that reaches it.
 */
export function firstBootTunnels(facts: Record<string, unknown>): { tunnels: FirstBootTunnel[]; unpinned: string[] } {
  type Item = {
    name: string;
    address: string;
    ssh_port: number | string;
    unit: string;
    suffix: string;
    host_key?: string;
  };
  const items = (facts.tunnel_relays as Item[] | undefined) ?? [];
  const tunnels: FirstBootTunnel[] = [];
  const unpinned: string[] = [];
  for (const t of items) {
    if (!t.host_key) {
      unpinned.push(t.name);
      continue;
    }
    tunnels.push({
      relay: t.name,
      unit: t.unit,
      suffix: t.suffix,
      pin: `relay-play-relay ${t.host_key}`,
      text: roleTemplate('reverse-tunnel-service', 'relay-tunnel.service.hbs', {
        ...facts,
        relay_address: t.address,
        relay_ssh_port: t.ssh_port,
        tunnel_suffix: t.suffix,
      }),
    });
  }
  return { tunnels, unpinned };
}

const relaysOf = (f: FirstBoot) => f.tunnels.map((t) => t.relay);

/** "the relay ra", "the relays ra and rb", "the relays ra, rb and rc". */
function theRelays(f: FirstBoot): string {
  const names = relaysOf(f);
  if (names.length === 1) return `the relay ${names[0]}`;
  return `the relays ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

const tunnelsTo = (f: FirstBoot) =>
  `${f.tunnels.length === 1 ? 'a reverse SSH tunnel' : 'reverse SSH tunnels'} to ${theRelays(f)}`;

/** A here-document whose end marker cannot occur in the text. */
function heredoc(text: string): string {
  let end: string;
  do end = `RELAY_PLAY_${randomBytes(6).toString('hex')}`;
  while (text.includes(end));
  return `<<'${end}'\n${text.endsWith('\n') ? text : text + '\n'}${end}`;
}

/**
 * The shell part both forms share: tunnel user, keys, pinned relay key, unit, started. With
 * `withHostKey` it also installs the sshd host key (a cloud-config gives it to cloud-init instead).
 */
export function firstBootScript(f: FirstBoot, opts: { withHostKey: boolean }): string {
  const put = (path: string, mode: string, owner: string, text: string) =>
    `put ${shq(path)} ${mode} ${shq(owner)} ${heredoc(text)}`;
  return [
    '#!/bin/sh',
    `# relay-play enroll: first boot of ${f.device} — ${tunnelsTo(f)} (relay port ${f.port}).`,
    '# Run once as root. It holds private keys: treat it like a password and delete it after use (it deletes',
    '# itself when run from a file). The relay key in it is replaced on the first relay-play apply that reaches',
    '# the device.',
    'set -eu',
    'umask 077',
    `user=${shq(f.tunnelUser)}`,
    'if ! id -u "$user" >/dev/null 2>&1; then',
    '  useradd --system --shell /usr/sbin/nologin --home-dir /nonexistent --no-create-home "$user"',
    'fi',
    '# Write a file atomically with its mode and owner: $1 path, $2 mode, $3 owner; the content on stdin.',
    'put() {',
    '  tmp=$(mktemp "$1.XXXXXX")',
    '  cat > "$tmp"',
    '  chmod "$2" "$tmp" && chown "$3" "$tmp" && mv -f "$tmp" "$1"',
    '}',
    'mkdir -p /etc/relay-play && chmod 0755 /etc/relay-play',
    put('/etc/relay-play/id_relay', '0600', f.tunnelUser, f.relayKey.private),
    put('/etc/relay-play/id_relay.pub', '0644', f.tunnelUser, f.relayKey.public + '\n'),
    ...f.tunnels.map((t) => put(`/etc/relay-play/known_hosts${t.suffix}`, '0644', 'root', t.pin + '\n')),
    ...(opts.withHostKey
      ? [
          '# The host key the clients have pinned already; sshd reloads to use it.',
          put('/etc/ssh/ssh_host_ed25519_key', '0600', 'root', f.hostKey.private),
          put('/etc/ssh/ssh_host_ed25519_key.pub', '0644', 'root', f.hostKey.public + '\n'),
          'for u in ssh sshd; do if systemctl is-active --quiet "$u.service"; then systemctl reload "$u.service"; break; fi; done',
        ]
      : []),
    ...(f.login ? loginPart(f.login) : []),
    ...f.tunnels.map((t) => put(`/etc/systemd/system/${t.unit}`, '0644', 'root', t.text)),
    'systemctl daemon-reload',
    `systemctl enable --now ${f.tunnels.map((t) => shq(t.unit)).join(' ')}`,
    `echo "relay-play: ${f.device}'s ${f.tunnels.length === 1 ? 'tunnel' : 'tunnels'} to ${relaysOf(f).join(', ')} ${f.tunnels.length === 1 ? 'is' : 'are'} enabled (relay port ${f.port})"`,
    'case "$0" in */*) rm -f -- "$0" ;; esac',
    '',
  ].join('\n');
}

/** The admin's login for relay-play: the user (made if missing), its key, and sudo without a password. */
function loginPart(login: { user: string; key: string }): string[] {
  return [
    `# relay-play logs in as ${login.user} (through the tunnel) with this key, and needs sudo without a password.`,
    `login=${shq(login.user)} key=${shq(login.key)}`,
    'if ! id -u "$login" >/dev/null 2>&1; then useradd --create-home --shell /bin/sh "$login"; fi',
    'home=$(getent passwd "$login" | cut -d: -f6)',
    'mkdir -p "$home/.ssh" && touch "$home/.ssh/authorized_keys"',
    'grep -qxF "$key" "$home/.ssh/authorized_keys" || printf \'%s\\n\' "$key" >> "$home/.ssh/authorized_keys"',
    'chown -R "$login:$(id -gn "$login")" "$home/.ssh" && chmod 0700 "$home/.ssh" && chmod 0600 "$home/.ssh/authorized_keys"',
    'if [ "$login" != root ]; then',
    '  printf \'%s ALL=(ALL) NOPASSWD:ALL\\n\' "$login" | put /etc/sudoers.d/relay-play-login 0440 root',
    'fi',
  ];
}

/** A cloud-config: the host key through cloud-init's ssh_keys, the rest as a script run once by runcmd. */
export function cloudConfig(f: FirstBoot): string {
  const script = '/var/lib/relay-play/firstboot.sh';
  const doc = {
    ssh_keys: { ed25519_private: f.hostKey.private, ed25519_public: f.hostKey.public },
    write_files: [
      { path: script, permissions: '0700', owner: 'root:root', content: firstBootScript(f, { withHostKey: false }) },
    ],
    runcmd: [['sh', script]],
  };
  return [
    '#cloud-config',
    `# relay-play enroll: ${f.device} — ${tunnelsTo(f)} (relay port ${f.port}).`,
    '# Holds private keys (the relay key and the sshd host key): treat it like a password, and delete it',
    '# from the boot medium once the device has started. The relay key is replaced on the first',
    '# relay-play apply that reaches the device.',
    stringify(doc, { lineWidth: 0 }),
  ].join('\n');
}
