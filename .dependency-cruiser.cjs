// The layering rules (docs/architecture.md), checked by `npm run lint` in `npm test`:
//   - the engine (src/engine) knows nothing of the relay application (src/relay) or the command line (src/cli);
//   - the application uses the engine only through its public API (src/engine/index.ts, and the light
//     src/engine/cli/index.ts for command definitions), never the command line;
//   - inside the engine, a folder imports only folders below it in ENGINE_LAYERS (so no folder cycles);
//   - no module cycles anywhere.
/** Lowest first; a folder may import itself and any folder listed before it. */
const ENGINE_LAYERS = [
  'util',
  'schema',
  'yaml',
  'template',
  'inventory',
  'connection',
  'modules',
  'playbook',
  'runner',
  'output',
  'cli',
];

const layerRules = ENGINE_LAYERS.map((layer, i) => {
  const above = ENGINE_LAYERS.slice(i + 1);
  return {
    name: `engine-${layer}-imports-only-below`,
    comment: `src/engine/${layer} may import only ${ENGINE_LAYERS.slice(0, i).join(', ') || 'nothing else in the engine'}`,
    severity: 'error',
    from: { path: `^src/engine/${layer}/` },
    to: { path: [`^src/engine/(${above.join('|') || '$^'})/`, '^src/engine/index\\.ts$'] },
  };
}).filter((r) => !r.to.path[0].includes('$^'));

module.exports = {
  forbidden: [
    {
      name: 'engine-knows-no-application',
      comment: 'the engine must not import the relay application or the command line',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(relay|cli)/' },
    },
    {
      name: 'application-uses-engine-api',
      comment: 'src/relay and src/cli use the engine through src/engine/index.ts (or src/engine/cli/index.ts) only',
      severity: 'error',
      from: { path: '^src/(relay|cli)/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/(index|cli/index)\\.ts$' },
    },
    {
      name: 'application-not-command-line',
      comment: 'the relay application does not import the command line that composes it',
      severity: 'error',
      from: { path: '^src/relay/' },
      to: { path: '^src/cli/' },
    },
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'no module imports itself through others',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|test|bench)/' },
  },
};
