#!/usr/bin/env bash
# The README's first command, before `racklift serve`: installs what the appliance needs (Debian packages and
# npm packages, runtime scope only), then `racklift setup` links the boot loaders from their Debian packages
# into boot/ (binaries are never committed) and imports the Debian 12 installer. The e2e harness builds its
# boot dir with the same `racklift setup`. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh runtime
node bin/racklift.js setup
