/**
 * The architecture check (`npm run check:architecture`): the layer rules of docs/ARCHITECTURE.md,
 * enforced on every import in src/ and sidecar/. Paths are matched relative to the directory
 * depcruise runs in, so tests/architecture.test.ts can run this same file against a small tree of
 * deliberate violations.
 *
 * Type-only imports count for the layer rules (a type from a higher layer is still a dependency on
 * it) but not for cycles: a store and the view it hands out may name each other's types.
 */

/** Lowest first. A module may import from its own layer and any layer before it, never after. */
const LAYERS = [
  { name: 'core', path: '^src/core/' },
  { name: 'storage', path: '^src/storage/' },
  { name: 'keys', path: '^src/keys/' },
  { name: 'notify', path: '^src/notify/' },
  { name: 'kinds', path: '^src/kinds/' },
  { name: 'audit', path: '^src/audit/' },
  // The bottles table sits beside the queue: staleness is a proposal read against a bottle's row.
  { name: 'queue', path: '^src/(queue|bottles)/' },
  // Peers that compose the layers below into what the outside uses: administration, legacy import,
  // the launcher API, telling the operator of new proposals (alerts), the host broker, the opened
  // database and the package entry points (src/*.ts).
  { name: 'composition', path: '^src/(admin|alerts|legacy|launcher|broker)/|^src/[^/]+\\.tsx?$' },
  // The operator's tools: the CLI's verbs and, beside them, the web dashboard the `dashboard` verb serves.
  { name: 'cli', path: '^src/(cli|dashboard)/' },
];

const LAYER_PATHS = LAYERS.map((layer) => layer.path);
const ADD_LAYER = 'add the folder to LAYERS in .dependency-cruiser.mjs and to docs/ARCHITECTURE.md.';

const layerRules = LAYERS.slice(0, -1).map((layer, index) => {
  const higher = LAYERS.slice(index + 1);
  return {
    name: `layer-${layer.name}-imports-up`,
    severity: 'error',
    comment: `${layer.name} may only import from ${LAYERS.slice(0, index + 1).map((l) => l.name).join(', ')}; move the shared code down instead of reaching up to ${higher.map((l) => l.name).join(', ')}.`,
    from: { path: layer.path },
    to: { path: higher.map((l) => l.path) },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...layerRules,
    {
      name: 'src-outside-layers',
      severity: 'error',
      comment: `Every folder in src/ belongs to a layer, or nothing stops it from importing upwards (or lower layers from importing it); ${ADD_LAYER}`,
      from: { path: '^src/', pathNot: LAYER_PATHS },
      to: {},
    },
    {
      name: 'import-outside-layers',
      severity: 'error',
      comment: `An import of a src/ module that belongs to no layer escapes the layer rules; ${ADD_LAYER}`,
      from: {},
      to: { path: '^src/', pathNot: LAYER_PATHS },
    },
    {
      name: 'sidecar-imports-cli',
      severity: 'error',
      comment: 'The sidecar uses the library, never the host CLI; move what it needs out of src/cli/.',
      from: { path: '^sidecar/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'src-imports-sidecar',
      severity: 'error',
      comment: 'The host library and CLI never import the sidecar; it runs in another process (the demo starts it as a child).',
      from: { path: '^src/' },
      to: { path: '^sidecar/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only imports aside) make load order matter and layers meaningless; break the cycle by moving the shared part down.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports and that imports nothing is dead code; delete it or use it.',
      from: { orphan: true, path: '^(src|sidecar)/' },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the checker cannot resolve would escape every rule above; fix the path.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    // Resolve packages the way Node does for this ESM project, through their `exports` maps.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
