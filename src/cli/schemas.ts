// Every JSON schema relay-play validates with, for the build step that precompiles them
// (scripts/precompile-schemas.mjs): the engine's own, and every module's (the application's too).
import { engineSchemas } from '../engine/index.js';
import { relayApp } from '../relay/app.js';

export function allSchemas(): object[] {
  return [...new Set([...engineSchemas(), ...relayApp.modules.modules().map((m) => m.schema)])];
}
