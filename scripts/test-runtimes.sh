#!/usr/bin/env bash
# The smoke set on the other Node runtimes the project supports: storage, the wake, a sidecar round
# trip and the CLI, run by vitest on each runtime (installed from the npm registry by
# scripts/node-runtime.sh). The full suite runs on Node 24 (`vitest run` under npm, whose PATH starts
# with node_modules/.bin/node); tests/runtime.test.ts checks that each run is on the runtime asked for.
#
#   bash scripts/test-runtimes.sh [MAJOR...]      default: 22 26
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=(
  tests/runtime.test.ts
  tests/queue-store.test.ts
  tests/migrations.test.ts
  tests/notifier.test.ts
  tests/doorbells.test.ts
  tests/sidecar-mcp.test.ts
  tests/cli-supervise.test.ts
)
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 26)
for major in "${majors[@]}"; do
  runtime=$(bash scripts/node-runtime.sh "$major")
  echo "smoke set on $("$runtime/bin/node" --version)"
  PATH="$runtime/bin:$PATH" BOT_BOTTLE_EXPECT_NODE_MAJOR="$major" \
    "$runtime/bin/node" node_modules/vitest/vitest.mjs run "${smoke[@]}"
done
