#!/usr/bin/env bash
# Installs what the appliance and its tests need on a fresh Debian 12 machine: Debian packages (boot
# firmware, the package cache, reference servers, real clients, qemu, chromium) and the npm packages.
# Safe to run again.
#   scripts/install-deps.sh           everything: what the appliance needs and what the tests need (npm test)
#   scripts/install-deps.sh runtime   only what running the appliance needs (npm start): no test packages,
#                                     no npm devDependencies
set -euo pipefail
cd "$(dirname "$0")/.."
scope="${1:-all}"

RUNTIME_PACKAGES=(
  # boot files the appliance serves, and the tools it drives (linters of rendered files, BMCs)
  ipxe pxelinux syslinux-common grub-efi-amd64-signed shim-signed debian-installer-12-netboot-amd64
  iproute2 debconf shellcheck ipmitool xorriso
  # the package cache installers and image builds use (started by the appliance on the provisioning address)
  apt-cacher-ng
  # better-sqlite3 has no prebuilt binary for this Node: npm builds it from source
  build-essential python3
)
TEST_PACKAGES=(
  # real clients and reference servers for the tests and benchmarks
  iproute2 nftables busybox isc-dhcp-client atftp tftp-hpa curl kea-admin kea-dhcp4-server dnsmasq-base
  tftpd-hpa nginx-light openssh-server openssh-client openipmi
  # the end-to-end harness and the browser tests
  qemu-system-x86 ipxe-qemu ovmf radvd chromium
  # real Debian systems for bootstrap tests
  debootstrap systemd-container
)
DEBIAN_PACKAGES=("${RUNTIME_PACKAGES[@]}")
[ "$scope" = runtime ] || DEBIAN_PACKAGES+=("${TEST_PACKAGES[@]}")

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages (run as root to install): ${missing[*]}" >&2
    exit 1
  fi
  # Packaged daemons (nginx, tftpd-hpa, ssh) must not start on install: tests start their own instances.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo "install-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm: the runtime scope leaves out devDependencies (typescript, vitest, playwright-core); the full scope adds
# them when they are missing, and both reinstall when the lock file changed.
marker=node_modules/tsx/package.json
npm_scope=()
if [ "$scope" = runtime ]; then
  npm_scope=(--omit=dev)
else
  marker=node_modules/vitest/package.json
fi
if [ ! -e "$marker" ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund "${npm_scope[@]}"
fi
