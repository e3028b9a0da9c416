#!/usr/bin/env bash
# TFTP throughput: our server, tftpd-hpa and dnsmasq's TFTP, all in one private network namespace (loopback
# only, so nothing collides with ports on the host and dnsmasq can have port 69), measured in one run with
# the same atftp client. Not part of `npm test`. Needs root.
#   bash test/bench/tftp/run.sh            # full run (about 3-5 minutes on 2 cores)
#   RUNS=1 CONCURRENT=20 bash test/bench/tftp/run.sh   # quicker
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
RUNS=${RUNS:-2}                 # each single-transfer figure is the best of RUNS
CONCURRENT=${CONCURRENT:-100}   # parallel 30 MiB transfers
REFERENCE_CONCURRENCY_BUDGET=${REFERENCE_CONCURRENCY_BUDGET:-200}  # seconds; skip reference concurrency after this
NS="rl-tftpb-$$"
WORK=$(mktemp -d /tmp/rl-tftpb.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for tool in ip atftp in.tftpd dnsmasq node; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespace)" >&2; exit 1; }

START=$(date +%s)
ip netns add "$NS"
ip -n "$NS" link set lo up
# tftpd-hpa resolves its bind address with AI_ADDRCONFIG, which ignores loopback: give the namespace one
# non-loopback address (a veth pair with both ends inside; this kernel has no dummy interfaces).
ip -n "$NS" link add rl-tftpb0 type veth peer name rl-tftpb1
ip -n "$NS" addr add 10.231.69.254/32 dev rl-tftpb0
ip -n "$NS" link set rl-tftpb0 up
ip -n "$NS" link set rl-tftpb1 up
inns() { ip netns exec "$NS" "$@"; }

chmod 755 "$WORK"
mkdir -p "$WORK/root" "$WORK/out"
chmod 755 "$WORK/root"
dd if=/dev/urandom of="$WORK/root/f64.bin" bs=1M count=64 status=none
dd if=/dev/urandom of="$WORK/root/f30.bin" bs=1M count=30 status=none
chmod 644 "$WORK/root/"*.bin

# Ours (default settings except the blksize cap, which defaults to 1468 for Ethernet MTUs).
ip netns exec "$NS" node --import tsx "$REPO/test/tftp/serve.ts" "$WORK/root" 127.0.0.1 1069 maxBlksize=65464 >"$WORK/ours.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS" in.tftpd -L -s "$WORK/root" -a 127.0.0.1:1070 &
PIDS+=($!)
# dnsmasq has no option for its TFTP listening port (always 69); the namespace gives it one of its own.
ip netns exec "$NS" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --enable-tftp --tftp-root="$WORK/root" \
  --listen-address=127.0.0.1 --bind-interfaces --tftp-max=500 --quiet-tftp --pid-file="$WORK/dnsmasq.pid" \
  >"$WORK/dnsmasq.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 150); do grep -q '"port"' "$WORK/ours.log" 2>/dev/null && break; sleep 0.2; done
grep -q '"port"' "$WORK/ours.log" || { cat "$WORK/ours.log"; exit 1; }
sleep 0.5

declare -A PORT=([ours]=1069 [tftpd-hpa]=1070 [dnsmasq]=69)
SERVERS=(ours tftpd-hpa dnsmasq)
CONFIGS=("512" "1468" "1468 16" "8192 16")

# seconds for one transfer, or "fail"
one_transfer() {
  local server=$1 blksize=$2 window=${3:-} out="$WORK/out/single"
  local args=(--option "tsize 0")
  [ "$blksize" != 512 ] && args+=(--option "blksize $blksize")
  [ -n "$window" ] && args+=(--option "windowsize $window")
  rm -f "$out"
  local t0 t1
  t0=$(date +%s%N)
  if ! inns timeout 60 atftp "${args[@]}" -g -r f64.bin -l "$out" 127.0.0.1 "${PORT[$server]}" >/dev/null 2>&1; then echo fail; return; fi
  t1=$(date +%s%N)
  cmp -s "$out" "$WORK/root/f64.bin" || { echo fail; return; }
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}

best() { printf '%s\n' "$@" | sort -g | head -1; }

declare -A RESULT
for config in "${CONFIGS[@]}"; do
  for server in "${SERVERS[@]}"; do
    samples=()
    for _ in $(seq "$RUNS"); do samples+=("$(one_transfer "$server" $config)"); done
    if printf '%s\n' "${samples[@]}" | grep -q fail; then RESULT["$server|$config"]=fail
    else RESULT["$server|$config"]=$(best "${samples[@]}"); fi
  done
done

# N parallel transfers of 30 MiB; prints "wall_seconds completed"
concurrent() {
  local server=$1 n=$2 pids=() ok=0 t0 t1
  t0=$(date +%s%N)
  for i in $(seq "$n"); do
    inns timeout 170 atftp --option "blksize 1468" --option "windowsize 16" -g -r f30.bin -l /dev/null 127.0.0.1 "${PORT[$server]}" >/dev/null 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" && ok=$((ok + 1)); done
  t1=$(date +%s%N)
  echo "$(echo "scale=2; ($t1 - $t0) / 1000000000" | bc) $ok"
}

declare -A CONC
CONC[ours]=$(concurrent ours "$CONCURRENT")
for server in tftpd-hpa dnsmasq; do
  if [ $(( $(date +%s) - START )) -lt "$REFERENCE_CONCURRENCY_BUDGET" ]; then CONC[$server]=$(concurrent "$server" "$CONCURRENT")
  else CONC[$server]="skipped (time budget)"; fi
done

mib_s() { [ "$1" = fail ] && echo "-" || echo "scale=1; 64 / $1" | bc; }

echo
echo "TFTP, 64 MiB, atftp client, loopback in a private namespace, best of $RUNS (seconds, MiB/s)"
printf '%-16s' "blksize/window"; for s in "${SERVERS[@]}"; do printf '%-22s' "$s"; done; printf '%s\n' "ours vs tftpd-hpa"
for config in "${CONFIGS[@]}"; do
  label=$(echo "$config" | sed 's/ /, ws /')
  printf '%-16s' "$label"
  for s in "${SERVERS[@]}"; do
    v=${RESULT["$s|$config"]}
    printf '%-22s' "$v s ($(mib_s "$v"))"
  done
  o=${RESULT["ours|$config"]}; r=${RESULT["tftpd-hpa|$config"]}
  if [ "$o" != fail ] && [ "$r" != fail ]; then printf '%sx\n' "$(echo "scale=2; $r / $o" | bc)"; else echo "-"; fi
done
echo
echo "$CONCURRENT concurrent 30 MiB transfers (atftp blksize 1468, windowsize 16): wall seconds, completed, aggregate MiB/s"
for s in "${SERVERS[@]}"; do
  read -r wall ok <<<"${CONC[$s]}" || true
  if [[ "${CONC[$s]}" == skipped* ]]; then printf '%-12s %s\n' "$s" "${CONC[$s]}"; continue; fi
  printf '%-12s %8s s  %3s/%s  %s MiB/s\n' "$s" "$wall" "$ok" "$CONCURRENT" "$(echo "scale=1; $ok * 30 / $wall" | bc)"
done
kill -USR1 "${PIDS[0]}" 2>/dev/null || true
sleep 0.3
echo
echo "our counters: $(tail -1 "$WORK/ours.log")"
echo "total benchmark time: $(( $(date +%s) - START )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
