#!/usr/bin/env bash
# Pull speed against the tools a user would pick instead, on the same nginx:
#   sxengine pull KEY (default settings: encrypted, --parallel 8)
#   rclone crypt over nginx, read by rclone's http remote with 8 streams (its
#   chunker cannot sit on a read-only remote, and nginx-light has no PROPFIND
#   for rclone's webdav remote, so the object is one encrypted file)
#   aria2c -x 8 -s 8 of the plain file
# Rounds alternate the three; each round's ratio is sxengine's speed over the
# peer's, and the median of those is printed (the machine is shared and noisy).
#
#   bench/peers.sh [SIZE_MIB] [ROUNDS]      (defaults 256, 5; needs rclone, aria2c)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sx=${SX:-$here/build/sxengine}
size_mib=${1:-256}
rounds=${2:-5}
for tool in rclone aria2c "$sx"; do
  command -v "$tool" >/dev/null || { echo "peers: $tool not found (apt-get install rclone aria2)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sxpeers.XXXXXX)
cleanup() { "$here/test/servers/nginx_fixture.sh" stop "$work/nginx" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
url=$(NGINX_AUTOINDEX=on "$here/test/servers/nginx_fixture.sh" start "$work/nginx")
data=$work/nginx/data
head -c $((size_mib << 20)) /dev/urandom > "$work/file.bin"

# rclone's remotes, from the environment (no config file): crypt -> the local
# dir that nginx serves (to store) or -> http (to read back through nginx).
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_STORE_TYPE=local
export RCLONE_CONFIG_WEB_TYPE=http RCLONE_CONFIG_WEB_URL="${url}rc/"
pass=$(rclone obscure sxengine-bench)
for side in STORE WEB; do
  base=$([ $side = STORE ] && echo "store:$data/rc" || echo "web:")
  export RCLONE_CONFIG_${side}CRYPT_TYPE=crypt RCLONE_CONFIG_${side}CRYPT_REMOTE="$base" \
         RCLONE_CONFIG_${side}CRYPT_PASSWORD="$pass"
done
rclone copyto -q "$work/file.bin" storecrypt:file.bin
cp "$work/file.bin" "$data/plain.bin"
key=$("$sx" push -q --parallel 8 --backend "${url}sx/" "$work/file.bin")

now() { date +%s.%N; }
run_sx() { rm -f "$work/out.sx"; "$sx" pull -q --parallel 8 "$key" "$work/out.sx"; }
run_rclone() {
  rm -rf "$work/out.rc"
  rclone copyto -q --multi-thread-streams 8 --multi-thread-cutoff 8M webcrypt:file.bin "$work/out.rc"
}
run_aria2c() {
  rm -f "$work/out.ar"
  aria2c -q -x 8 -s 8 -k 1M --file-allocation=none --allow-overwrite=true -d "$work" -o out.ar "${url}plain.bin"
}
timed() { local t0; t0=$(now); "$@"; echo "$(now) - $t0" | bc -l; }

# One warm-up each, checked for exact bytes.
run_sx && run_rclone && run_aria2c
for out in out.sx out.rc out.ar; do
  cmp -s "$work/file.bin" "$work/$out" || { echo "peers: $out differs from the file" >&2; exit 1; }
done

ratios_rc=() ratios_ar=() sx_t=() rc_t=() ar_t=()
for ((r = 0; r < rounds; r++)); do
  a=$(timed run_sx); b=$(timed run_rclone); c=$(timed run_aria2c)
  sx_t+=("$a") rc_t+=("$b") ar_t+=("$c")
  ratios_rc+=("$(echo "$b / $a" | bc -l)") ratios_ar+=("$(echo "$c / $a" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
mb=$(echo "$size_mib * 1048576 / 1000000" | bc -l)
printf 'pull of %d MiB from nginx on loopback, %d alternating rounds (median)\n' "$size_mib" "$rounds"
printf 'sxengine pull (encrypted, --parallel 8)            %6.0f MB/s\n' "$(echo "$mb / $(median "${sx_t[@]}")" | bc -l)"
printf 'rclone crypt, http remote, 8 streams               %6.0f MB/s   sxengine = %.2f x\n' \
  "$(echo "$mb / $(median "${rc_t[@]}")" | bc -l)" "$(median "${ratios_rc[@]}")"
printf 'aria2c -x 8 -s 8 of the plain file                  %6.0f MB/s   sxengine = %.2f x\n' \
  "$(echo "$mb / $(median "${ar_t[@]}")" | bc -l)" "$(median "${ratios_ar[@]}")"
