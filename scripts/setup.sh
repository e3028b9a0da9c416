#!/usr/bin/env bash
# The README's first command: installs the Debian and npm dependencies, links the boot loaders from their
# Debian packages into boot/ (binaries are never committed), and imports the Debian 12 installer.
# Safe to run again: links are replaced, the import is repeated.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

BOOT_DIR="${RACKLIFT_BOOT_DIR:-boot}"
mkdir -p "$BOOT_DIR"

# target-in-boot/  source  Debian-package
LOADERS=(
  "undionly.kpxe /usr/lib/ipxe/undionly.kpxe ipxe"
  "ipxe.efi /usr/lib/ipxe/ipxe.efi ipxe"
  "snponly.efi /usr/lib/ipxe/snponly.efi ipxe"
  "pxelinux.0 /usr/lib/PXELINUX/pxelinux.0 pxelinux"
  "ldlinux.c32 /usr/lib/syslinux/modules/bios/ldlinux.c32 syslinux-common"
  "menu.c32 /usr/lib/syslinux/modules/bios/menu.c32 syslinux-common"
  "vesamenu.c32 /usr/lib/syslinux/modules/bios/vesamenu.c32 syslinux-common"
  "libutil.c32 /usr/lib/syslinux/modules/bios/libutil.c32 syslinux-common"
  "libcom32.c32 /usr/lib/syslinux/modules/bios/libcom32.c32 syslinux-common"
  "grubnetx64.efi /usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed grub-efi-amd64-signed"
  "shimx64.efi /usr/lib/shim/shimx64.efi.signed shim-signed"
)

missing=0
for entry in "${LOADERS[@]}"; do
  read -r name source package <<<"$entry"
  # Resolve the package's own links (Debian's ipxe.efi points into /boot), so boot/ links straight to the file.
  resolved="$(readlink -f "$source" || true)"
  if [ -z "$resolved" ] || [ ! -f "$resolved" ]; then
    echo "setup: $source is missing: install the Debian package $package" >&2
    missing=$((missing + 1))
    continue
  fi
  ln -sfn "$resolved" "$BOOT_DIR/$name"
done
echo "setup: boot loaders linked into $BOOT_DIR/ ($missing missing)"

node bin/racklift.js os import debian-12
