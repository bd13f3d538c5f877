// The engine's modules, by name, with the Ansible FQCN aliases playbooks are often written with.
import type { Module } from './types.js';
import { ModuleRegistry } from './registry.js';
import { authorized_key } from './authorized_key.js';
import { blockinfile } from './blockinfile.js';
import { command, shell } from './command.js';
import { copy } from './copy.js';
import { debug } from './debug.js';
import { file } from './file.js';
import { lineinfile } from './lineinfile.js';
import { openssh_keypair } from './openssh_keypair.js';
import { set_fact } from './set_fact.js';
import { slurp } from './slurp.js';
import { stat } from './stat.js';
import { systemd } from './systemd.js';
import { template } from './template.js';
import { user } from './user.js';
import { getent } from './getent.js';
import { assert, fail } from './assert.js';
import { apt } from './apt.js';
import { setup } from './setup.js';
import { ping } from './ping.js';
import { raw } from './raw.js';
import { group } from './group.js';
import { tempfile } from './tempfile.js';
import { replace } from './replace.js';
import { hostname } from './hostname.js';
import { sysctl } from './sysctl.js';
import { known_hosts } from './known_hosts.js';
import { find } from './find.js';
import { fetch } from './fetch.js';
import { get_url } from './get_url.js';
import { uri } from './uri.js';
import { unarchive } from './unarchive.js';
import { pause } from './pause.js';
import { wait_for } from './wait_for.js';
import { script } from './script.js';
import { cron } from './cron.js';
import { wait_for_connection } from './wait_for_connection.js';
import { reboot } from './reboot.js';
import { add_host, group_by, include_vars, meta, set_stats } from './language.js';

// service and package are Ansible's generic modules; on these hosts they are systemd and apt.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module has its own argument type
const builtin: Record<string, Module<any>> = {
  copy,
  template,
  command,
  shell,
  file,
  lineinfile,
  blockinfile,
  user,
  systemd,
  service: systemd,
  stat,
  slurp,
  set_fact,
  debug,
  getent,
  assert,
  fail,
  apt,
  package: apt,
  setup,
  ping,
  raw,
  group,
  tempfile,
  replace,
  hostname,
  known_hosts,
  find,
  fetch,
  get_url,
  uri,
  unarchive,
  pause,
  wait_for,
  script,
  cron,
  wait_for_connection,
  reboot,
  meta,
  group_by,
  add_host,
  include_vars,
  set_stats,
};

export const builtinModules = new ModuleRegistry({
  ...builtin,
  authorized_key,
  openssh_keypair,
  sysctl,
  ...Object.fromEntries(Object.entries(builtin).map(([name, mod]) => [`ansible.builtin.${name}`, mod])),
  'ansible.posix.authorized_key': authorized_key,
  'community.crypto.openssh_keypair': openssh_keypair,
  'ansible.posix.sysctl': sysctl,
});
