// Placeholder: `npm run build` replaces dist/src/schema/precompiled.js with the validators of every
// schema in src/cli/schemas.ts, compiled by ajv at build time (see scripts/precompile-schemas.mjs).
export const precompiled: Record<string, unknown> = {};
