#!/usr/bin/env bash
# serve_bench.sh: the gateway (`sxengine serve`) against `sxengine pull`, on one
# nginx on 127.0.0.1 started here (test/servers/nginx_fixture.sh), same key,
# rounds alternating so both see the same machine.
#
#   bench/serve_bench.sh [SXENGINE] [SIZE_MIB] [ROUNDS]   (default build/sxengine 512 5)
#
# 1. whole file: curl GET through a freshly started gateway (cold cache, so it
#    fetches the manifest and every piece, as pull does) to a file, vs pull
#    to a file; pairs in alternating order, each after a sync; medians and
#    their ratio.
# 2. time to first byte of a 1 MiB range in the middle of a 1 GiB file, the
#    manifest already cached (a HEAD first), cold pieces; piece GETs counted
#    in nginx's access log.
# 3. peak RSS of the gateway with 32 clients streaming 32 different files at
#    once, against --cache-size + 64 MiB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SX=$(readlink -f "${1:-$ROOT/build/sxengine}")
SIZE_MIB=${2:-512}
ROUNDS=${3:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sxservebench.XXXXXX")
SERVE_PID=
cleanup() {
  [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  "$ROOT/test/servers/nginx_fixture.sh" stop "$WORK/nginx" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export XDG_DATA_HOME="$WORK/xdg" XDG_STATE_HOME="$WORK/state"
NGINX_URL=$("$ROOT/test/servers/nginx_fixture.sh" start "$WORK/nginx")
ALOG="$WORK/nginx/access.log"
enc() { /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

start_serve() {  # start_serve ARGS...: sets SERVE_URL, SERVE_PID
  rm -f "$WORK/serve.out"
  setsid "$SX" serve --listen 127.0.0.1:0 "$@" >"$WORK/serve.out" 2>>"$WORK/serve.err" &
  SERVE_PID=$!
  for _ in $(seq 200); do [ -s "$WORK/serve.out" ] && break; sleep 0.02; done
  SERVE_URL=$(head -1 "$WORK/serve.out")
}
stop_serve() { kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true; SERVE_PID=; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); nginx on 127.0.0.1"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/file.bin"
KEY=$("$SX" push -q --backend "${NGINX_URL}whole/" "$WORK/file.bin")

# 1. whole file
gw_times=() pull_times=()
time_gateway() {
  start_serve
  sync; t0=$(now); curl -s --fail -o "$WORK/gw.out" "${SERVE_URL}file?key=$(enc "$KEY")"; t1=$(now)
  stop_serve
  cmp -s "$WORK/file.bin" "$WORK/gw.out" || { echo "gateway bytes differ" >&2; exit 1; }
  rm -f "$WORK/gw.out"
  gw_times+=("$(echo "$t1 - $t0" | bc -l)")
}
time_pull() {
  sync; t0=$(now); "$SX" pull -q -f "$KEY" "$WORK/pull.out"; t1=$(now)
  cmp -s "$WORK/file.bin" "$WORK/pull.out" || { echo "pull bytes differ" >&2; exit 1; }
  rm -f "$WORK/pull.out"
  pull_times+=("$(echo "$t1 - $t0" | bc -l)")
}
# Pairs in alternating order (gateway first, then pull first), each run after
# a sync so that neither pays for the other's writeback.
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then time_gateway; time_pull; else time_pull; time_gateway; fi
done
gw=$(printf '%s\n' "${gw_times[@]}" | median)
pull=$(printf '%s\n' "${pull_times[@]}" | median)
printf 'whole %d MiB   gateway GET %.3f s (%.0f MB/s)   pull %.3f s (%.0f MB/s)   gateway = %.2f x pull (medians of %d, alternating)\n' \
  "$SIZE_MIB" "$gw" "$(echo "$SIZE_MIB * 1.048576 / $gw" | bc -l)" "$pull" "$(echo "$SIZE_MIB * 1.048576 / $pull" | bc -l)" \
  "$(echo "$pull / $gw" | bc -l)" "$ROUNDS"
rm -f "$WORK/gw.out" "$WORK/pull.out" "$WORK/file.bin"

# 2. time to first byte in the middle of 1 GiB
head -c $((1 << 30)) /dev/urandom > "$WORK/gib.bin"
GKEY=$("$SX" push -q --backend "${NGINX_URL}gib/" "$WORK/gib.bin")
rm -f "$WORK/gib.bin"
ttfbs=()
for ((r = 1; r <= ROUNDS; r++)); do
  start_serve
  G="${SERVE_URL}file?key=$(enc "$GKEY")"
  curl -s --fail -I "$G" >/dev/null  # the manifest, now cached
  before=$(grep -c '"GET /gib/' "$ALOG")
  first=$(( (1 << 29) + r * 12345 ))
  ttfbs+=("$(curl -s --fail -o /dev/null -w '%{time_starttransfer}' -H "Range: bytes=$first-$((first + (1 << 20) - 1))" "$G")")
  pieces=$(( $(grep -c '"GET /gib/' "$ALOG") - before ))
  stop_serve
done
printf 'ttfb of a 1 MiB range mid 1 GiB   %.1f ms (median of %d; %d piece GET(s) at nginx, 8 MiB pieces)\n' \
  "$(printf '%s\n' "${ttfbs[@]}" | median | awk '{print $1 * 1000}')" "$ROUNDS" "$pieces"

# 3. peak RSS, 32 clients, 32 different files
keys=()
for i in $(seq 32); do
  head -c $((32 << 20)) /dev/urandom > "$WORK/f$i.bin"
  keys+=("$("$SX" push -q --backend "${NGINX_URL}many/" "$WORK/f$i.bin")")
  rm -f "$WORK/f$i.bin"
done
start_serve --max-connections 64
pids=()
for k in "${keys[@]}"; do curl -s --fail -o /dev/null --limit-rate 50M "${SERVE_URL}file?key=$(enc "$k")" & pids+=($!); done
ok=0; for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
stop_serve
printf 'peak RSS, 32 clients x 32 MiB files (%d completed)   %d MiB  (bound: --cache-size 256 MiB + 64 MiB = 320 MiB)\n' \
  "$ok" "$((hwm / 1024))"
