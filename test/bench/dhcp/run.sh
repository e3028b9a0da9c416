#!/usr/bin/env bash
# DHCP throughput: perfdhcp (relay mode, 50,000 simulated clients behind relay 198.18.0.1) in one namespace
# against racklift, dnsmasq and kea-dhcp4 (memfile, persisted) in another, each with the same /16 pool
# 198.18.0.0/16. For each server a short rate ladder; prints the highest rate held with under 1% drops.
# Needs root. Not part of `npm test`. Usage: bash test/bench/dhcp/run.sh [seconds-per-step]
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
STEP_SECONDS=${1:-10}
CLIENTS=50000
TAG=$$
NS_C=rl-dhcpb-c-$TAG
NS_S=rl-dhcpb-s-$TAG
IF_S=rldb-s
IF_C=rldb-c
SERVER=10.231.12.1
RELAY=198.18.0.1
WORK=$(mktemp -d /tmp/rl-dhcp-bench-XXXXXX)
SERVER_PID=

[ "$(id -u)" -eq 0 ] || { echo "dhcp bench: needs root (network namespaces)" >&2; exit 1; }
for tool in perfdhcp kea-dhcp4 dnsmasq; do command -v "$tool" >/dev/null || { echo "dhcp bench: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }; done

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
  ip netns del "$NS_S" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] && echo "work dir kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ip netns add "$NS_C"
ip netns add "$NS_S"
ip -n "$NS_S" link add "$IF_S" type veth peer name "$IF_C" netns "$NS_C"
ip -n "$NS_S" addr add "$SERVER/24" dev "$IF_S"
ip -n "$NS_C" addr add 10.231.12.2/24 dev "$IF_C"
ip -n "$NS_C" addr add "$RELAY/16" dev "$IF_C"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$IF_S" up
ip -n "$NS_C" link set "$IF_C" up
ip -n "$NS_S" route add 198.18.0.0/16 via 10.231.12.2

wait_port67() {
  for _ in $(seq 1 100); do
    ip netns exec "$NS_S" ss -lun | grep -q ':67 ' && return 0
    sleep 0.2
  done
  echo "dhcp bench: $1 did not start; its log:" >&2
  tail -20 "$WORK/$1.log" >&2
  exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

start_racklift() {
  mkdir -p "$WORK/racklift"
  cat > "$WORK/racklift/racklift.yaml" <<YAML
dataDir: $WORK/racklift/data
log: { level: warn }
http: { host: 127.0.0.1, port: 8080 }
provisioning:
  interface: $IF_S
  address: $SERVER
  subnet: 10.231.12.0/24
  pool: { start: 10.231.12.100, end: 10.231.12.200 }
  relayedSubnets:
    - { subnet: 198.18.0.0/16, pool: { start: 198.18.1.0, end: 198.18.255.254 } }
dhcp: { answer: all }
tftp: { enabled: false }
orchestrator: { enabled: false }
YAML
  ip netns exec "$NS_S" node ${NODE_PROFILE:+--cpu-prof --cpu-prof-dir=$NODE_PROFILE} bin/racklift.js --config "$WORK/racklift/racklift.yaml" serve > "$WORK/racklift.log" 2>&1 &
  SERVER_PID=$!
  wait_port67 racklift
}

start_kea() {
  mkdir -p "$WORK/kea"
  cat > "$WORK/kea/kea-dhcp4.conf" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "$IF_S" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$WORK/kea/leases4.csv", "lfc-interval": 0 },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "198.18.0.0/16", "pools": [ { "pool": "198.18.1.0 - 198.18.255.254" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "stdout" } ], "severity": "WARN" } ]
} }
JSON
  KEA_LOCKFILE_DIR="$WORK/kea" KEA_PIDFILE_DIR="$WORK/kea" ip netns exec "$NS_S" kea-dhcp4 -c "$WORK/kea/kea-dhcp4.conf" > "$WORK/kea.log" 2>&1 &
  SERVER_PID=$!
  wait_port67 kea
}

start_dnsmasq() {
  ip netns exec "$NS_S" dnsmasq --no-daemon --user=root --port=0 --interface="$IF_S" --no-resolv --no-hosts \
    --dhcp-range=198.18.1.0,198.18.255.254,255.255.0.0,1h --dhcp-authoritative --dhcp-lease-max=70000 --no-ping \
    --dhcp-leasefile="$WORK/dnsmasq.leases" --pid-file="$WORK/dnsmasq.pid" --quiet-dhcp --log-facility=- > "$WORK/dnsmasq.log" 2>&1 &
  SERVER_PID=$!
  wait_port67 dnsmasq
}

# One perfdhcp run: prints "rate sent received drops_percent achieved_rate".
measure() {
  local name=$1 rate=$2 seconds=${3:-$STEP_SECONDS} out
  out=$(ip netns exec "$NS_C" perfdhcp -4 -r "$rate" -p "$seconds" -R "$CLIENTS" -l "$RELAY" "$SERVER" 2>&1 || true)
  echo "$out" > "$WORK/perfdhcp-$name-$rate.out"
  echo "$out" | awk -v rate="$rate" '
    /sent packets:/ { gsub(",", ""); sent += $3 }
    /received packets:/ { gsub(",", ""); received += $3 }
    /drops:/ && !/ratio/ { gsub(",", ""); drops += $2 }
    /^Rate:/ { achieved = $2 }
    END { pct = sent > 0 ? 100 * drops / sent : 100; printf "%d %d %d %.2f %s\n", rate, sent, received, pct, achieved == "" ? "0" : achieved }'
}

declare -A BEST
ladder() {
  local name=$1; shift
  BEST[$name]=0
  # Warm-up (JIT, caches, first lease writes), not counted: the same for every server.
  measure "$name-warmup" 500 3 > /dev/null
  for rate in "$@"; do
    read -r r sent received pct achieved < <(measure "$name" "$rate")
    printf '  %-9s asked %6d/s  sent %7d  received %7d  drops %6.2f%%  achieved %s 4-way/s\n' "$name" "$r" "$sent" "$received" "$pct" "$achieved"
    if awk -v p="$pct" 'BEGIN { exit !(p < 1.0) }'; then BEST[$name]=$rate; else break; fi
  done
}

echo "dhcp bench: perfdhcp relay mode, $CLIENTS clients, ${STEP_SECONDS}s per step, pool 198.18.0.0/16; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
SERVERS=${SERVERS:-racklift dnsmasq kea}
for name in $SERVERS; do
  "start_$name"
  case $name in
    dnsmasq) ladder dnsmasq 250 500 1000 2000 4000 ;;
    *) ladder "$name" ${RATES:-1000 2000 3000 4000 6000 8000 10000} ;;
  esac
  stop_server
done

echo
echo "highest rate with under 1% drops (4-way exchanges/s asked of perfdhcp):"
for name in $SERVERS; do printf '  %-9s %6d/s\n' "$name" "${BEST[$name]}"; done
