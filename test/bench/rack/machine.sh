#!/bin/bash
# One simulated machine of the rack benchmark, run inside its own network namespace (its NIC is eth0 with the
# machine's MAC): what a BIOS PXE ROM and then iPXE do, with real Debian clients.
#   1. DHCP as a PXE ROM (busybox udhcpc, vendor class PXEClient, arch 0): address and loader name
#   2. the loader over TFTP (atftp, blksize 1432 lockstep with tsize, as PXE ROMs ask)
#   3. DHCP again as iPXE (user class iPXE): the boot script's URL
#   4. the boot script over HTTP (curl)
#   5. for a machine the script installs: its kernel and initrd over HTTP (curl)
# Prints one line: "<index> <step>=<unix seconds> ..." and "fail=<step>" if a step failed; the clients' own
# output goes to WORKDIR/machine.INDEX.log.
#   machine.sh INDEX WORKDIR
set -u
index=$1
work=$2
hook=$(dirname "$0")/udhcpc-hook.sh
lease=$work/lease.$index
log=$work/machine.$index.log
line="$index start=$EPOCHREALTIME"
fail() {
  echo "$line fail=$1"
  exit 1
}

# -T 4 -t 8: a PXE ROM retries its DISCOVER after about 4 s (then 8, 16, 32); udhcpc retries at a fixed pause.
LEASE_FILE=$lease busybox udhcpc -i eth0 -q -n -f -t 8 -T 4 -s "$hook" -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000 >>"$log" 2>&1 || fail dhcp1
# shellcheck disable=SC1090
. "$lease"
line="$line dhcp1=$EPOCHREALTIME"
if [ -z "${boot_file:-}" ] || [ -z "${siaddr:-}" ]; then
  cat "$lease" >>"$log"
  fail loader-name
fi
atftp --option "blksize 1432" --option "tsize 0" -g -r "$boot_file" -l /dev/null "$siaddr" >>"$log" 2>&1 || fail tftp
line="$line tftp=$EPOCHREALTIME"
boot_file=
LEASE_FILE=$lease busybox udhcpc -i eth0 -q -n -f -t 8 -T 4 -s "$hook" -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000 -x 0x4d:69505845 >>"$log" 2>&1 || fail dhcp2
# shellcheck disable=SC1090
. "$lease"
line="$line dhcp2=$EPOCHREALTIME"
case "${boot_file:-}" in http://*) ;; *) fail script-url ;; esac
script=$(curl -sf --max-time 60 "$boot_file") || fail script
line="$line script=$EPOCHREALTIME"
# The first http:// word of the `kernel` and `initrd` lines (no subprocess: a rack of them runs at once).
kernel=
initrd=
while read -r command words; do
  case "$command" in kernel | initrd) ;; *) continue ;; esac
  for word in $words; do
    case "$word" in
      http://*)
        if [ "$command" = kernel ]; then kernel=$word; else initrd=$word; fi
        break
        ;;
    esac
  done
done <<<"$script"
if [ -n "$kernel" ]; then
  curl -sf --max-time 120 -o /dev/null "$kernel" || fail kernel
  line="$line kernel=$EPOCHREALTIME"
  [ -n "$initrd" ] || fail initrd-name
  curl -sf --max-time 120 -o /dev/null "$initrd" || fail initrd
  line="$line initrd=$EPOCHREALTIME"
fi
echo "$line done=$EPOCHREALTIME"
