// What an application adds to the engine (src/relay/app.ts is one): the extension points, in one place.
import type { RouteContext, Router } from '../connection/route.js';
import type { Inventory } from '../inventory/index.js';
import { builtinModules } from '../modules/index.js';
import type { ModuleRegistry } from '../modules/registry.js';

/** Makes a run's router, once its connections exist (a route may travel through another host's). */
export type RouterFactory = (inventory: Inventory, run: RouteContext) => Router | undefined;

export interface Extensions {
  /** Every module a playbook may use: the engine's (builtinModules) with the application's added. */
  modules: ModuleRegistry;
  /** Role directories searched after those beside the playbook (the application's bundled roles). */
  rolesPath: string[];
  /** How hosts are reached other than only at their own address (src/engine/connection/route.ts). */
  routes?: RouterFactory;
}

/** The engine alone: its own modules, no roles of its own, every host reached directly. */
export const ENGINE_ONLY: Extensions = { modules: builtinModules, rolesPath: [] };
