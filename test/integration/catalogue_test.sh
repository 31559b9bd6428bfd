#!/usr/bin/env bash
# The keys catalogue (docs/CLI.md §Keys): every push that printed a key is
# listed by `sxengine keys` with its name, size and files; opt-outs work;
# the file is 0600 in a 0700 directory; pushes at once each add a whole line;
# a damaged line is skipped and counted; a symlink planted at its name is
# never followed (the push still succeeds).
source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac
need timeout stat
sx() { timeout --foreground -k 5 60 "$SX" "$@"; }
CAT="$XDG_STATE_HOME/sxengine/catalogue.jsonl"

random_file "$WORK/report.pdf" 300000
mkdir -p "$WORK/album/sub" && echo a > "$WORK/album/a" && echo b > "$WORK/album/sub/b"
k1=$(sx push -q "$WORK/report.pdf") && k2=$(sx push -q "$WORK/album") || fail "pushes"
sx keys > "$WORK/keys.txt"
[ "$(wc -l < "$WORK/keys.txt")" -eq 2 ] && grep -q "report.pdf  $k1\$" "$WORK/keys.txt" &&
  grep -q "  2 files  album  $k2\$" "$WORK/keys.txt" && pass "keys lists both pushes with name, files and key" ||
  fail "keys: $(cat "$WORK/keys.txt")"
sx keys --json album > "$WORK/keys.json"
[ "$(wc -l < "$WORK/keys.json")" -eq 1 ] && grep -q "\"name\":\"album\",\"size\":4,\"files\":2,\"key\":\"$k2\"" "$WORK/keys.json" &&
  pass "keys --json TEXT keeps the matching entry" || fail "keys --json album: $(cat "$WORK/keys.json")"
k=$(sx push -q "$WORK/report.pdf" --name one) && sx pull -q "$(sx keys --json one | sed 's/.*"key":"\([^"]*\)".*/\1/')" "$WORK/back.pdf" &&
  cmp -s "$WORK/report.pdf" "$WORK/back.pdf" && pass "a key from the catalogue pulls" || fail "catalogue key does not pull"
[ "$(stat -c %a "$CAT")" = 600 ] && [ "$(stat -c %a "$(dirname "$CAT")")" = 700 ] && pass "catalogue 0600 in a 0700 directory" ||
  fail "modes: $(stat -c %a "$CAT") $(stat -c %a "$(dirname "$CAT")")"

n=$(wc -l < "$CAT")
sx push -q --no-catalogue "$WORK/report.pdf" >/dev/null && SXENGINE_NO_CATALOGUE=1 sx push -q "$WORK/report.pdf" >/dev/null &&
  [ "$(wc -l < "$CAT")" -eq "$n" ] && pass "--no-catalogue and SXENGINE_NO_CATALOGUE=1 record nothing" || fail "opt-out recorded"

pids=()
for i in $(seq 1 8); do sx push -q --name "slot-$i" "$WORK/report.pdf" > "$WORK/p$i.key" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent push failed"; done
[ "$(sx keys slot- | wc -l)" -eq 8 ] && [ "$(wc -l < "$CAT")" -eq $((n + 8)) ] && pass "8 pushes at once: 8 whole lines" ||
  fail "concurrent: $(sx keys slot- | wc -l) entries"

printf 'garbage\n{"time":1}\n' >> "$CAT"
sx keys > "$WORK/keys2.txt" 2> "$WORK/keys2.err"
[ "$(wc -l < "$WORK/keys2.txt")" -eq $((n + 8)) ] && grep -q "2 line(s) .* skipped" "$WORK/keys2.err" &&
  pass "damaged lines are skipped and counted" || fail "damaged: $(cat "$WORK/keys2.err")"

# A symlink planted at the catalogue's name: not followed, the push still prints its key.
mv "$CAT" "$WORK/old.jsonl"; echo precious > "$WORK/victim"; ln -s "$WORK/victim" "$CAT"
k=$(sx push "$WORK/report.pdf" 2> "$WORK/link.err") && [ -n "$k" ] && grep -q "not recorded in the keys catalogue" "$WORK/link.err" &&
  [ "$(cat "$WORK/victim")" = precious ] && pass "a planted symlink is not followed; the push succeeds" ||
  fail "planted link: $(cat "$WORK/victim") $(tail -1 "$WORK/link.err")"
finish
