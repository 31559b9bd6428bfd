# Striping with Reed-Solomon parity over three real nginx servers (issue 15,
# docs/FORMAT.md §10): push --parity 1; pull exact with each server stopped
# in turn (the key's first manifest copy's too), fast (a dead host is set
# aside, not waited on per piece) and fetching no piece twice (counted in the
# servers' access logs); pieces corrupted on one server and deleted on
# another, in different stripes (recoverable) and in the same stripe (a clear
# error naming the stripe); two servers stopped (a clear error, nothing under
# the final name); verify's per-backend counts; repair after a server's
# pieces are wiped, then a pull with another server stopped.
source "$(dirname "$0")/lib.sh"
need /usr/sbin/nginx curl
FIXTURE="$ROOT/test/servers/nginx_fixture.sh"
trap 'exit 143' TERM INT HUP

declare -a DIRS URLS
for i in 1 2 3; do
  DIRS[$i]="$WORK/nginx$i"
  URLS[$i]=$("$FIXTURE" start "${DIRS[$i]}") || { echo "FAIL: nginx $i did not start" >&2; exit 1; }
  on_exit "\"$FIXTURE\" stop \"${DIRS[$i]}\" >/dev/null 2>&1"
done
stop_host() { "$FIXTURE" stop "${DIRS[$1]}" >/dev/null 2>&1; }
# The same server again, on its port (keys name it): as the fixture starts it.
start_host() {
  local d=${DIRS[$1]} n
  setsid /usr/sbin/nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" </dev/null >>"$d/stderr.log" 2>&1 &
  echo $! > "$d/fixture.pid"
  for ((n = 0; n < 100; n++)); do
    [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "${URLS[$1]}")" != 000 ] && return 0
    sleep 0.1
  done
  echo "FAIL: nginx $1 did not come back" >&2; exit 1
}
BACKENDS=(--backend "${URLS[1]}p/" --backend "${URLS[2]}p/" --backend "${URLS[3]}p/")
ms_now() { echo $(($(date +%s%N) / 1000000)); }
pieces_on() { find "${DIRS[$1]}/data" -name '*.png' | wc -l; }

# 13 data pieces of 512 KiB (the last short): 7 stripes of 2 data + 1 parity.
IN="$WORK/in.bin"
random_file "$IN" $((6 * 1024 * 1024 + 123))
KEY=$("$SX" push -q --piece-size 512K --parity 1 "${BACKENDS[@]}" "$IN") || { fail "push --parity 1"; finish; }
[ "$(grep -o '&m=' <<<"$KEY" | wc -l)" -eq 2 ] && pass "the key names two more manifest copies" || fail "key: $KEY"
[ "$(wc -l <<<"$KEY")" -eq 1 ] && pass "the key is one line" || fail "key spans lines"
total=$(($(pieces_on 1) + $(pieces_on 2) + $(pieces_on 3)))
[ "$total" -eq $((13 + 7 + 3)) ] && pass "13 data + 7 parity pieces + 3 manifest copies stored" ||
  fail "stored $total objects, expected 23"
for i in 1 2 3; do
  n=$(pieces_on "$i")
  { [ "$n" -ge 7 ] && [ "$n" -le 8 ]; } && pass "server $i holds $n objects (its share)" || fail "server $i holds $n objects"
done
"$SX" pull -q "$KEY" "$WORK/all-up.bin" && same_file "$IN" "$WORK/all-up.bin" "pull with every server up"

for i in 1 2 3; do
  stop_host "$i"
  for j in 1 2 3; do : > "${DIRS[$j]}/access.log"; done
  t0=$(ms_now)
  if timeout 60 "$SX" pull -q "$KEY" "$WORK/without-$i.bin"; then
    ms=$(($(ms_now) - t0))
    note=""; [ "$i" = 1 ] && note=" (the one in the key's first URL)"
    same_file "$IN" "$WORK/without-$i.bin" "pull with server $i stopped$note"
    [ "$ms" -lt 15000 ] && pass "server $i stopped: pulled in $ms ms" || fail "server $i stopped: took $ms ms"
  else
    fail "pull with server $i stopped"
  fi
  # No piece was fetched twice from the servers that were up.
  for j in 1 2 3; do
    [ "$j" = "$i" ] && continue
    dup=$(grep '"GET ' "${DIRS[$j]}/access.log" | awk '{print $7}' | sort | uniq -d | wc -l)
    [ "$dup" -eq 0 ] && pass "server $i stopped: server $j served each object once" ||
      fail "server $i stopped: server $j served $dup objects twice"
  done
  start_host "$i"
done
stop_host 2
"$SX" pull -q "$KEY" - > "$WORK/stdout.bin" && same_file "$IN" "$WORK/stdout.bin" \
  "pull to stdout with server 2 stopped: rebuilt, in order"
start_host 2

# An unencrypted, uncompressed push, so that the test reads its manifest
# itself (plain_manifest.py) and knows which piece is in which stripe.
KEY2=$("$SX" push -q --no-encrypt --compress none --piece-size 512K "${BACKENDS[@]}" "$IN") || fail "push --no-encrypt"
M2=${KEY2%%#*}
"$PY" "$ROOT/test/integration/plain_manifest.py" "${DIRS[1]}/data/p/${M2##*/}" > "$WORK/layout" ||
  fail "plain_manifest.py"
# file_of KIND INDEX: the stored file of a piece (on its slot's server).
file_of() { awk -v k="$1" -v i="$2" '$1 == k && $2 == i {print $4, $5}' "$WORK/layout" |
  { read -r slot name; echo "${DIRS[$slot]}/data/p/$name"; }; }
slot_of() { awk -v k="$1" -v i="$2" '$1 == k && $2 == i {print $4}' "$WORK/layout"; }
corrupt() { printf 'XXXXXXXX' | dd of="$1" bs=1 seek=200 conv=notrunc 2>/dev/null; }
P0=$(file_of data 0); P1=$(file_of data 1); P2=$(file_of data 2)
[ "$(slot_of data 0)" = 1 ] && [ "$(slot_of data 1)" = 2 ] && [ "$(slot_of data 2)" = 2 ] &&
  pass "layout: stripe s, position p on backend (s + p) mod 3" || fail "layout: $(head -3 "$WORK/layout")"
cp "$P0" "$WORK/p0"; cp "$P1" "$WORK/p1"; cp "$P2" "$WORK/p2"
# Piece 0 (stripe 0, server 1) corrupt, piece 2 (stripe 1, server 2) gone: one loss a stripe.
# Server 1 holds data 0, 5, 6, 11, 12 and parity 1, 4; server 2 data 1, 2, 7, 8 and parity 2, 5.
corrupt "$P0"; rm "$P2"
"$SX" pull -q "$KEY2" "$WORK/damaged.bin" && same_file "$IN" "$WORK/damaged.bin" \
  "corrupt on server 1 + deleted on server 2, different stripes: rebuilt"
"$SX" verify "$KEY2" > "$WORK/verify.out" 2>/dev/null
rc=$?
grep -q "^backend 1 (${URLS[1]%/}): 6 present, 0 missing, 1 corrupt" "$WORK/verify.out" &&
  grep -q "^backend 2 (${URLS[2]%/}): 5 present, 1 missing, 0 corrupt" "$WORK/verify.out" &&
  grep -q "every one recoverable" "$WORK/verify.out" && [ "$rc" -eq 1 ] &&
  pass "verify: per backend counts, recoverable, exit 1" || fail "verify (exit $rc): $(shown "$WORK/verify.out")"
# Piece 1 (stripe 0, server 2) gone too: stripe 0 lost two of three.
rm "$P1"
expect_line any "two losses in stripe 0: a clear error" "stripe 0 lost data pieces 0, 1" \
  "$SX" pull -q "$KEY2" "$WORK/lost.bin"
[ ! -e "$WORK/lost.bin" ] && pass "nothing under the final name" || fail "$WORK/lost.bin exists"
"$SX" verify "$KEY2" > "$WORK/verify.out" 2>/dev/null
grep -q "1 of 7 NOT recoverable (more than 1 piece lost): 0" "$WORK/verify.out" &&
  pass "verify names the unrecoverable stripe" || fail "verify: $(shown "$WORK/verify.out")"
cp "$WORK/p0" "$P0"; cp "$WORK/p1" "$P1"; cp "$WORK/p2" "$P2"

# Two servers stopped: more losses than parity.
stop_host 1; stop_host 2
t0=$(ms_now)
expect_line any "two servers stopped: a clear error" "stripe" timeout 60 "$SX" pull -q "$KEY" "$WORK/two.bin"
[ ! -e "$WORK/two.bin" ] && pass "two stopped: nothing under the final name" || fail "$WORK/two.bin exists"
ms=$(($(ms_now) - t0))
[ "$ms" -lt 15000 ] && pass "two stopped: failed in $ms ms" || fail "two stopped: took $ms ms"
start_host 1; start_host 2

if "$SX" repair --help >/dev/null 2>&1; then
  # Server 2 loses everything; repair puts its pieces back; then server 3 stops.
  find "${DIRS[2]}/data" -name '*.png' -delete
  "$SX" verify "$KEY" > "$WORK/verify.out" 2>/dev/null
  grep -q "^manifest copies: 2 of 3 readable" "$WORK/verify.out" &&
    grep -q "^backend 2 (${URLS[2]%/}): 0 present, 6 missing, 0 corrupt" "$WORK/verify.out" &&
    pass "verify: server 2's pieces and manifest copy counted missing" || fail "verify: $(grep -v "^missing" "$WORK/verify.out" | tr "\n" "|")"
  "$SX" repair -q "$KEY" > "$WORK/repair.out" 2>"$WORK/repair.err" && pass "repair" ||
    fail "repair: $(shown "$WORK/repair.err")"
  [ "$(tail -1 "$WORK/repair.out")" = "$KEY" ] && pass "repair in place keeps the key" ||
    fail "repair printed $(shown "$WORK/repair.out")"
  [ "$(pieces_on 2)" -ge 7 ] && pass "server 2 holds its share again" || fail "server 2 holds $(pieces_on 2)"
  "$SX" verify -q "$KEY" >/dev/null 2>&1 && pass "verify after repair: ok" || fail "verify after repair"
  stop_host 3
  "$SX" pull -q "$KEY" "$WORK/repaired.bin" && same_file "$IN" "$WORK/repaired.bin" "after repair, pull with server 3 stopped"
  start_host 3
fi

# Old keys and one-backend pushes are untouched: no stripe fields.
K1=$("$SX" push -q --backend "${URLS[1]}q/" "$IN") && "$SX" pull -q "$K1" "$WORK/one.bin" &&
  same_file "$IN" "$WORK/one.bin" "one backend: as before"
[[ "$K1" != *'&m='* ]] && pass "one backend: no manifest copies in the key" || fail "one-backend key: $K1"
expect_line 2 "--parity 3 over three backends is refused" "parity" \
  "$SX" push -q --parity 3 "${BACKENDS[@]}" "$IN"
expect_line 2 "the same backend twice is refused" "are the same place" \
  "$SX" push -q --backend "${URLS[1]}p/" --backend "${URLS[2]}p/" --backend "${URLS[1]}p/" "$IN"
expect_line 2 "--parity without several backends is refused" "needs at least 2 backends" \
  "$SX" push -q --parity 1 --backend "${URLS[1]}p/" "$IN"
# serve reads the manifest copies too: with the key's first copy gone, the
# gateway answers from another (a fresh striped key, every host up).
KS=$("$SX" push -q --piece-size 512K --parity 1 --backend "${URLS[1]}s/" --backend "${URLS[2]}s/" \
  --backend "${URLS[3]}s/" "$IN") || fail "push for serve"
first=${KS%%#*}
rm -f "${DIRS[1]}/data/s/${first##*/}"
setsid "$SX" serve --listen 127.0.0.1:0 >"$WORK/gw.out" 2>"$WORK/gw.err" &
gw=$!; track $gw
for ((n = 0; n < 100; n++)); do [ -s "$WORK/gw.out" ] && break; sleep 0.05; done
GW=$(head -1 "$WORK/gw.out")
qk=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$KS")
code=$(curl -s -m 20 -o "$WORK/served.bin" -w '%{http_code}' "${GW%/}/file?key=$qk")
[ "$code" = 200 ] && same_file "$IN" "$WORK/served.bin" "serve: the key's first manifest copy gone, another serves the file" ||
  fail "serve with the first manifest copy gone: HTTP $code $(shown "$WORK/served.bin")"
kill -TERM $gw 2>/dev/null; wait $gw 2>/dev/null; untrack $gw

dmg="${KEY%%&m=*}&m=%zz"
expect_line 2 "a damaged &m= part is refused" "&m= part is damaged" "$SX" pull -q "$dmg" "$WORK/dmg.bin"
finish
