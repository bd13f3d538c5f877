// The relay application as the engine sees it: its modules, its roles, and how it reaches devices.
// `relay-play run` runs with these too, so a playbook run on a relay inventory reaches away devices
// through their tunnels and may use the bundled roles.
import { join } from 'node:path';
import { packageRoot, type Extensions } from '../engine/index.js';
import { relayModules } from './modules/index.js';
import { relayRoutes } from './route.js';

/** The roles shipped with relay-play (the package's roles/). */
export const bundledRolesDir = (): string => join(packageRoot(), 'roles');

export type BundledPlaybook = 'site' | 'remove' | 'rotate' | 'enroll';

/** One of the playbooks shipped with relay-play (the package's playbooks/). */
export const bundledPlaybook = (name: BundledPlaybook): string => join(packageRoot(), 'playbooks', `${name}.yaml`);

export const relayApp: Extensions = { modules: relayModules, rolesPath: [bundledRolesDir()], routes: relayRoutes };
