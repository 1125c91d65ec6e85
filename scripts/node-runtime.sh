#!/usr/bin/env bash
# Installs a Node.js runtime the project targets from the npm registry and prints its directory
# (bin/node and include/node, the headers node-gyp builds native addons against).
#
#   bash scripts/node-runtime.sh [MAJOR]     MAJOR is 24 (the default, the one the project runs on),
#                                            22 or 26 (the smoke set's other runtimes)
#
# The official binaries are published on the npm registry as node-<platform>-<arch>@VERSION, so a
# machine that reaches only the registry gets any runtime without nodejs.org. Versions are pinned
# here, and cached in .cache/node/VERSION-PLATFORM-ARCH/ beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

major=${1:-24}
case "$major" in
  24) version=24.22.3 ;;
  22) version=22.23.5 ;;
  26) version=26.12.1 ;;
  *) echo "node-runtime: no pinned runtime for Node $major; choose 22, 24 or 26 (pinned in scripts/node-runtime.sh)." >&2; exit 2 ;;
esac

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "node-runtime: $(uname -s) has no node-<os>-<arch> package on the npm registry; install Node $major yourself and put it first on PATH." >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-runtime: no node-$os-<arch> package for $(uname -m); install Node $major yourself and put it first on PATH." >&2; exit 2 ;;
esac

dir="$PWD/.cache/node/$version-$os-$arch"
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node.h" ]; then
  echo "node-runtime: fetching node-$os-$arch@$version from the npm registry" >&2
  staging="$dir.partial"
  rm -rf "$staging" && mkdir -p "$staging"
  tarball=$(cd "$staging" && npm pack --silent "node-$os-$arch@$version")
  tar -xzf "$staging/$tarball" -C "$staging" --strip-components=1 package/bin package/include
  rm -f "$staging/$tarball"
  "$staging/bin/node" -e 0 || { echo "node-runtime: the fetched node-$os-$arch@$version does not run on this machine." >&2; exit 1; }
  rm -rf "$dir" && mv "$staging" "$dir"
fi
echo "$dir"
