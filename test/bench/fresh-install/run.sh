#!/usr/bin/env bash
# How long `npm start`'s and `npm test`'s installs take on a fresh machine: a fresh Debian 12 (debootstrap
# minbase) with only Node 20 added (the host's node and npm copied in: Debian 12 ships Node 18), booted as a
# systemd-nspawn container sharing the host's network (only Debian's mirror and the npm registry are reached).
# In it, from a copy of this checkout at HEAD:
#   1. scripts/install-deps.sh runtime   (what npm start installs)
#   2. node bin/racklift.js setup        (the rest of npm start before serving)
#   3. scripts/install-deps.sh           (what npm test adds)
# Usage (root): test/bench/fresh-install/run.sh [WORKDIR]   (default /var/tmp/rl-fresh-<pid>; removed after)
set -euo pipefail
cd "$(dirname "$0")/../../.."
WORK="${1:-/var/tmp/rl-fresh-$$}"
ROOT="$WORK/root"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
t() { local start=$SECONDS; "$@"; echo "[fresh] $(( SECONDS - start )) s: $*" >&2; }

echo "[fresh] load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
t debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1
install -m 0755 "$(command -v node)" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
mkdir -p "$ROOT/racklift"
git archive HEAD | tar -x -C "$ROOT/racklift"

inside() { systemd-nspawn -D "$ROOT" --register=no -q --resolv-conf=copy-host --chdir=/racklift --setenv=CI=true bash -c "$1"; }
run_timed() {
  local what="$1" command="$2" start=$SECONDS
  inside "$command" >"$WORK/$what.log" 2>&1 || { tail -30 "$WORK/$what.log" >&2; echo "[fresh] $what FAILED" >&2; exit 1; }
  echo "[fresh] $what: $(( SECONDS - start )) s (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
}
run_timed 'install-deps runtime (npm start)' 'bash scripts/install-deps.sh runtime'
run_timed 'racklift setup (npm start)' 'node bin/racklift.js setup'
inside 'node bin/racklift.js doctor --no-fail' >&2 || true
run_timed 'install-deps, the rest (npm test)' 'bash scripts/install-deps.sh'
echo "[fresh] packages installed: $(inside "dpkg-query -W -f='.' | wc -c") Debian packages; node_modules $(du -sh "$ROOT/racklift/node_modules" | cut -f1)" >&2
