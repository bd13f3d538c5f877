// relay-play's own modules, added to the engine's: the fleet's ports and keys (kept on the relay), the
// relay's tunnel sessions, a device's tunnel, and what sshd is on a host.
import { builtinModules } from '../../engine/index.js';
import { relay_fleet } from './relay_fleet.js';
import { relay_fleet_read } from './relay_fleet_read.js';
import { relay_sessions } from './relay_sessions.js';
import { relay_tunnel } from './relay_tunnel.js';
import { sshd_check } from './sshd_check.js';

export const relayModules = builtinModules.with({
  relay_fleet,
  relay_fleet_read,
  relay_sessions,
  relay_tunnel,
  sshd_check,
});
