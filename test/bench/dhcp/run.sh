#!/usr/bin/env bash
# DHCP throughput: perfdhcp (relay mode, 50,000 simulated clients behind relay 198.18.0.1) in one namespace
# against racklift, dnsmasq and kea-dhcp4 (memfile, persisted), each in its own namespace on its own veth and
# each with the same /16 pool 198.18.0.0/16. All three run at once and the rate ladder is interleaved (every
# server at rate R before any at the next rate), so a change in the machine's load hits them alike.
# Prints the highest asked rate each sustains with under 1% drops.
# Needs root. Not part of `npm test`.
# Usage: bash test/bench/dhcp/run.sh [seconds-per-step]   (env: SERVERS="racklift kea", RATES="...", KEEP_WORK=1,
#        NODE_PROFILE=DIR writes a V8 CPU profile of racklift to DIR (NODE_FLAGS: more node options); SERVERS="racklift baseline kea" with
#        BASELINE=/path/to/another/checkout runs that checkout's racklift too, for an A/B comparison)
set -euo pipefail
cd "$(dirname "$0")/../../.."
STEP_SECONDS=${1:-10}
CLIENTS=50000
TAG=$$
NS_C=rl-dhcpb-c-$TAG
RELAY=198.18.0.1
# 500/s steps up to 8,000/s, then wider ones.
RATES=${RATES:-500 1000 1500 2000 2500 3000 3500 4000 4500 5000 5500 6000 6500 7000 7500 8000 9000 10000 12000}
SERVERS=${SERVERS:-racklift dnsmasq kea}
WORK=$(mktemp -d /tmp/rl-dhcp-bench-XXXXXX)
declare -A PID ADDR NS

[ "$(id -u)" -eq 0 ] || { echo "dhcp bench: needs root (network namespaces)" >&2; exit 1; }
for tool in perfdhcp kea-dhcp4 dnsmasq ss; do command -v "$tool" >/dev/null || { echo "dhcp bench: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }; done

cleanup() {
  for name in "${!PID[@]}"; do kill "${PID[$name]}" 2>/dev/null || true; done
  for name in "${!PID[@]}"; do wait "${PID[$name]}" 2>/dev/null || true; done
  for ns in "${NS[@]}" "$NS_C"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

# Client namespace: a bridge holding the relay address and one link per server namespace. (perfdhcp binds
# its socket to the interface that owns the relay address, so every server must be reached through it.)
ip netns add "$NS_C"
ip -n "$NS_C" link set lo up
ip -n "$NS_C" link add rldb-br type bridge stp_state 0 forward_delay 0
ip -n "$NS_C" addr add 10.231.12.254/24 dev rldb-br
ip -n "$NS_C" addr add "$RELAY/16" dev rldb-br
ip -n "$NS_C" link set rldb-br up
index=0
for name in $SERVERS; do
  ns=rl-dhcpb-$name-$TAG
  NS[$name]=$ns
  ADDR[$name]=10.231.12.$((index + 1))
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add rldb-s type veth peer name "rldb-c$index" netns "$NS_C"
  ip -n "$ns" addr add "${ADDR[$name]}/24" dev rldb-s
  ip -n "$ns" link set rldb-s up
  ip -n "$ns" route add 198.18.0.0/16 via 10.231.12.254
  ip -n "$NS_C" link set "rldb-c$index" master rldb-br up
  index=$((index + 1))
done

wait_port67() {
  local name=$1
  for _ in $(seq 1 150); do
    ip netns exec "${NS[$name]}" ss -lun | grep -q ':67 ' && return 0
    sleep 0.2
  done
  echo "dhcp bench: $name did not start; its log:" >&2
  tail -20 "$WORK/$name.log" >&2
  exit 1
}

# racklift from this checkout, or (as "baseline") from the checkout in BASELINE, for an A/B comparison.
start_racklift() { start_racklift_from racklift "$PWD"; }
start_baseline() { start_racklift_from baseline "${BASELINE:?BASELINE=checkout directory to compare with}"; }
start_racklift_from() {
  local name=$1 checkout=$2
  mkdir -p "$WORK/$name"
  cat > "$WORK/$name/racklift.yaml" <<YAML
dataDir: $WORK/$name/data
log: { level: ${RACKLIFT_LOG_LEVEL:-warn} }
http: { host: 127.0.0.1, port: 8080 }
provisioning:
  interface: rldb-s
  address: ${ADDR[$name]}
  subnet: 10.231.12.0/24
  pool: { start: 10.231.12.100, end: 10.231.12.200 }
  relayedSubnets:
    - { subnet: 198.18.0.0/16, pool: { start: 198.18.1.0, end: 198.18.255.254 } }
# The bench measures throughput with 50,000 made-up clients: the cap on new offers (a flood defence) is lifted.
dhcp: { answer: all, newOffersPerSecond: 100000, newOfferBurst: 1000000 }
tftp: { enabled: false }
orchestrator: { enabled: false }
YAML
  (cd "$checkout" && exec ip netns exec "${NS[$name]}" node ${NODE_FLAGS:-} ${NODE_PROFILE:+--cpu-prof --cpu-prof-dir=$NODE_PROFILE} bin/racklift.js --config "$WORK/$name/racklift.yaml" serve) > "$WORK/$name.log" 2>&1 &
  PID[$name]=$!
}

start_kea() {
  mkdir -p "$WORK/kea"
  cat > "$WORK/kea/kea-dhcp4.conf" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "rldb-s" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$WORK/kea/leases4.csv", "lfc-interval": 0 },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "198.18.0.0/16", "pools": [ { "pool": "198.18.1.0 - 198.18.255.254" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "stdout" } ], "severity": "WARN" } ]
} }
JSON
  KEA_LOCKFILE_DIR="$WORK/kea" KEA_PIDFILE_DIR="$WORK/kea" ip netns exec "${NS[kea]}" kea-dhcp4 -c "$WORK/kea/kea-dhcp4.conf" > "$WORK/kea.log" 2>&1 &
  PID[kea]=$!
}

start_dnsmasq() {
  # Lease file written on every change (persisted, like the others); no ping before an offer (Kea and
  # racklift do not ping either); lease-max raised from its default of 1,000 to fit 50,000 clients.
  ip netns exec "${NS[dnsmasq]}" dnsmasq --no-daemon --user=root --port=0 --interface=rldb-s --no-resolv --no-hosts \
    --dhcp-range=198.18.1.0,198.18.255.254,255.255.0.0,1h --dhcp-authoritative --dhcp-lease-max=70000 --no-ping \
    --dhcp-leasefile="$WORK/dnsmasq.leases" --pid-file="$WORK/dnsmasq.pid" --quiet-dhcp --log-facility=- > "$WORK/dnsmasq.log" 2>&1 &
  PID[dnsmasq]=$!
}

# One perfdhcp run against one server: prints "sent received drops_percent achieved_rate".
measure() {
  local name=$1 rate=$2 seconds=${3:-$STEP_SECONDS} out
  sleep 2 # let the previous step's backlog drain
  out=$(ip netns exec "$NS_C" perfdhcp -4 -r "$rate" -p "$seconds" -R "$CLIENTS" -l "$RELAY" "${ADDR[$name]}" 2>&1 || true)
  echo "$out" > "$WORK/perfdhcp-$name-$rate.out"
  echo "$out" | awk '
    /sent packets:/ { gsub(",", ""); sent += $3 }
    /received packets:/ { gsub(",", ""); received += $3 }
    /drops:/ && !/ratio/ { gsub(",", ""); drops += $2 }
    /^Rate:/ { achieved = $2 }
    END { pct = sent > 0 ? 100 * drops / sent : 100; printf "%d %d %.2f %s\n", sent, received, pct, achieved == "" ? "0" : achieved }'
}

for name in $SERVERS; do "start_$name"; done
for name in $SERVERS; do wait_port67 "$name"; done

echo "dhcp bench: perfdhcp relay mode, $CLIENTS clients, ${STEP_SECONDS}s per step, pool 198.18.0.0/16; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
declare -A BEST RUNNING LAST_LOAD
for name in $SERVERS; do
  BEST[$name]=0
  RUNNING[$name]=1
  measure "$name" 500 3 > /dev/null # warm-up (JIT, caches, first lease writes), not counted; the same for all
done
# CPU time (user + system, all threads) the server used: load on the machine slows every server, but the CPU
# each exchange costs stays comparable, and 1 / that cost is the ceiling on one free core.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${PID[$1]}/stat"; }
TICKS=$(getconf CLK_TCK)
for rate in $RATES; do
  for name in $SERVERS; do
    [ "${RUNNING[$name]}" = 1 ] || continue
    before=$(cpu_ticks "$name")
    read -r sent received pct achieved < <(measure "$name" "$rate")
    after=$(cpu_ticks "$name")
    cpu_us=$(awk -v t=$((after - before)) -v hz="$TICKS" -v n="$achieved" -v s="$STEP_SECONDS" 'BEGIN { printf "%.0f", (n > 0) ? 1e6 * t / hz / (n * s) : 0 }')
    LAST_LOAD[$name]=$(cut -d' ' -f1 /proc/loadavg)
    printf '  %-9s asked %6d/s  sent %7d  received %7d  drops %6.2f%%  achieved %8.1f 4-way/s  cpu %4d us/exchange  (load %s)\n' "$name" "$rate" "$sent" "$received" "$pct" "$achieved" "$cpu_us" "${LAST_LOAD[$name]}"
    if awk -v p="$pct" 'BEGIN { exit !(p < 1.0) }'; then BEST[$name]=$rate; else RUNNING[$name]=0; fi
  done
done

echo
echo "summary: highest asked rate with under 1% drops (4-way exchanges/s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for name in $SERVERS; do
  ratio=-
  if [ -n "${BEST[kea]:-}" ] && [ "${BEST[kea]}" -gt 0 ] && [ "$name" != kea ]; then ratio="$(awk -v a="${BEST[$name]}" -v b="${BEST[kea]}" 'BEGIN { printf "%.2fx Kea", a / b }')"; fi
  printf '  %-9s %6d/s  %s  (load at its last step %s)\n' "$name" "${BEST[$name]}" "$ratio" "${LAST_LOAD[$name]:-?}"
done
