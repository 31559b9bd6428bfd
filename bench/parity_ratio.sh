#!/usr/bin/env bash
# The parity goals of issue 15, measured in paired, alternating runs on
# three private nginx servers (test/servers/nginx_fixture.sh):
#   push over 3 nginx --parity 1   vs  push to 1 nginx        (goal >= 0.8 x)
#   pull with 1 of the 3 stopped   vs  pull with all 3 up     (goal >= 0.7 x)
# same file, same --parallel; prints each pair's ratio and the median.
#   bench/parity_ratio.sh build/sxengine [SIZE_MIB=256] [PAIRS=5] [PARALLEL=16]
set -euo pipefail
SX=$(realpath "$1"); MIB=${2:-256}; PAIRS=${3:-5}; PAR=${4:-16}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIXTURE="$ROOT/test/servers/nginx_fixture.sh"
WORK=$(mktemp -d /tmp/sxratio.XXXX)
declare -a DIRS URLS
cleanup() { for i in 1 2 3; do "$FIXTURE" stop "$WORK/n$i" >/dev/null 2>&1 || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
for i in 1 2 3; do DIRS[$i]="$WORK/n$i"; URLS[$i]=$("$FIXTURE" start "${DIRS[$i]}"); done
restart() {  # the same nginx on its port again
  local d=${DIRS[$1]} n
  setsid /usr/sbin/nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" </dev/null >>"$d/stderr.log" 2>&1 &
  echo $! > "$d/fixture.pid"
  for ((n = 0; n < 100; n++)); do
    [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "${URLS[$1]}")" != 000 ] && return 0; sleep 0.1
  done
  exit 1
}
head -c $((MIB << 20)) /dev/urandom > "$WORK/in.bin"
secs() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
wipe() { for i in 1 2 3; do rm -rf "${DIRS[$i]}/data/"{one,par,zero}; done; }
echo "parity ratios: $MIB MiB, --parallel $PAR, $PAIRS pairs, $(nproc) cores; $("$SX" --version | head -1)"
push_ratios=() pull_ratios=() zero_ratios=()
for ((r = 1; r <= PAIRS; r++)); do
  wipe
  one=$(secs "$SX" push -q --parallel "$PAR" --backend "${URLS[1]}one/" "$WORK/in.bin")
  three=$(secs "$SX" push -q --parallel "$PAR" --parity 1 --backend "${URLS[1]}par/" --backend "${URLS[2]}par/" \
    --backend "${URLS[3]}par/" "$WORK/in.bin")
  # Striping alone (no parity): what the three servers give before parity's extra bytes.
  zero=$(secs "$SX" push -q --parallel "$PAR" --parity 0 --backend "${URLS[1]}zero/" --backend "${URLS[2]}zero/" \
    --backend "${URLS[3]}zero/" "$WORK/in.bin")
  ratio=$(div "$one" "$three")
  push_ratios+=("$ratio")
  zero_ratios+=("$(div "$zero" "$three")")
  echo "push run $r: one nginx $one s, three --parity 1 $three s: ${ratio} x; three --parity 0 $zero s"
done
KEY=$("$SX" push -q --parallel "$PAR" --parity 1 --backend "${URLS[1]}par/" --backend "${URLS[2]}par/" \
  --backend "${URLS[3]}par/" "$WORK/in.bin")
for ((r = 1; r <= PAIRS; r++)); do
  rm -f "$WORK/out.bin"
  up=$(secs "$SX" pull -q --parallel "$PAR" "$KEY" "$WORK/out.bin")
  rm -f "$WORK/out.bin"
  "$FIXTURE" stop "${DIRS[2]}" >/dev/null
  down=$(secs "$SX" pull -q --parallel "$PAR" "$KEY" "$WORK/out.bin")
  cmp -s "$WORK/in.bin" "$WORK/out.bin" || { echo "pull with nginx 2 stopped: WRONG BYTES"; exit 1; }
  restart 2
  ratio=$(div "$up" "$down")
  pull_ratios+=("$ratio")
  echo "pull pair $r: all up $up s, nginx 2 of 3 stopped $down s: ${ratio} x"
done
echo "median push ratio (3 nginx --parity 1 / 1 nginx throughput): $(printf '%s\n' "${push_ratios[@]}" | median) x (goal 0.8)"
echo "median parity cost (3 nginx --parity 1 / --parity 0 throughput): $(printf '%s\n' "${zero_ratios[@]}" | median) x (bytes alone: 1/1.5 = 0.667)"
echo "median pull ratio (1 of 3 stopped / all up throughput):      $(printf '%s\n' "${pull_ratios[@]}" | median) x (goal 0.7)"
