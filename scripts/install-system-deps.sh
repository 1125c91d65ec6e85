#!/usr/bin/env bash
# Debian packages the test suite uses beyond Node: podman + runc run the sidecar in a real
# container, mmdebstrap makes the Debian tree the sidecar image test's base image is built on, tmux
# drives the TUI in a real terminal, util-linux provides unshare for the bind-mount tests, chromium
# (driven headless by playwright-core) runs the dashboard tests.
# Installs only what is missing; needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail

packages=(podman runc mmdebstrap tmux util-linux chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages missing (${missing[*]}) and apt-get is not available; install them with your package manager." >&2
  echo "Tests that need them will say so and skip (except under CI=true, where they fail)." >&2
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "installing ${missing[*]} needs root; rerun as root or install sudo." >&2; exit 1; }
  as_root=(sudo)
fi

echo "system packages: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}"
