#!/usr/bin/env bash
# Trees (issue 24's goals), each figure with its baseline in the same run:
#   bench/tree_bench.sh small [FILES] [ROUNDS]  FILES of 4 KiB in 20 directories, push then pull
#       through nginx on loopback: sxengine push DIR / pull KEY DIR against
#       rclone copy --transfers 8 (storing straight into nginx's directory:
#       nginx-light has no PROPFIND for rclone's webdav remote, which favours
#       rclone; reading back through nginx with its http remote) and a shell loop of single-file pushes and pulls (timed on
#       200 files, scaled to FILES); objects stored per 100 files.
#   bench/tree_bench.sh large [ROUNDS]          4 files of 256 MiB against one of 1 GiB (local store on tmpfs)
#   bench/tree_bench.sh rss [ENTRIES]           peak RSS of push and pull of a tree of ENTRIES (200000) small files
#   bench/tree_bench.sh tar [ROUNDS]            push DIR against tar c DIR | sxengine push - (mixed sizes, tmpfs)
# Rounds alternate the contenders; ratios are medians of per-round ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sx=${SX:-$here/build/sxengine}
mode=${1:-small}
work=$(mktemp -d /dev/shm/sxtree.XXXXXX)
cleanup() { "$here/test/servers/nginx_fixture.sh" stop "$work/nginx" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
export XDG_DATA_HOME="$work/xdg-data" XDG_STATE_HOME="$work/xdg-state" SXENGINE_NO_CATALOGUE=1

now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null; echo "$(now) - $t0" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
small_tree() {  # small_tree DIR FILES: FILES of 4 KiB in 20 directories
  local d i
  for ((d = 0; d < 20; d++)); do
    mkdir -p "$1/d$d"
    for ((i = d; i < $2; i += 20)); do head -c 4096 /dev/urandom > "$1/d$d/f$i"; done
  done
}

case $mode in
small)
  files=${2:-2000} rounds=${3:-3}
  command -v rclone >/dev/null || { echo "tree_bench: rclone not found (apt-get install rclone)" >&2; exit 1; }
  small_tree "$work/tree" "$files"
  url=$(NGINX_AUTOINDEX=on "$here/test/servers/nginx_fixture.sh" start "$work/nginx")
  data=$work/nginx/data
  export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_STORE_TYPE=local \
         RCLONE_CONFIG_WEB_TYPE=http RCLONE_CONFIG_WEB_URL="${url}rc/"
  run_sx() {
    rm -rf "$data/sx" "$work/out.sx"
    local key; key=$("$sx" push -q --parallel 8 --backend "${url}sx/" "$work/tree")
    "$sx" pull -q --parallel 8 "$key" "$work/out.sx"
  }
  run_rclone() {
    rm -rf "$data/rc" "$work/out.rc"
    rclone copy -q --transfers 8 "$work/tree" "store:$data/rc/tree" && rclone copy -q --transfers 8 web:tree "$work/out.rc/tree"
  }
  sample=$((files < 200 ? files : 200))
  run_loop() {  # single-file pushes and pulls of `sample` files
    rm -rf "$data/loop" "$work/out.loop"; mkdir -p "$work/out.loop"
    local f key
    for f in $(find "$work/tree" -type f | head -n "$sample"); do
      key=$("$sx" push -q --backend "${url}loop/" "$f")
      "$sx" pull -q "$key" "$work/out.loop/$(basename "$f")"
    done
  }
  run_sx && run_rclone && run_loop
  diff -r "$work/tree" "$work/out.sx/tree" >/dev/null || { echo "tree_bench: sxengine's tree differs" >&2; exit 1; }
  diff -r "$work/tree" "$work/out.rc/tree" >/dev/null || { echo "tree_bench: rclone's tree differs" >&2; exit 1; }
  run_sx
  objects=$(find "$data/sx" -type f | wc -l)
  sx_t=() rc_t=() loop_t=() r_rc=() r_loop=()
  for ((r = 0; r < rounds; r++)); do
    a=$(timed run_sx); b=$(timed run_rclone); c=$(timed run_loop)
    c=$(echo "$c * $files / $sample" | bc -l)
    sx_t+=("$a") rc_t+=("$b") loop_t+=("$c")
    r_rc+=("$(echo "$b / $a" | bc -l)") r_loop+=("$(echo "$c / $a" | bc -l)")
  done
  printf '%d files of 4 KiB in 20 directories, push + pull through nginx on loopback, %d rounds (median)\n' "$files" "$rounds"
  printf 'sxengine push DIR + pull KEY DIR (--parallel 8)   %8.2f s   %d objects (%.2f per 100 files)\n' \
    "$(median "${sx_t[@]}")" "$objects" "$(echo "$objects * 100 / $files" | bc -l)"
  printf 'rclone copy --transfers 8 (local, then http)      %8.2f s   sxengine = %.1f x faster\n' \
    "$(median "${rc_t[@]}")" "$(median "${r_rc[@]}")"
  printf 'shell loop of push + pull per file (%d timed)     %8.2f s   sxengine = %.1f x faster\n' \
    "$sample" "$(median "${loop_t[@]}")" "$(median "${r_loop[@]}")"
  ;;
large)
  rounds=${2:-3}
  mkdir -p "$work/four"
  for i in 1 2 3 4; do head -c $((256 << 20)) /dev/urandom > "$work/four/part$i"; done
  cat "$work/four"/part* > "$work/one.bin"
  run_four() { rm -rf "$XDG_DATA_HOME" "$work/o4"; local k; k=$("$sx" push -q "$work/four"); "$sx" pull -q "$k" "$work/o4"; }
  run_one() { rm -rf "$XDG_DATA_HOME" "$work/o1"; local k; k=$("$sx" push -q "$work/one.bin"); "$sx" pull -q "$k" "$work/o1"; }
  run_four && run_one
  ratios=() four_t=() one_t=()
  for ((r = 0; r < rounds; r++)); do
    a=$(timed run_four); b=$(timed run_one)
    four_t+=("$a") one_t+=("$b") ratios+=("$(echo "$b / $a" | bc -l)")
  done
  printf '1 GiB push + pull, local store on tmpfs, %d rounds (median)\n' "$rounds"
  printf 'a tree of 4 files of 256 MiB   %6.2f s\n' "$(median "${four_t[@]}")"
  printf 'one file of 1 GiB              %6.2f s   tree throughput = %.2f x the file'"'"'s\n' \
    "$(median "${one_t[@]}")" "$(median "${ratios[@]}")"
  ;;
rss)
  entries=${2:-200000}
  mkdir -p "$work/big"
  /usr/bin/python3 - "$work/big" "$entries" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%03d" % (i % 500))
    if i < 500:
        os.mkdir(d)
    with open(os.path.join(d, "file-with-a-longish-name-%07d.dat" % i), "wb") as f:
        f.write(b"x" * (i % 200))
PY
  /usr/bin/time -f '%M %e' -o "$work/push.time" "$sx" push -q "$work/big" > "$work/key"
  /usr/bin/time -f '%M %e' -o "$work/pull.time" "$sx" pull -q "$(cat "$work/key")" "$work/out"
  [ "$(find "$work/out/big" -type f | wc -l)" -eq "$entries" ] || { echo "tree_bench: pull lost files" >&2; exit 1; }
  read -r push_kb push_s < "$work/push.time"; read -r pull_kb pull_s < "$work/pull.time"
  printf 'a tree of %d files in 500 directories (local store on tmpfs)\n' "$entries"
  printf 'push: peak RSS %4d MiB in %5.1f s\npull: peak RSS %4d MiB in %5.1f s\n' \
    $((push_kb / 1024)) "$push_s" $((pull_kb / 1024)) "$pull_s"
  ;;
tar)
  rounds=${2:-3}
  small_tree "$work/mixed" 2000
  for i in 1 2 3 4; do head -c $((64 << 20)) /dev/urandom > "$work/mixed/large$i"; done
  for i in $(seq 1 50); do head -c $((RANDOM * 30)) /dev/urandom > "$work/mixed/d0/mid$i"; done
  run_dir() { rm -rf "$XDG_DATA_HOME"; "$sx" push -q "$work/mixed"; }
  run_tar() { rm -rf "$XDG_DATA_HOME"; tar c -C "$work" mixed | "$sx" push -q -; }
  run_dir && run_tar
  ratios=() d_t=() t_t=()
  for ((r = 0; r < rounds; r++)); do
    a=$(timed run_dir); b=$(timed run_tar)
    d_t+=("$a") t_t+=("$b") ratios+=("$(echo "$b / $a" | bc -l)")
  done
  printf 'a mixed tree (2,000 × 4 KiB, 50 files up to 1 MB, 4 × 64 MiB), push to the local store on tmpfs, %d rounds\n' "$rounds"
  printf 'sxengine push DIR             %6.2f s\n' "$(median "${d_t[@]}")"
  printf 'tar c DIR | sxengine push -   %6.2f s   push DIR = %.2f x faster\n' "$(median "${t_t[@]}")" "$(median "${ratios[@]}")"
  ;;
*) echo "usage: $0 small|large|rss|tar [ARGS]" >&2; exit 2 ;;
esac
