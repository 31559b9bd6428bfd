#!/usr/bin/env bash
# What re-checking costs a resume (issue 21), in paired, alternating runs on
# a private nginx (test/servers/nginx_fixture.sh):
#   pull:  the rerun of a pull killed half-way (every journalled piece read
#          back and hashed)  vs  a fresh pull of a file of just the missing
#          pieces (the time to fetch only those)              goal <= 1.1 x
#   push:  the rerun of a push killed half-way (every journalled object
#          fetched and opened, every resumed piece hashed)  vs  a fresh push
#          of a file of just the missing pieces               (reported)
# The killed run's state (temp file and journal, or push journal) is saved
# once and restored before each rerun; prints each pair and the median.
#   bench/resume_cost.sh build/sxengine [SIZE_MIB=1024] [PAIRS=5] [PARALLEL=8]
set -euo pipefail
SX=$(realpath "$1"); MIB=${2:-1024}; PAIRS=${3:-5}; PAR=${4:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIXTURE="$ROOT/test/servers/nginx_fixture.sh"
WORK=$(mktemp -d /tmp/sxresume.XXXX)
export XDG_STATE_HOME="$WORK/state" XDG_DATA_HOME="$WORK/data"
cleanup() { "$FIXTURE" stop "$WORK/nginx" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
URL=$("$FIXTURE" start "$WORK/nginx")
PIECES=$((MIB / 8))  # 8 MiB pieces (the default)
head -c $((MIB << 20)) /dev/urandom > "$WORK/in.bin"
secs() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# kill_when FILE LINES CMD...: runs CMD, SIGKILLs it once FILE has LINES lines (FILE a glob).
kill_when() {
  local file=$1 lines=$2 pid i f; shift 2
  "$@" >/dev/null 2>&1 & pid=$!
  for ((i = 0; i < 6000; i++)); do
    for f in $file; do [ -f "$f" ] && [ "$(wc -l < "$f")" -ge "$lines" ] && break 2; done
    sleep 0.01
  done
  kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
}
echo "resume cost: $MIB MiB ($PIECES pieces), --parallel $PAR, $PAIRS pairs, $(nproc) cores; $("$SX" --version | head -1)"

# ---- pull ----
KEY=$("$SX" push -q --parallel "$PAR" --backend "${URL}pull/" "$WORK/in.bin")
mkdir -p "$WORK/out" "$WORK/saved"
kill_when "$WORK/out/.in.bin.sxjournal-r*" $((PIECES / 2 + 1)) "$SX" pull -q --parallel "$PAR" --bwlimit 200M "$KEY" "$WORK/out/in.bin"
cp -a "$WORK/out/". "$WORK/saved/"
done_pieces=$(($(cat "$WORK"/saved/.in.bin.sxjournal-r* | wc -l) - 1))
missing=$((PIECES - done_pieces))
head -c $((missing << 23)) "$WORK/in.bin" > "$WORK/rest.bin"
REST=$("$SX" push -q --parallel "$PAR" --backend "${URL}rest/" "$WORK/rest.bin")
echo "pull: killed with $done_pieces of $PIECES pieces journalled; the baseline fetches the $missing missing ones"
ratios=()
for ((r = 1; r <= PAIRS; r++)); do
  rm -rf "$WORK/out" "$WORK/fresh"; mkdir -p "$WORK/fresh"; cp -a "$WORK/saved" "$WORK/out"; sync
  if ((r % 2)); then
    resumed=$(secs "$SX" pull -q --parallel "$PAR" "$KEY" "$WORK/out/in.bin")
    fresh=$(secs "$SX" pull -q --parallel "$PAR" "$REST" "$WORK/fresh/rest.bin")
  else
    fresh=$(secs "$SX" pull -q --parallel "$PAR" "$REST" "$WORK/fresh/rest.bin")
    resumed=$(secs "$SX" pull -q --parallel "$PAR" "$KEY" "$WORK/out/in.bin")
  fi
  cmp -s "$WORK/in.bin" "$WORK/out/in.bin" || { echo "resumed pull gave wrong bytes" >&2; exit 1; }
  ratio=$(div "$resumed" "$fresh"); ratios+=("$ratio")
  echo "  pair $r: resumed rerun $resumed s, missing pieces alone $fresh s: $ratio x"
done
echo "pull: resumed rerun / fetching only the missing pieces = $(printf '%s\n' "${ratios[@]}" | median) x (median; goal <= 1.1)"

# ---- push ----
rm -rf "$WORK/out" "$WORK/saved" "$WORK/fresh"
kill_when "$XDG_STATE_HOME/sxengine/push/*.journal" $((PIECES / 2 + 1)) \
  "$SX" push -q --parallel "$PAR" --bwlimit 100M --backend "${URL}push/" "$WORK/in.bin"
cp -a "$XDG_STATE_HOME/sxengine/push" "$WORK/saved-push"
done_pieces=$(($(cat "$WORK"/saved-push/*.journal | wc -l) - 1))
missing=$((PIECES - done_pieces))
echo "push: killed with $done_pieces of $PIECES pieces journalled; the baseline pushes the $missing missing ones"
ratios=()
for ((r = 1; r <= PAIRS; r++)); do
  rm -rf "$XDG_STATE_HOME/sxengine/push" "$WORK/nginx/data/fresh"; cp -a "$WORK/saved-push" "$XDG_STATE_HOME/sxengine/push"
  # Objects the rerun stores are removed again: each round finds what the kill left.
  if ((r % 2)); then
    resumed=$(secs "$SX" push -q --parallel "$PAR" --backend "${URL}push/" "$WORK/in.bin")
    fresh=$(secs "$SX" push -q --parallel "$PAR" --no-resume --backend "${URL}fresh/" "$WORK/rest.bin")
  else
    fresh=$(secs "$SX" push -q --parallel "$PAR" --no-resume --backend "${URL}fresh/" "$WORK/rest.bin")
    resumed=$(secs "$SX" push -q --parallel "$PAR" --backend "${URL}push/" "$WORK/in.bin")
  fi
  ratio=$(div "$resumed" "$fresh"); ratios+=("$ratio")
  echo "  pair $r: resumed rerun $resumed s, missing pieces alone $fresh s: $ratio x"
done
echo "push: resumed rerun / pushing only the missing pieces = $(printf '%s\n' "${ratios[@]}" | median) x (median)"
