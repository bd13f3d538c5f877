// Placeholder: `npm run build` replaces dist/src/schema/precompiled.js with the validators of every
// schema in src/schema/all.ts, compiled by ajv at build time (see scripts/precompile-schemas.js).
export const precompiled: Record<string, unknown> = {};
