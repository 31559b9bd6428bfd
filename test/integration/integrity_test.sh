# State an earlier run left is evidence, never proof (docs/CLI.md §Resume and
# integrity): against a real nginx on 127.0.0.1 and the local store, a
# resumed pull re-checks the temp file's pieces (flipped bytes, a punched
# hole, a planted temp file and journal), a resumed push re-checks its
# objects (deleted, replaced) and the file's bytes (an edit that kept size
# and mtime), the local store counts references under concurrent pushes and
# rms and never trusts a damaged object, two runs at once never harm each
# other, and a crash loop of SIGKILLs ends every time in a refusal or exact
# bytes. Asserts bytes (cmp) and what the server holds or was asked for.

# The whole script is bounded in time: re-run under timeout(1).
if [ -z "${SX_INTEGRITY_BOUNDED:-}" ]; then
  SX_INTEGRITY_BOUNDED=1 exec timeout -k 10 280 bash "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac
need /usr/bin/python3 timeout
export XDG_STATE_HOME="$WORK/xdg-state"
JOURNALS="$XDG_STATE_HOME/sxengine/push"
trap 'echo "FAIL: integrity_test ran out of time" >&2; exit 1' TERM
start_nginx
ALOG="$NGINX_DIR/access.log"

sx() { timeout --foreground -k 5 60 "$SX" "$@"; }
log_mark() { wc -l < "$ALOG"; }
requests_since() { tail -n +$(($3 + 1)) "$ALOG" | grep -c "\"$1 /$2/"; }  # METHOD PREFIX MARK

# start_bg OUT ERR CMD...: CMD in the background; PID is its pid, RCFILE gets its status.
start_bg() {
  local out=$1 err=$2; shift 2
  RCFILE="$WORK/bg.rc.$RANDOM"; rm -f "$RCFILE"
  ( exec "$@" >"$out" 2>"$err" ) &
  PID=$!; track $PID
}
# wait_bg: waits for the start_bg command; sets RC.
wait_bg() { RC=0; wait "$PID" 2>/dev/null || RC=$?; untrack "$PID"; }
# until_true LIMIT_S COND...: polls COND every 20 ms for at most LIMIT_S seconds.
until_true() {
  local limit=$(($1 * 50)) i; shift
  for ((i = 0; i < limit; i++)); do "$@" && return 0; kill -0 "$PID" 2>/dev/null || { "$@"; return; }; sleep 0.02; done
  return 1
}
lines_at_least() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }
objects() { find "$NGINX_DIR/data/$1" -type f 2>/dev/null | wc -l; }
objects_at_least() { [ "$(objects "$1")" -ge "$2" ]; }

# seal TEXT: a journal line as sxengine writes one (TEXT, a space, its CRC-32).
seal() { "$PY" -c 'import sys, zlib; t = sys.argv[1]; print("%s %08x" % (t, zlib.crc32(t.encode())))' "$1"; }

PIECES=16
LOOPS=${SX_CRASH_LOOPS:-10}  # kills per crash loop (the goal of 50: SX_CRASH_LOOPS=50)
random_file "$WORK/big.bin" $((PIECES << 20))
COMMON=(--piece-size 1M --parallel 2)   # push's
PULLING=(--parallel 2)
SLOW=(--bwlimit 4M)

KEY=$(sx push -q "${COMMON[@]}" --backend "${NGINX_URL}pull/" "$WORK/big.bin") || { fail "push for the pull tests"; finish; }
URL=${KEY%%#*}
TAG=$(printf '%s' "$URL" | sha256sum | cut -c1-16)
OUT="$WORK/out"; mkdir -p "$OUT"
TEMP="$OUT/.big.bin.sxpart-r$TAG"
PJOURNAL="$OUT/.big.bin.sxjournal-r$TAG"

mark=$(log_mark)
sx pull -q "$KEY" "$OUT/big.bin" && same_file "$WORK/big.bin" "$OUT/big.bin" "a plain pull" || fail "a plain pull"
MANIFEST_GETS=$(($(requests_since GET pull "$mark") - PIECES))
rm -f "$OUT/big.bin"

# killed_pull AT: a slow pull into $OUT/big.bin, SIGKILLed once its journal lists AT pieces.
killed_pull() {
  rm -f "$OUT"/.big.bin.* "$OUT/big.bin"
  start_bg /dev/null "$WORK/kpull.err" "$SX" pull -q "${PULLING[@]}" "${SLOW[@]}" "$KEY" "$OUT/big.bin"
  until_true 30 lines_at_least "$PJOURNAL" $((1 + $1))
  kill -KILL "$PID" 2>/dev/null; wait_bg
  [ "$RC" -eq 137 ] && [ -f "$TEMP" ] && [ ! -e "$OUT/big.bin" ]
}
journalled() { tail -n +2 "$PJOURNAL" | awk '{print $1}'; }  # piece indices the pull journal lists

# rerun_pull WHAT EXPECTED_GETS: the same pull again: exact bytes, and the piece GETs counted at nginx.
rerun_pull() {
  local what=$1 want=$2 mark rc=0 gets
  mark=$(log_mark)
  sx pull "${PULLING[@]}" "$KEY" "$OUT/big.bin" 2>"$WORK/rerun.err" || rc=$?
  gets=$(($(requests_since GET pull "$mark") - MANIFEST_GETS))
  if [ "$rc" -ne 0 ]; then fail "$what: exit $rc: $(shown "$WORK/rerun.err")"; return; fi
  same_file "$WORK/big.bin" "$OUT/big.bin" "$what: the resumed pull's bytes are exact"
  [ "$gets" -eq "$want" ] && pass "$what: $gets piece GETs (the missing and the refused ones)" ||
    fail "$what: $gets piece GETs, expected $want: $(shown "$WORK/rerun.err")"
  [ -z "$(find "$OUT" -name '.big.bin.*')" ] || fail "$what: temp file or journal left"
}

# ---- 1. A resumed pull re-checks what the temp file holds ------------------------------

if killed_pull 5; then
  k=$(journalled | wc -l); idx=$(journalled | head -1)
  head -c 64 /dev/urandom | dd of="$TEMP" bs=1 seek=$((idx * 1048576 + 4096)) conv=notrunc status=none
  rerun_pull "flipped bytes in journalled piece $idx" $((PIECES - k + 1))
  grep -q "1 piece(s) the journal lists do not match" "$WORK/rerun.err" && pass "the refused piece is named on stderr" ||
    fail "no note of the refused piece: $(shown "$WORK/rerun.err")"
else fail "pull not interrupted mid-way (flip)"; fi

if killed_pull 5; then
  k=$(journalled | wc -l); idx=$(journalled | tail -1)
  # What a lost writeback leaves: a hole (zeros) over a piece the journal lists.
  fallocate -p -o $((idx * 1048576)) -l 1048576 "$TEMP" 2>/dev/null ||
    dd if=/dev/zero of="$TEMP" bs=1M seek="$idx" count=1 conv=notrunc status=none
  rerun_pull "a hole over journalled piece $idx" $((PIECES - k + 1))
else fail "pull not interrupted mid-way (hole)"; fi

if killed_pull 3; then
  # Planted: a journal listing every piece (valid line CRCs) over random bytes.
  header=$(head -1 "$PJOURNAL")
  { printf '%s\n' "$header"
    for ((i = 0; i < PIECES; i++)); do seal "$i 0123456789abcdef0123456789abcdef"; done; } > "$PJOURNAL.new"
  mv "$PJOURNAL.new" "$PJOURNAL"
  head -c $((PIECES << 20)) /dev/urandom > "$TEMP"
  rerun_pull "a planted temp file and a journal of all $PIECES pieces" "$PIECES"
else fail "pull not interrupted mid-way (planted)"; fi

# A symbolic link planted at the temp name, or at the journal's, is never written through.
rm -f "$OUT"/.big.bin.* "$OUT/big.bin"
echo "precious" > "$WORK/victim"; cp "$WORK/victim" "$WORK/victim.orig"
ln -s "$WORK/victim" "$TEMP"
rc=0; sx pull -q "$KEY" "$OUT/big.bin" 2>"$WORK/sym.err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "symbolic link" "$WORK/sym.err" && pass "a symlink at the temp name: refused ($(shown "$WORK/sym.err"))" ||
  fail "a symlink at the temp name: exit $rc: $(shown "$WORK/sym.err")"
cmp -s "$WORK/victim" "$WORK/victim.orig" && [ -L "$TEMP" ] && pass "the symlink's target is untouched, the link left" ||
  fail "the symlink's target was changed"
rm -f "$TEMP"
ln -s "$WORK/victim" "$PJOURNAL"
sx pull -q "$KEY" "$OUT/big.bin" 2>"$WORK/sym.err" && same_file "$WORK/big.bin" "$OUT/big.bin" "a symlink at the journal name: the pull completes" ||
  fail "a symlink at the journal name: $(shown "$WORK/sym.err")"
cmp -s "$WORK/victim" "$WORK/victim.orig" && pass "the journal symlink's target is untouched" || fail "the journal symlink's target was written"
rm -f "$OUT/big.bin" "$PJOURNAL"

# ---- 2. A second pull into the same OUT leaves the first alone -------------------------

rm -f "$OUT"/.big.bin.*
start_bg /dev/null "$WORK/first.err" "$SX" pull -q "${PULLING[@]}" --bwlimit 2M "$KEY" "$OUT/big.bin"
FIRST=$PID
if until_true 20 lines_at_least "$PJOURNAL" 2; then
  rc=0; sx pull -q "$KEY" "$OUT/big.bin" 2>"$WORK/second.err" || rc=$?
  [ "$rc" -eq 2 ] && grep -q "another sxengine run is pulling" "$WORK/second.err" &&
    pass "a second pull into the same file is refused (exit 2)" || fail "second pull: exit $rc: $(shown "$WORK/second.err")"
  [ -f "$TEMP" ] && [ -f "$PJOURNAL" ] && pass "the first pull's temp file and journal are still there" ||
    fail "the second pull removed the first one's files"
else fail "the first pull did not start"; fi
PID=$FIRST; wait_bg
[ "$RC" -eq 0 ] && same_file "$WORK/big.bin" "$OUT/big.bin" "the first pull completes, exact" ||
  fail "the first pull: exit $RC: $(shown "$WORK/first.err")"
rm -f "$OUT/big.bin"

# ---- 3. A resumed push re-checks its objects and the file's bytes ----------------------

# killed_push PREFIX FILE AT: a slow push to PREFIX/, SIGKILLed once AT objects are stored.
killed_push() {
  rm -rf "$NGINX_DIR/data/$1" "$JOURNALS"
  start_bg "$WORK/kpush.out" "$WORK/kpush.err" "$SX" push -q "${COMMON[@]}" "${SLOW[@]}" --backend "${NGINX_URL}$1/" "$2"
  until_true 30 objects_at_least "$1" "$3"
  kill -KILL "$PID" 2>/dev/null; wait_bg
  [ "$RC" -eq 137 ] && [ ! -s "$WORK/kpush.out" ] && [ -n "$(find "$JOURNALS" -type f 2>/dev/null)" ]
}
pushed() { tail -n +2 "$(find "$JOURNALS" -type f | head -1)" | awk '{print $1, $4}'; }  # INDEX URL of journalled pieces
object_path() { echo "$NGINX_DIR/data/${1#"$NGINX_URL"}"; }

# rerun_push WHAT PREFIX FILE: the same push again; its key must pull FILE's bytes.
rerun_push() {
  local what=$1 prefix=$2 file=$3 rc=0 key
  key=$(sx push "${COMMON[@]}" --backend "${NGINX_URL}$prefix/" "$file" 2>"$WORK/rpush.err") || rc=$?
  if [ "$rc" -ne 0 ]; then fail "$what: exit $rc: $(shown "$WORK/rpush.err")"; return 1; fi
  rm -f "$WORK/rp.out"
  sx pull -q "$key" "$WORK/rp.out" 2>"$WORK/err" && same_file "$file" "$WORK/rp.out" "$what: the key pulls the file" ||
    fail "$what: the printed key does not pull: $(shown "$WORK/err")"
}

if killed_push gone "$WORK/big.bin" 5; then
  read -r idx url < <(pushed | head -1)
  rm -f "$(object_path "$url")"
  rerun_push "one journalled object deleted" gone "$WORK/big.bin"
  grep -q "not on .* as they were stored" "$WORK/rpush.err" && pass "the lost object is named on stderr" ||
    fail "no note of the lost object: $(shown "$WORK/rpush.err")"
else fail "push not interrupted mid-way (deleted object)"; fi

if killed_push replaced "$WORK/big.bin" 5; then
  { read -r i1 u1; read -r i2 u2; } < <(pushed | head -2)
  cp "$(object_path "$u2")" "$(object_path "$u1")"   # another valid piece under its name
  rerun_push "one journalled object replaced by another piece" replaced "$WORK/big.bin"
else fail "push not interrupted mid-way (replaced object)"; fi

cp "$WORK/big.bin" "$WORK/edited.bin"
if killed_push edited "$WORK/edited.bin" 5; then
  # An edit inside a journalled piece that keeps size and mtime (cp -p, rsync -t).
  idx=$(pushed | awk '$1 >= 1 && $1 <= '$((PIECES - 2))' {print $1; exit}')
  if [ -n "$idx" ]; then
    touch -r "$WORK/edited.bin" "$WORK/stamp"
    head -c 4096 /dev/urandom | dd of="$WORK/edited.bin" bs=1 seek=$((idx * 1048576 + 65536)) conv=notrunc status=none
    touch -r "$WORK/stamp" "$WORK/edited.bin"
    rerun_push "an edit in journalled piece $idx that kept size and mtime" edited "$WORK/edited.bin"
  else fail "no journalled middle piece to edit"; fi
else fail "push not interrupted mid-way (edit)"; fi

if killed_push handedit "$WORK/big.bin" 5; then
  # A journal line edited by hand and sealed again (its CRC valid): piece 0's
  # record now names piece 1's object. The object is fetched, opened and
  # compared with the record: it is the wrong piece, so piece 0 is stored again.
  J=$(find "$JOURNALS" -type f | head -1)
  "$PY" - "$J" <<'PYEDIT'
import sys, zlib
path = sys.argv[1]
lines = open(path).read().splitlines()
records = [l.split(" ") for l in lines[1:]]
first, second = records[0], records[1]
first[3] = second[3]
text = " ".join(first[:5])
lines[1] = "%s %08x" % (text, zlib.crc32(text.encode()))
open(path, "w").write("\n".join(lines) + "\n")
PYEDIT
  rerun_push "a journal line edited by hand (another object's URL, sealed again)" handedit "$WORK/big.bin"
else fail "push not interrupted mid-way (hand-edited journal)"; fi

if killed_push symjournal "$WORK/big.bin" 5; then
  # A symbolic link planted at the push journal's name: never written through.
  J=$(find "$JOURNALS" -type f | head -1)
  printf 'not a journal\n' > "$WORK/pvictim"; cp "$WORK/pvictim" "$WORK/pvictim.orig"
  rm -f "$J"; ln -s "$WORK/pvictim" "$J"
  rerun_push "a symlink at the push journal's name" symjournal "$WORK/big.bin"
  cmp -s "$WORK/pvictim" "$WORK/pvictim.orig" && pass "the push journal symlink's target is untouched" ||
    fail "the push journal symlink's target was written"
else fail "push not interrupted mid-way (symlinked journal)"; fi

# ---- 4. Two pushes of one file at once; a state directory that cannot be written -------

rm -rf "$JOURNALS"
start_bg "$WORK/p1.out" "$WORK/p1.err" "$SX" push -q "${COMMON[@]}" "${SLOW[@]}" --backend "${NGINX_URL}twice/" "$WORK/big.bin"
P1=$PID
if until_true 20 objects_at_least twice 2; then
  rc=0; k2=$(sx push "${COMMON[@]}" --backend "${NGINX_URL}twice/" "$WORK/big.bin" 2>"$WORK/p2.err") || rc=$?
  [ "$rc" -eq 0 ] && grep -q "cannot be resumed" "$WORK/p2.err" && pass "a second push of the same file at once goes on without a journal" ||
    fail "second push at once: exit $rc: $(shown "$WORK/p2.err")"
  sx pull -q "$k2" "$WORK/p2.bin" && same_file "$WORK/big.bin" "$WORK/p2.bin" "the second push's key pulls" || fail "second key"
else fail "the first push did not start"; fi
PID=$P1; wait_bg
[ "$RC" -eq 0 ] && sx pull -q "$(cat "$WORK/p1.out")" "$WORK/p1.bin" && same_file "$WORK/big.bin" "$WORK/p1.bin" "the first push's key pulls" ||
  fail "the first push: exit $RC: $(shown "$WORK/p1.err")"

: > "$WORK/not-a-dir"
rc=0; k3=$(XDG_STATE_HOME="$WORK/not-a-dir/state" sx push "${COMMON[@]}" --backend "${NGINX_URL}nostate/" "$WORK/big.bin" 2>"$WORK/ns.err") || rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -c "cannot be resumed" "$WORK/ns.err")" -eq 1 ] &&
  pass "an unwritable state directory: the push goes on, said once" || fail "unwritable state: exit $rc: $(shown "$WORK/ns.err")"
sx pull -q "$k3" "$WORK/ns.bin" && same_file "$WORK/big.bin" "$WORK/ns.bin" "its key pulls" || fail "key of the push without state"

# ---- 5. The local store: concurrent pushes and rms count references --------------------

STORE="$WORK/store"
random_file "$WORK/small.bin" $((3 << 20))
store_objects() { find "$STORE" -type f -name '*.png' 2>/dev/null | wc -l; }
for trial in 1 2 3; do
  rm -rf "$STORE"; pids=()
  for n in 1 2 3 4 5 6 7 8; do
    ( sx push -q --no-encrypt --piece-size 256K --backend "dir:$STORE" "$WORK/small.bin" > "$WORK/k.$n" 2>"$WORK/k.$n.err" ) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  pids=()
  for n in 1 2 3 4 5 6 7; do ( sx rm -q "$(cat "$WORK/k.$n")" 2>"$WORK/rm.$n.err" ) & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
  rm -f "$WORK/left.bin"
  if sx pull -q "$(cat "$WORK/k.8")" "$WORK/left.bin" 2>"$WORK/err" && cmp -s "$WORK/small.bin" "$WORK/left.bin"; then
    pass "trial $trial: 8 pushes at once, 7 rms at once: the last key pulls"
  else fail "trial $trial: the last key is broken: $(shown "$WORK/err") $(cat "$WORK"/k.*.err "$WORK"/rm.*.err | head -3)"; fi
  sx rm -q "$(cat "$WORK/k.8")" 2>/dev/null
  left=$(store_objects)
  [ "$left" -eq 0 ] && pass "trial $trial: after the 8th rm the store holds no object" || fail "trial $trial: $left objects leaked"
done

# A damaged object of the right size is never reused, and repair replaces it.
rm -rf "$STORE"
k1=$(sx push -q --no-encrypt --piece-size 256K --backend "dir:$STORE" "$WORK/small.bin")
victim=$(find "$STORE" -type f -name '*.png' -size +100k | head -1)
printf '\xde\xad\xbe\xef' | dd of="$victim" bs=1 seek=4000 conv=notrunc status=none
k2=$(sx push -q --no-encrypt --no-resume --piece-size 256K --backend "dir:$STORE" "$WORK/small.bin")
rm -f "$WORK/d2.bin"
sx pull -q "$k2" "$WORK/d2.bin" 2>"$WORK/err" && same_file "$WORK/small.bin" "$WORK/d2.bin" "a second push over a damaged object: its key pulls" ||
  fail "a second push reused a damaged object: $(shown "$WORK/err")"

for s in a b c; do rm -rf "$WORK/par-$s"; done
pk=$(sx push -q --piece-size 256K --backend "dir:$WORK/par-a" --backend "dir:$WORK/par-b" --backend "dir:$WORK/par-c" --parity 1 "$WORK/small.bin")
victim=$(find "$WORK/par-a" -type f -name '*.png' -size +100k | head -1)
printf '\xde\xad\xbe\xef' | dd of="$victim" bs=1 seek=4000 conv=notrunc status=none
sx verify -q "$pk" >/dev/null 2>&1 && fail "verify passed over a damaged object (nothing tested)"
rc=0; sx repair -q "$pk" >/dev/null 2>"$WORK/rep.err" || rc=$?
[ "$rc" -eq 0 ] && sx verify -q "$pk" >/dev/null 2>"$WORK/ver.err" && pass "repair replaced the damaged object: verify passes" ||
  fail "repair over a damaged object: exit $rc, then verify: $(shown "$WORK/rep.err") $(shown "$WORK/ver.err")"

# ---- 6. Crash loops: SIGKILL at random moments, every result exact or refused ----------

wrong=0; runs=0
rm -rf "$NGINX_DIR/data/loop" "$JOURNALS"; cp "$WORK/big.bin" "$WORK/loop.bin"
for ((i = 0; i < LOOPS; i++)); do
  cp "$WORK/loop.bin" "$WORK/loop.at"   # the file as this run reads it
  start_bg "$WORK/loop.key" "$WORK/loop.err" "$SX" push -q "${COMMON[@]}" --bwlimit 16M --backend "${NGINX_URL}loop/" "$WORK/loop.bin"
  sleep "0.$((RANDOM % 9 + 1))"; kill -KILL "$PID" 2>/dev/null; wait_bg; runs=$((runs + 1))
  if [ "$RC" -eq 0 ]; then
    rm -f "$WORK/loop.out"
    sx pull -q "$(cat "$WORK/loop.key")" "$WORK/loop.out" 2>/dev/null && cmp -s "$WORK/loop.at" "$WORK/loop.out" || wrong=$((wrong + 1))
  fi
  if [ $((RANDOM % 2)) -eq 0 ]; then  # an edit that keeps size and mtime
    touch -r "$WORK/loop.bin" "$WORK/stamp"
    head -c 4096 /dev/urandom | dd of="$WORK/loop.bin" bs=1 seek=$((RANDOM * 256)) conv=notrunc status=none
    touch -r "$WORK/stamp" "$WORK/loop.bin"
  fi
done
key=$(sx push -q "${COMMON[@]}" --backend "${NGINX_URL}loop/" "$WORK/loop.bin") && rm -f "$WORK/loop.out" &&
  sx pull -q "$key" "$WORK/loop.out" && cmp -s "$WORK/loop.bin" "$WORK/loop.out" || wrong=$((wrong + 1))
[ "$wrong" -eq 0 ] && pass "push crash loop: $runs kills with edits, then a full run: 0 wrong results" ||
  fail "push crash loop: $wrong wrong results"

wrong=0
rm -f "$OUT"/.big.bin.* "$OUT/big.bin"
for ((i = 0; i < LOOPS; i++)); do
  start_bg /dev/null /dev/null "$SX" pull -q "${PULLING[@]}" --bwlimit 32M "$KEY" "$OUT/big.bin"
  sleep "0.$((RANDOM % 6 + 1))"; kill -KILL "$PID" 2>/dev/null; wait_bg
  if [ -e "$OUT/big.bin" ]; then cmp -s "$WORK/big.bin" "$OUT/big.bin" || wrong=$((wrong + 1)); rm -f "$OUT/big.bin"; fi
  [ $((RANDOM % 3)) -eq 0 ] && [ -f "$TEMP" ] &&   # and now and then a damaged temp file
    head -c 512 /dev/urandom | dd of="$TEMP" bs=1 seek=$((RANDOM * 512)) conv=notrunc status=none
done
sx pull -q "$KEY" "$OUT/big.bin" && cmp -s "$WORK/big.bin" "$OUT/big.bin" || wrong=$((wrong + 1))
[ "$wrong" -eq 0 ] && pass "pull crash loop: $LOOPS kills with damage, then a full run: 0 wrong results" ||
  fail "pull crash loop: $wrong wrong results"

# ---- 7. Small promises ------------------------------------------------------------------

rc=0; "$SX" pull -q "$KEY" - >&- 2>"$WORK/closed.err" || rc=$?
[ "$rc" -eq 7 ] && pass "pull KEY - with stdout closed: exit 7" || fail "pull KEY - >&-: exit $rc: $(shown "$WORK/closed.err")"
expect_exit 2 "--bwlimit -1 is a usage error" "negative" "$SX" pull --bwlimit -1 "$KEY" "$WORK/x"

finish
