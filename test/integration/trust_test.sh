# Trust: what a user relies on without reading the code. Names that are not
# UTF-8 come back byte for byte; a key that cannot be printed is not lost;
# files that lie about their size (/proc) or change while pushed; signals;
# contradictory options; a pull never destroys what it did not create; a
# failed push says what it left behind; errors in plain words; --json errors.
# Exit statuses: 0 ok, 1 other, 2 usage, 3 not found, 4 corrupt/wrong key/
# refused data, 5 denied, 6 network after retries, 7 local I/O, 130 SIGINT,
# 143 SIGTERM. Every error is one line "sxengine: error: ..." (or
# "sxengine: interrupted: ...") on stderr. No network beyond 127.0.0.1.

# The whole script is bounded in time: re-run under timeout(1), which signals
# its whole process group (this shell, sxengine, every background child).
if [ -z "${SX_TRUST_BOUNDED:-}" ]; then
  SX_TRUST_BOUNDED=1 exec timeout -k 10 160 bash "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac  # some cases cd elsewhere
need /usr/bin/python3 timeout truncate mkfifo
export XDG_STATE_HOME="$WORK/xdg-state" XDG_CACHE_HOME="$WORK/xdg-cache"
STORE="$XDG_DATA_HOME/sxengine/store"
trap 'echo "FAIL: trust_test ran out of time" >&2; exit 1' TERM

# One sxengine run, bounded. --foreground keeps it in this process group, so
# the timeout above reaches it (and this shell is not left waiting on it).
sx() { timeout --foreground -k 5 30 "$SX" "$@"; }
store_count() { find "$STORE" -type f 2>/dev/null | wc -l; }

# valid_json WHAT FILE: every line of FILE is strict UTF-8 JSON, and there is one.
valid_json() {
  if "$PY" -c '
import json, sys
n = 0
for line in sys.stdin.buffer:
    json.loads(line.decode("utf-8"))
    n += 1
assert n > 0, "no output"' < "$2" 2>"$WORK/json.err"; then
    pass "$1"
  else
    fail "$1: $(tail -1 "$WORK/json.err"); stdout: $(shown "$2")"
  fi
}

# only_entry WHAT DIR NAME SRC: DIR holds exactly NAME (bytes), equal to SRC.
only_entry() {
  local n
  n=$(ls -A "$2" | wc -l)
  if [ "$n" -eq 1 ] && [ -f "$2/$3" ]; then
    same_file "$4" "$2/$3" "$1"
  else
    fail "$1: expected only [$(printf '%s' "$3" | hex)] in $2, found $n: $(ls -A "$2" | hex)"
  fi
}

random_file "$WORK/small.bin" 5000

# ---- 1. Names that are not UTF-8 ----------------------------------------------

CAFE=$'caf\xe9'
if KEY=$(sx push -q --no-encrypt --compress none --name "$CAFE" "$WORK/small.bin" 2>"$WORK/err"); then
  pass "push --name caf\\xe9"
  mkdir "$WORK/n1"
  if sx pull -q "$KEY" "$WORK/n1/" 2>"$WORK/err"; then
    only_entry "pull KEY DIR/ writes the name caf\\xe9 byte for byte" "$WORK/n1" "$CAFE" "$WORK/small.bin"
  else
    fail "pull of the caf\\xe9 key: $(shown "$WORK/err")"
  fi
else
  fail "push --name caf\\xe9: $(shown "$WORK/err")"
fi
FF=$'\xff.bin'
cp "$WORK/small.bin" "$WORK/$FF"
if KEY=$(sx push -q --no-encrypt --compress none "$WORK/$FF" 2>"$WORK/err"); then
  mkdir "$WORK/n2"
  if sx pull -q "$KEY" "$WORK/n2/" 2>"$WORK/err"; then
    only_entry "file \\xff.bin pulls back under its own name" "$WORK/n2" "$FF" "$WORK/small.bin"
  else
    fail "pull of the \\xff.bin key: $(shown "$WORK/err")"
  fi
else
  fail "push of a file named \\xff.bin: $(shown "$WORK/err")"
fi
sx push --json --no-encrypt --compress none "$WORK/$FF" >"$WORK/json.out" 2>/dev/null ||
  fail "push --json of \\xff.bin failed"
valid_json "push --json of \\xff.bin prints only valid JSON lines" "$WORK/json.out"
sx push --json --no-encrypt --compress none --name "$CAFE" "$WORK/small.bin" >"$WORK/json.out" 2>/dev/null ||
  fail "push --json --name caf\\xe9 failed"
valid_json "push --json --name caf\\xe9 prints only valid JSON lines" "$WORK/json.out"

# ---- 2. The key cannot be written -----------------------------------------------

random_file "$WORK/full.bin" 20000
rc=0
sx push -q "$WORK/full.bin" >/dev/full 2>"$WORK/full.err" || rc=$?
if [ "$rc" -eq 7 ] && grep -q "standard output" "$WORK/full.err"; then
  pass "push > /dev/full: exit 7, says standard output"
else
  fail "push > /dev/full: exit $rc (expected 7): $(shown "$WORK/full.err")"
fi
one_line "push > /dev/full" "$WORK/full.err"
keyfile=$(grep -o '/[^ ]*\.key' "$WORK/full.err" | head -1)
case $keyfile in
  "$XDG_STATE_HOME/sxengine/keys/"*.key)
    if [ ! -f "$keyfile" ]; then fail "push > /dev/full: saved key $keyfile does not exist"
    else
      mode=$(stat -c %a "$keyfile")
      [ "$mode" = 600 ] && pass "saved key file has mode 600" || fail "saved key file $keyfile has mode $mode"
      if sx pull -q "$(cat "$keyfile")" "$WORK/full.out" 2>"$WORK/err"; then
        same_file "$WORK/full.bin" "$WORK/full.out" "the saved key pulls the file back"
      else
        fail "pull of the saved key: $(shown "$WORK/err")"
      fi
    fi ;;
  *) fail "push > /dev/full: no key file under $XDG_STATE_HOME/sxengine/keys/ named: $(shown "$WORK/full.err")" ;;
esac
random_file "$WORK/closed.bin" 20000
before=$(store_count)
rc=0
timeout --foreground -k 5 30 "$SX" push -q "$WORK/closed.bin" >&- 2>"$WORK/closed.err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "standard output is closed" "$WORK/closed.err"; then
  pass "push >&-: exit 2, standard output is closed"
else
  fail "push >&-: exit $rc (expected 2): $(shown "$WORK/closed.err")"
fi
one_line "push >&-" "$WORK/closed.err"
after=$(store_count)
[ "$after" -eq "$before" ] && pass "push >&- stored nothing" || fail "push >&- stored $((after - before)) new objects"

# ---- 3. /proc files (st_size 0) are pushed whole ----------------------------------

ok=
for attempt in 1 2 3; do  # a line such as "cpu MHz" may change between two reads
  cp /proc/cpuinfo "$WORK/cpuinfo.copy"
  KEY=$(sx push -q /proc/cpuinfo 2>"$WORK/err") || { fail "push /proc/cpuinfo: $(shown "$WORK/err")"; break; }
  rm -f "$WORK/cpuinfo.out"
  sx pull -q "$KEY" "$WORK/cpuinfo.out" 2>"$WORK/err" || { fail "pull of /proc/cpuinfo: $(shown "$WORK/err")"; break; }
  if cmp -s "$WORK/cpuinfo.copy" "$WORK/cpuinfo.out"; then ok=1; break; fi
done
if [ -n "$ok" ]; then
  pass "push /proc/cpuinfo: all $(stat -c %s "$WORK/cpuinfo.out") bytes"
elif [ -e "$WORK/cpuinfo.out" ]; then  # (a failed push or pull is reported above)
  fail "push /proc/cpuinfo: pulled $(stat -c %s "$WORK/cpuinfo.out") bytes, the copy has $(stat -c %s "$WORK/cpuinfo.copy")"
fi

# Progress of an input of unknown size counts pieces without a total ("pieces 2", never "pieces 2/0").
head -c 300000 /dev/urandom > "$WORK/stdin.bin"
KEY=$(sx push --piece-size 128K - < "$WORK/stdin.bin" 2>"$WORK/stdin.err") || fail "push -: $(shown "$WORK/stdin.err")"
if grep -q 'pieces [0-9]*/0' "$WORK/stdin.err"; then fail "stdin progress shows a total of 0: $(shown "$WORK/stdin.err")"
elif grep -q 'pieces 3 ' "$WORK/stdin.err"; then pass "stdin progress: pieces 3, no /0"
else fail "stdin progress: no piece count: $(shown "$WORK/stdin.err")"; fi
sx pull -q "$KEY" "$WORK/stdin.out" && cmp -s "$WORK/stdin.bin" "$WORK/stdin.out" && pass "push - (unknown size) pulls back identical" ||
  fail "push - did not pull back identical"

# ---- 4. A file truncated while it is pushed ---------------------------------------

rc=0
for attempt in 1 2 3 4; do
  random_file "$WORK/shrink.bin" $((256 * 1024 * 1024))
  before=$(store_count)
  "$SX" push -q --no-encrypt --compress none --parallel 1 --workers 1 --piece-size 1M "$WORK/shrink.bin" \
    >"$WORK/shrink.out" 2>"$WORK/shrink.err" &
  pid=$!; track $pid
  for ((i = 0; i < 500; i++)); do  # truncate once the first piece is in the store
    [ "$(store_count)" -gt "$before" ] && break
    sleep 0.01
  done
  truncate -s 1M "$WORK/shrink.bin"
  rc=0; wait $pid || rc=$?; untrack $pid
  [ "$rc" -ne 0 ] && break
  echo "note: attempt $attempt: the push finished before the truncation; again" >&2
done
if [ "$rc" -eq 0 ]; then
  fail "truncated while pushed: every push finished first (nothing checked)"
else
  if [ "$rc" -ge 128 ]; then
    fail "truncated while pushed: ended by signal $((rc - 128)) (exit $rc): $(shown "$WORK/shrink.err")"
  elif [ "$rc" -eq 7 ] && grep -q "changed while it was pushed" "$WORK/shrink.err"; then
    pass "truncated while pushed: exit 7, changed while it was pushed"
  else
    fail "truncated while pushed: exit $rc (expected 7): $(shown "$WORK/shrink.err")"
  fi
  one_line "truncated while pushed" "$WORK/shrink.err"
  [ ! -s "$WORK/shrink.out" ] && pass "truncated while pushed: no key on stdout" ||
    fail "truncated while pushed: printed $(shown "$WORK/shrink.out")"
fi
rm -f "$WORK/shrink.bin"

# ---- 5. Signals while waiting for input ---------------------------------------------

# wait_bounded PID SECONDS [OTHER]: waits for PID at most SECONDS (then KILLs
# it and sets LATE); kills OTHER (the rest of its pipeline, which wait would
# wait for too); sets RC.
wait_bounded() {
  local i
  for ((i = 0; i < $2 * 20; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$1" 2>/dev/null; then LATE=1; kill -KILL "$1" 2>/dev/null; else LATE=; fi
  [ -n "${3:-}" ] && kill -KILL "$3" 2>/dev/null
  RC=0; wait "$1" || RC=$?
  untrack "$1"
}
mkfifo "$WORK/fifo"
"$SX" push -q "$WORK/fifo" >"$WORK/sig.out" 2>"$WORK/sig.err" &
pid=$!; track $pid
sleep 0.5
kill -INT $pid 2>/dev/null
wait_bounded $pid 2
if [ -n "$LATE" ]; then fail "push FIFO: still running 2 s after SIGINT"
elif [ "$RC" -eq 130 ]; then pass "push FIFO without writer: SIGINT ends it, exit 130"
else fail "push FIFO + SIGINT: exit $RC (expected 130): $(shown "$WORK/sig.err")"; fi
[ -z "$LATE" ] && one_line "push FIFO + SIGINT" "$WORK/sig.err" 'sxengine: interrupted: '

sh -c 'echo $$ > "$1"; exec sleep 30' sh "$WORK/sleep.pid" | "$SX" push -q - >"$WORK/sig.out" 2>"$WORK/sig.err" &
pid=$!; track $pid
for ((i = 0; i < 100; i++)); do [ -s "$WORK/sleep.pid" ] && break; sleep 0.01; done
spid=$(cat "$WORK/sleep.pid" 2>/dev/null)
[ -n "$spid" ] && on_exit "kill -KILL $spid 2>/dev/null"
sleep 0.5
kill -TERM $pid 2>/dev/null
wait_bounded $pid 2 "$spid"
if [ -n "$LATE" ]; then fail "sleep 30 | push -: still running 2 s after SIGTERM"
elif [ "$RC" -eq 143 ]; then pass "sleep 30 | push -: SIGTERM ends it, exit 143"
else fail "sleep 30 | push - + SIGTERM: exit $RC (expected 143): $(shown "$WORK/sig.err")"; fi
[ -z "$LATE" ] && one_line "sleep 30 | push - + SIGTERM" "$WORK/sig.err" 'sxengine: interrupted: '

# ---- 6. Contradictory options -------------------------------------------------------

expect_line 2 "--no-encrypt with --passphrase" "passphrase" sx push --no-encrypt --passphrase x "$WORK/small.bin"
expect_line 2 "--width/--height with --piece-size" "piece-size" sx push --width 100 --height 100 --piece-size 1M "$WORK/small.bin"
expect_line 2 "unknown option" "bogus" sx push --bogus-option "$WORK/small.bin"

# ---- 7. A pull never destroys what it did not create --------------------------------

KEY=$(sx push -q --no-encrypt --compress none --name keep.bin "$WORK/small.bin" 2>"$WORK/err") ||
  fail "push --name keep.bin: $(shown "$WORK/err")"
printf 'precious\n' > "$WORK/exists"
expect_line 2 "pull onto an existing file" "exists" sx pull -q "$KEY" "$WORK/exists"
[ "$(cat "$WORK/exists")" = precious ] && pass "existing output unchanged" || fail "existing output was changed"

KEY=$(sx push -q --no-encrypt --compress none --name stray.bin "$WORK/small.bin" 2>"$WORK/err") ||
  fail "push --name stray.bin: $(shown "$WORK/err")"
mkdir "$WORK/stray"
STRAY=".stray.bin.sxpart-99999999999999999999-1"
printf 'not mine\n' > "$WORK/stray/$STRAY"
if sx pull -q "$KEY" "$WORK/stray/" 2>"$WORK/err"; then
  same_file "$WORK/small.bin" "$WORK/stray/stray.bin" "a stray $STRAY does not stop pull KEY DIR/"
else
  fail "pull beside a stray $STRAY: $(shown "$WORK/err")"
fi
[ -f "$WORK/stray/$STRAY" ] || echo "note: the pull removed the stray $STRAY (it did not create it)" >&2

LONG=$(printf 'a%.0s' {1..250})
KEY=$(sx push -q --no-encrypt --compress none --name "$LONG" "$WORK/small.bin" 2>"$WORK/err") ||
  fail "push --name (250 bytes): $(shown "$WORK/err")"
mkdir "$WORK/long"
if (cd "$WORK/long" && sx pull -q "$KEY") 2>"$WORK/err"; then
  only_entry "a 250-byte name pulls without OUT" "$WORK/long" "$LONG" "$WORK/small.bin"
else
  fail "pull of a 250-byte name: $(shown "$WORK/err")"
fi

# ---- 8. A failed push reports what it left behind -----------------------------------

expect_line 6 "push to http://127.0.0.1:1/x/ --retries 0" "127.0.0.1" \
  sx push -q --backend http://127.0.0.1:1/x/ --retries 0 "$WORK/small.bin"
expect_line 6 "push to http://127.0.0.1:1/ --retries 0" "" \
  sx push --backend http://127.0.0.1:1/ --retries 0 "$WORK/small.bin"
[ ! -s "$WORK/line.out" ] || fail "failed push printed on stdout: $(shown "$WORK/line.out")"

# orphans_listed WHAT ERRFILE STOREDIR: the error names a list of the pieces
# left behind, under $XDG_STATE_HOME/sxengine/orphans/, one existing file://
# URL a line, as many as the pieces in STOREDIR that appeared in this push.
orphans_listed() {
  local list n=0 missing=0 url
  list=$(grep -o "$XDG_STATE_HOME/sxengine/orphans/[^ ]*" "$2" | head -1)
  if [ -z "$list" ] || [ ! -f "$list" ]; then fail "$1: no orphans list named: $(shown "$2")"; return; fi
  while IFS= read -r url; do
    n=$((n + 1))
    [ -f "${url#file://}" ] || missing=$((missing + 1))
  done < "$list"
  [ "$n" -gt 0 ] && [ "$missing" -eq 0 ] && [ "$n" -eq "$3" ] &&
    pass "$1: orphans listed ($n URLs)" || fail "$1: orphans list has $n URLs ($missing missing), $3 pieces were left"
}
# --no-resume: a push that keeps no journal lists what it leaves behind (a
# resumable push keeps its pieces for the next run and says so instead).
# Made to fail after some pieces: every shard directory that does not exist
# yet becomes a regular file (root can write into a read-only directory, but
# cannot create a file inside a regular file).
rc=0
for attempt in 1 2 3; do
  D="$WORK/shards.$attempt"
  mkdir "$D"
  random_file "$WORK/shards.bin" $((128 * 1024 * 1024))
  "$SX" push -q --no-resume --no-encrypt --compress none --parallel 1 --workers 1 --piece-size 1M --backend "dir:$D" \
    "$WORK/shards.bin" >"$WORK/shards.out" 2>"$WORK/shards.err" &
  pid=$!; track $pid
  for ((i = 0; i < 500; i++)); do
    [ -n "$(find "$D" -name '*.png' -print -quit)" ] && break
    sleep 0.01
  done
  for a in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
    for b in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do [ -e "$D/$a$b" ] || : > "$D/$a$b"; done
  done
  rc=0; wait $pid || rc=$?; untrack $pid
  [ "$rc" -ne 0 ] && break
  echo "note: attempt $attempt: the dir: push finished before its directory broke; again" >&2
done
if [ "$rc" -eq 0 ]; then
  fail "dir: push broken halfway: every push finished first (nothing checked)"
else
  [ "$rc" -eq 7 ] && pass "dir: push broken halfway: exit 7" ||
    fail "dir: push broken halfway: exit $rc (expected 7): $(shown "$WORK/shards.err")"
  one_line "dir: push broken halfway" "$WORK/shards.err"
  [ ! -s "$WORK/shards.out" ] || fail "dir: push broken halfway printed $(shown "$WORK/shards.out")"
  orphans_listed "dir: push broken halfway" "$WORK/shards.err" "$(find "$D" -name '*.png' | wc -l)"
fi
rm -f "$WORK/shards.bin"

# ---- 9. Clearer words ----------------------------------------------------------------

"$PY" -c 'import sys; from PIL import Image; Image.new("RGB", (8, 8)).save(sys.argv[1])' "$WORK/plain.png"
expect_line 4 "an ordinary PNG as key" "not an sxengine or storagex key" sx pull -q "file://$WORK/plain.png" "$WORK/plain.out"
expect_line any "file:///dev/zero as key" "not a regular file" sx pull -q "file:///dev/zero" "$WORK/zero.out"
expect_line 3 "--backend host:nope without hosts.json" "No such file" sx push -q --backend host:nope "$WORK/small.bin"

# ---- 10. --json carries the error -------------------------------------------------------

rc=0
(cd "$WORK" && sx pull --json "file:///nonexistent.png") >"$WORK/jerr.out" 2>"$WORK/jerr.err" || rc=$?
if [ "$rc" -eq 3 ] && grep -q '"event": *"error"' "$WORK/jerr.out"; then
  pass "pull --json of a missing key: exit 3, an error event on stdout"
else
  fail "pull --json of a missing key: exit $rc (expected 3), stdout: $(shown "$WORK/jerr.out")"
fi
valid_json "pull --json error output is valid JSON" "$WORK/jerr.out"

finish
