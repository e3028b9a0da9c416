#!/bin/sh
# udhcpc's event script for the rack benchmark: on a lease, put the address on the interface and write what
# the machine needs next (its address, the server, the boot file) for machine.sh to read.
# shellcheck disable=SC2154 # ip, mask, router, interface, siaddr, serverid and boot_file come from udhcpc
case "$1" in
  bound|renew)
    ip addr replace "$ip/${mask:-16}" dev "$interface"
    # Behind a rack's router (a relayed subnet) the servers are reached through it.
    if [ -n "${router:-}" ]; then ip route replace default via "${router%% *}" dev "$interface"; fi
    printf "ip='%s'\nsiaddr='%s'\nboot_file='%s'\n" "$ip" "${siaddr:-$serverid}" "${boot_file:-}" > "$LEASE_FILE"
    ;;
esac
exit 0
