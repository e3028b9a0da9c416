#!/bin/sh
# Builds (once) a minimal Debian 12 tree for the real bootstrap proof and caches it.
# Usage: make-rootfs.sh CACHE_DIR   -> CACHE_DIR/bookworm-base (reused when CACHE_DIR/bookworm-base/.complete exists)
set -eu
cache=${1:-/var/cache/racklift-test}
tree="$cache/bookworm-base"
mirror=${RACKLIFT_TEST_MIRROR:-http://deb.debian.org/debian}
if [ -f "$tree/.complete" ]; then
  echo "rootfs cached: $tree"
  exit 0
fi
rm -rf "$tree.partial"
mkdir -p "$cache"
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,ca-certificates \
  bookworm "$tree.partial" "$mirror"
rm -rf "$tree"
mv "$tree.partial" "$tree"
touch "$tree/.complete"
echo "rootfs built: $tree"
