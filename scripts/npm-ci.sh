#!/usr/bin/env bash
# `npm ci` on the runtime the project runs on (Node 24, installed from the npm registry by
# scripts/node-runtime.sh), with node-gyp pointed at that runtime's headers so better-sqlite3 builds
# from source without downloading anything but npm packages: a fresh machine or a fresh $HOME has no
# npm `nodedir` setting, and node-gyp would otherwise try to fetch headers from outside the registry.
#
# The runtime is linked as node_modules/.bin/node, which npm puts first on PATH for every script, so
# `npm test`, `npm run demo` and `npx bot-bottle` run on it whatever `node` the shell has.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=$(bash scripts/node-runtime.sh 24)
export PATH="$runtime/bin:$PATH"
export npm_config_nodedir="$runtime"
echo "node runtime: $runtime ($(node --version)); node-gyp headers: $npm_config_nodedir/include/node"
npm ci
ln -sfn "../../${runtime#"$PWD/"}/bin/node" node_modules/.bin/node
node_modules/.bin/node -e 'require("better-sqlite3")(":memory:").close()' \
  || { echo "npm-ci: better-sqlite3 does not load on $(node --version); remove node_modules and rerun." >&2; exit 1; }
