# Operations a user runs beyond push and pull, against a real nginx on
# 127.0.0.1 and the local store: an interrupted push or pull resumes (and only
# when it is the same file), verify, pull to standard output and push from
# standard input, rm (shared pieces stay), --bwlimit, --version, completion
# scripts and the man page, upload/download. No network beyond 127.0.0.1.

# The whole script is bounded in time: re-run under timeout(1), which signals
# its whole process group (this shell, sxengine, every background child).
if [ -z "${SX_OPS_BOUNDED:-}" ]; then
  SX_OPS_BOUNDED=1 exec timeout -k 10 195 bash "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac  # some cases cd elsewhere
need /usr/bin/python3 timeout curl
export XDG_STATE_HOME="$WORK/xdg-state" XDG_CACHE_HOME="$WORK/xdg-cache"
JOURNALS="$XDG_STATE_HOME/sxengine/push"
trap 'echo "FAIL: operations_test ran out of time" >&2; exit 1' TERM
start_nginx
ALOG="$NGINX_DIR/access.log"

# One sxengine run, bounded. --foreground keeps it in this process group, so
# the timeout above reaches it (and this shell is not left waiting on it).
sx() { timeout --foreground -k 5 40 "$SX" "$@"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

objects() { find "$NGINX_DIR/data/$1" -type f 2>/dev/null | wc -l; }     # objects PREFIX
objects_at_least() { [ "$(objects "$1")" -ge "$2" ]; }
log_mark() { wc -l < "$ALOG"; }
requests_since() { tail -n +$(($3 + 1)) "$ALOG" | grep -c "\"$1 /$2/"; }  # METHOD PREFIX MARK
journals() { find "$JOURNALS" -type f 2>/dev/null; }
# resumed FILE: N of "sxengine: resuming: N of M pieces already ..." in FILE (a stderr).
resumed() { tr '\r' '\n' < "$1" | sed -n 's/^sxengine: resuming: \([0-9]*\) of [0-9]* pieces already .*/\1/p' | head -1; }
no_journal_left() {  # no_journal_left WHAT: none, not even the interrupted push's
  local left note=; left=$(journals)
  [ -n "$left" ] && [ "$left" = "${KILLED_JOURNAL:-}" ] && note=" (the interrupted run's, $(wc -l < "$left") lines)"
  [ -z "$left" ] && pass "$1: no push journal left" || fail "$1: journal left$note: $(printf '%s' "$left" | tr '\n' ' ')"
}

PIECES=64
MAX_SECOND_RUN=$((PIECES * 6 / 10 + 3))   # at most 60% of the pieces, plus a few manifest pieces

# ---- 1. Resume of push --------------------------------------------------------------

random_file "$WORK/big.bin" $((PIECES << 20))
push_args() { PUSH_ARGS=(push --piece-size 1M --parallel 2 --bwlimit 8M --backend "${NGINX_URL}$1/"); }  # push_args PREFIX

# killed_push WHAT PREFIX AT FILE: starts the push of FILE to PREFIX/ (sets
# PUSH_ARGS), SIGKILLs it once AT objects are stored there (up to 3 attempts,
# when a push finished first). Returns 1 (and fails) when no attempt was
# interrupted mid-way.
killed_push() {
  local what=$1 prefix=$2 at=$3 file=$4 attempt stored
  push_args "$prefix"
  for attempt in 1 2 3; do
    rm -rf "$NGINX_DIR/data/$prefix" "$JOURNALS"
    start_bg "$WORK/kp.out" "$WORK/kp.err" "$SX" "${PUSH_ARGS[@]}" "$file"
    interrupt_when KILL objects_at_least "$prefix" "$at"
    stored=$(objects "$prefix")
    if [ -n "$HIT" ] && [ "$RC" -eq 137 ] && [ "$stored" -lt "$PIECES" ] && [ ! -s "$WORK/kp.out" ]; then
      KILLED_JOURNAL=$(journals)
      pass "$what: push killed mid-way ($stored of $PIECES objects stored, attempt $attempt)"
      return 0
    fi
    echo "note: $what: attempt $attempt: not interrupted mid-way (exit $RC, $stored objects): $(shown "$WORK/kp.err")" >&2
  done
  fail "$what: no push was interrupted mid-way (nothing checked)"
  return 1
}

if killed_push "resume" res $((PIECES / 2)) "$WORK/big.bin"; then
  j=$(journals)
  if [ "$(printf '%s\n' "$j" | grep -c .)" -eq 1 ]; then
    mode=$(stat -c %a "$j")
    [ "$mode" = 600 ] && pass "interrupted push: its journal has mode 600" || fail "interrupted push: journal $j has mode $mode"
  else
    fail "interrupted push: expected one journal in $JOURNALS, found: $(printf '%s' "$j" | tr '\n' ' ')"
  fi
  mark=$(log_mark)
  rc=0; KEY64=$(sx "${PUSH_ARGS[@]}" "$WORK/big.bin" 2>"$WORK/res.err") || rc=$?
  puts=$(requests_since PUT res "$mark")
  n=$(resumed "$WORK/res.err")
  if [ "$rc" -ne 0 ]; then
    fail "resumed push: exit $rc: $(shown "$WORK/res.err")"; KEY64=
  else
    if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$PIECES" ]; then
      pass "resumed push says: resuming: $n of $PIECES pieces already stored"
    else
      fail "resumed push: no 'resuming: N of $PIECES pieces already stored' with 0 < N < $PIECES: $(shown "$WORK/res.err")"
    fi
    [ "$puts" -le "$MAX_SECOND_RUN" ] && pass "resumed push made $puts PUTs (at most $MAX_SECOND_RUN)" ||
      fail "resumed push made $puts PUTs (expected at most $MAX_SECOND_RUN)"
    if sx pull -q "$KEY64" "$WORK/res.out" 2>"$WORK/err"; then
      same_file "$WORK/big.bin" "$WORK/res.out" "the resumed push's key pulls back the file"
    else
      fail "pull of the resumed push's key: $(shown "$WORK/err")"; KEY64=
    fi
    rm -f "$WORK/res.out"
    no_journal_left "resumed push"
  fi
else
  KEY64=
fi

# --no-resume after a kill stores every piece again.
if killed_push "--no-resume" res-nr $((PIECES / 4)) "$WORK/big.bin"; then
  mark=$(log_mark)
  rc=0; key=$(sx "${PUSH_ARGS[@]}" --no-resume "$WORK/big.bin" 2>"$WORK/nr.err") || rc=$?
  puts=$(requests_since PUT res-nr "$mark")
  if [ "$rc" -ne 0 ]; then
    fail "push --no-resume: exit $rc: $(shown "$WORK/nr.err")"
  else
    [ -z "$(resumed "$WORK/nr.err")" ] && pass "push --no-resume: no 'resuming' line" ||
      fail "push --no-resume said: $(shown "$WORK/nr.err")"
    [ "$puts" -ge "$PIECES" ] && pass "push --no-resume made $puts PUTs (all $PIECES pieces again)" ||
      fail "push --no-resume made only $puts PUTs (expected at least $PIECES)"
    sx pull -q "$key" "$WORK/nr.out" 2>"$WORK/err" && same_file "$WORK/big.bin" "$WORK/nr.out" "push --no-resume: key pulls" ||
      fail "pull of the --no-resume key: $(shown "$WORK/err")"
    rm -f "$WORK/nr.out"
    no_journal_left "push --no-resume"
  fi
fi

# A file changed after the kill (a byte and its mtime) is not resumed.
cp "$WORK/big.bin" "$WORK/changed.bin"
if killed_push "changed file" res-ch $((PIECES / 4)) "$WORK/changed.bin"; then
  "$PY" -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(5); b = f.read(1); f.seek(5); f.write(bytes([b[0] ^ 0xff]))' "$WORK/changed.bin"
  touch -d "@$(($(stat -c %Y "$WORK/changed.bin") + 7))" "$WORK/changed.bin"
  rc=0; key=$(sx "${PUSH_ARGS[@]}" "$WORK/changed.bin" 2>"$WORK/ch.err") || rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "push of the changed file: exit $rc: $(shown "$WORK/ch.err")"
  else
    [ -z "$(resumed "$WORK/ch.err")" ] && pass "changed file: not resumed" ||
      fail "changed file was resumed: $(shown "$WORK/ch.err")"
    if sx pull -q "$key" "$WORK/ch.out" 2>"$WORK/err"; then
      same_file "$WORK/changed.bin" "$WORK/ch.out" "changed file: its key pulls the new content"
    else
      fail "pull of the changed file's key: $(shown "$WORK/err")"
    fi
    rm -f "$WORK/ch.out"
    no_journal_left "push of the changed file"
  fi
fi
rm -f "$WORK/changed.bin"

# ---- 2. Resume of pull --------------------------------------------------------------

journal_lines() { cat "$1"/.*.sxjournal-* 2>/dev/null | wc -l; }   # journal_lines DIR
journal_past() { [ "$(journal_lines "$1")" -gt "$2" ]; }          # journal_past DIR N
PULL_ARGS=(pull --bwlimit 8M --parallel 2)

# killed_pull WHAT SIG DIR AT: pulls KEY64 into the empty DIR/, sends SIG once
# the journal beside it has more than AT lines (up to 3 attempts). Returns 1
# (and fails) when no attempt was interrupted mid-way.
killed_pull() {
  local what=$1 sig=$2 dir=$3 at=$4 attempt
  for attempt in 1 2 3; do
    rm -rf "$dir"; mkdir "$dir"
    start_bg "$WORK/kl.out" "$WORK/kl.err" "$SX" "${PULL_ARGS[@]}" "$KEY64" "$dir/"
    interrupt_when "$sig" journal_past "$dir" "$at"
    if [ -n "$LATE" ]; then fail "$what: the pull still ran 10 s after SIG$sig"; return 1; fi
    if [ -n "$HIT" ] && [ -z "$LATE" ] && [ ! -e "$dir/big.bin" ] && [ -n "$(find "$dir" -name '.big.bin.sxpart-*')" ]; then
      RECORDS=$(($(journal_lines "$dir") - 1))
      pass "$what: pull interrupted mid-way by SIG$sig ($RECORDS journal records, attempt $attempt)"
      return 0
    fi
    echo "note: $what: attempt $attempt: not interrupted mid-way (exit $RC): $(shown "$WORK/kl.err")" >&2
  done
  fail "$what: no pull was interrupted mid-way (nothing checked)"
  return 1
}

if [ -z "$KEY64" ]; then
  fail "resume of pull: no 64 MiB key (push failed above)"
else
  # A fresh pull resumes nothing.
  mkdir "$WORK/fresh"
  if sx pull --parallel 4 "$KEY64" "$WORK/fresh/" >/dev/null 2>"$WORK/fresh.err"; then
    [ -z "$(resumed "$WORK/fresh.err")" ] && pass "a fresh pull says nothing about resuming" ||
      fail "a fresh pull says: $(tr '\r' '\n' < "$WORK/fresh.err" | grep resuming)"
  else
    fail "fresh pull of the 64 MiB key: $(shown "$WORK/fresh.err")"
  fi
  rm -rf "$WORK/fresh"

  D="$WORK/pullres"
  if killed_pull "resume of pull" KILL "$D" $((PIECES / 2 + 1)); then
    [ "$RC" -eq 137 ] || fail "SIGKILLed pull: exit $RC"
    j=$(find "$D" -name '.big.bin.sxjournal-*')
    if [ "$(printf '%s\n' "$j" | grep -c .)" -eq 1 ]; then
      mode=$(stat -c %a "$j")
      [ "$mode" = 600 ] && pass "interrupted pull: the journal beside the temp file has mode 600" ||
        fail "interrupted pull: journal $j has mode $mode"
    else
      fail "interrupted pull: expected one .big.bin.sxjournal-* in $D, found: $(ls -A "$D" | tr '\n' ' ')"
    fi
    mark=$(log_mark)
    rc=0; sx "${PULL_ARGS[@]}" "$KEY64" "$D/" >/dev/null 2>"$WORK/pr.err" || rc=$?
    gets=$(requests_since GET res "$mark")
    if [ "$rc" -ne 0 ]; then
      fail "resumed pull: exit $rc: $(shown "$WORK/pr.err")"
    else
      n=$(resumed "$WORK/pr.err")
      if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$PIECES" ]; then
        pass "resumed pull says: resuming: $n of $PIECES pieces already written"
      else
        fail "resumed pull: no 'resuming: N of $PIECES pieces already written' with 0 < N < $PIECES: $(tr '\r' '\n' < "$WORK/pr.err" | grep -v ' MiB / ' | tr '\n' '|')"
      fi
      [ "$gets" -le "$MAX_SECOND_RUN" ] && pass "resumed pull made $gets GETs (at most $MAX_SECOND_RUN)" ||
        fail "resumed pull made $gets GETs (expected at most $MAX_SECOND_RUN)"
      [ "$(ls -A "$D")" = big.bin ] && same_file "$WORK/big.bin" "$D/big.bin" "resumed pull: the file, byte-identical, and nothing else" ||
        fail "resumed pull: the directory holds: $(ls -A "$D" | tr '\n' ' ')"
    fi
  fi
  rm -rf "$D"

  # Ctrl-C: exit 130, the temp file (and its journal) stay; the next run completes.
  D="$WORK/pullint"
  if killed_pull "Ctrl-C of a pull" INT "$D" 8; then
    [ "$RC" -eq 130 ] && pass "SIGINT of a pull: exit 130" || fail "SIGINT of a pull: exit $RC (expected 130): $(shown "$WORK/kl.err")"
    [ -n "$(find "$D" -name '.big.bin.sxjournal-*')" ] && pass "SIGINT of a pull keeps the temp file and its journal" ||
      fail "SIGINT of a pull: the journal is gone: $(ls -A "$D" | tr '\n' ' ')"
    mark=$(log_mark)
    rc=0; sx pull "$KEY64" "$D/" >/dev/null 2>"$WORK/pi.err" || rc=$?
    gets=$(requests_since GET res "$mark") most=$((PIECES - RECORDS + 3))
    if [ "$rc" -ne 0 ]; then
      fail "pull after SIGINT: exit $rc: $(shown "$WORK/pi.err")"
    else
      [ -n "$(resumed "$WORK/pi.err")" ] && [ "$gets" -le "$most" ] && pass "pull after SIGINT resumes ($gets GETs, at most $most)" ||
        fail "pull after SIGINT did not resume: $gets GETs (at most $most): $(shown "$WORK/pi.err")"
      [ "$(ls -A "$D")" = big.bin ] && same_file "$WORK/big.bin" "$D/big.bin" "pull after SIGINT completes, nothing else left" ||
        fail "pull after SIGINT: the directory holds: $(ls -A "$D" | tr '\n' ' ')"
    fi
  fi
  rm -rf "$D"
fi

# ---- 3. verify ----------------------------------------------------------------------

random_file "$WORK/v.bin" 3000000
mkdir "$WORK/vcwd"
VKEY=$(sx push -q --piece-size 256K --backend "${NGINX_URL}ver/" "$WORK/v.bin" 2>"$WORK/err") || fail "push for verify: $(shown "$WORK/err")"
rc=0; (cd "$WORK/vcwd" && sx verify "$VKEY") >"$WORK/v.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^ok:' "$WORK/v.out"; then pass "verify of a good key: exit 0, 'ok:' summary"
else fail "verify of a good key: exit $rc: $(shown "$WORK/v.out")"; fi
rc=0; (cd "$WORK/vcwd" && sx verify --json "$VKEY") >"$WORK/v.json" 2>/dev/null || rc=$?
"$PY" -c 'import json, sys
ev = [json.loads(l) for l in sys.stdin]
assert ev[-1]["event"] == "verified" and ev[-1]["ok"] is True, ev[-1]
assert not [e for e in ev if e.get("event") == "problem"]' < "$WORK/v.json" && [ "$rc" -eq 0 ] &&
  pass "verify --json of a good key: ends in verified, ok true" || fail "verify --json of a good key: exit $rc: $(shown "$WORK/v.json")"

manifest=${VKEY%%#*}; manifest=${manifest##*/}
mapfile -t vobjs < <(ls "$NGINX_DIR/data/ver" | grep -vx "$manifest")
if [ "${#vobjs[@]}" -lt 2 ]; then
  fail "verify: expected several piece objects in ver/, found ${#vobjs[@]}"
else
  missing=${vobjs[0]} bad=${vobjs[1]}
  rm "$NGINX_DIR/data/ver/$missing"
  "$PY" -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)' "$NGINX_DIR/data/ver/$bad"
  statuses=
  for attempt in 1 2 3 4 5; do  # a crash on bad pieces may come only now and then
    rc=0; (cd "$WORK/vcwd" && sx verify --retries 1 "$VKEY") >"$WORK/v.out" 2>&1 || rc=$?
    statuses+=" $rc"
  done
  [ "$statuses" = " 1 1 1 1 1" ] && pass "verify with a missing and a bad piece: exit 1 (5 runs)" ||
    fail "verify with a missing and a bad piece: exit statuses$statuses (expected 1 each time)"
  tr '\r' '\n' < "$WORK/v.out" | grep -v '^sxengine: retry' > "$WORK/v.lines"
  grep -qF "${NGINX_URL}ver/$missing" "$WORK/v.lines" && pass "verify names the missing piece's URL" ||
    fail "verify does not name the missing ${NGINX_URL}ver/$missing: $(shown "$WORK/v.lines")"
  grep -qF "${NGINX_URL}ver/$bad" "$WORK/v.lines" && pass "verify names the corrupt piece's URL" ||
    fail "verify does not name the corrupt ${NGINX_URL}ver/$bad: $(shown "$WORK/v.lines")"
  grep -q '^FAILED:' "$WORK/v.lines" && pass "verify: a 'FAILED:' summary line" || fail "verify: no 'FAILED:' line: $(shown "$WORK/v.lines")"
  rc=0; (cd "$WORK/vcwd" && sx verify --retries 1 --json "$VKEY") >"$WORK/v.json" 2>/dev/null || rc=$?
  if "$PY" - "$WORK/v.json" "${NGINX_URL}ver/$missing" "${NGINX_URL}ver/$bad" <<'EOF' && [ "$rc" -eq 1 ]; then
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
problems = [e for e in ev if e.get("event") == "problem"]
assert sorted(e.get("url") for e in problems) == sorted(sys.argv[2:]), problems
assert ev[-1]["event"] == "verified" and ev[-1]["ok"] is False, ev[-1]
EOF
    pass "verify --json: a problem event per bad piece, then verified with ok false (exit 1)"
  else
    fail "verify --json: exit $rc: $(shown "$WORK/v.json")"
  fi
fi
[ -z "$(ls -A "$WORK/vcwd")" ] && pass "verify wrote nothing in the current directory" ||
  fail "verify left in the current directory: $(ls -A "$WORK/vcwd" | tr '\n' ' ')"

# ---- 4. Standard output and standard input --------------------------------------------

random_file "$WORK/s.bin" $((5 << 20))
SKEY=$(sx push -q --piece-size 256K --backend "${NGINX_URL}std/" "$WORK/s.bin" 2>"$WORK/err") || fail "push for stdout: $(shown "$WORK/err")"
rc=0; sx pull "$SKEY" - >"$WORK/s.out" 2>"$WORK/s.err" || rc=$?
[ "$rc" -eq 0 ] && same_file "$WORK/s.bin" "$WORK/s.out" "pull KEY - (with progress): stdout is exactly the file" ||
  fail "pull KEY -: exit $rc: $(shown "$WORK/s.err")"
expect_line 2 "pull KEY - --json is a usage error" "json" sx pull "$SKEY" - --json

rc=0; key=$(cat "$WORK/s.bin" | sx push -q --piece-size 1M - 2>"$WORK/err") || rc=$?
if [ "$rc" -eq 0 ] && sx pull -q "$key" "$WORK/stdin.out" 2>"$WORK/err"; then
  same_file "$WORK/s.bin" "$WORK/stdin.out" "cat FILE | push - (unknown size): the key pulls back the file"
else
  fail "cat FILE | push -: exit $rc: $(shown "$WORK/err")"
fi
crashed=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  start=$(ms_now)
  sx pull "$key" - 2>"$WORK/head.err" | head -c 100 >"$WORK/head.out"
  rc=${PIPESTATUS[0]}; ms=$(($(ms_now) - start))
  if [ "$ms" -ge 10000 ]; then fail "pull KEY - | head -c 100: still running after $ms ms (exit $rc)"; break; fi
  [ "$rc" -ge 128 ] && [ "$rc" -ne 141 ] && crashed="exit $rc: $(shown "$WORK/head.err")"
done
[ "$ms" -lt 10000 ] && pass "pull KEY - | head -c 100 ends at once ($ms ms, exit $rc)"
cmp -s "$WORK/head.out" <(head -c 100 "$WORK/s.bin") && pass "pull KEY - | head -c 100: the first 100 bytes" ||
  fail "pull KEY - | head -c 100: wrong bytes"
[ -z "$crashed" ] && pass "pull KEY - | head -c 100: no crash in 10 runs (exit 1..7 or SIGPIPE)" ||
  fail "pull KEY - | head -c 100 crashed: $crashed"

# ---- 5. rm ----------------------------------------------------------------------------

random_file "$WORK/r.bin" 3000000
key=$(sx push -q "$WORK/r.bin" 2>"$WORK/err") || fail "push to the local store: $(shown "$WORK/err")"
rc=0; sx rm "$key" >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 0 ] && pass "rm of an encrypted key in the local store: exit 0" || fail "rm (local store): exit $rc: $(shown "$WORK/err")"
expect_line 3 "pull after rm (local store)" "No such file\|not found" sx pull -q "$key" "$WORK/r.out"

key=$(sx push -q --piece-size 256K --backend "${NGINX_URL}rm/" "$WORK/r.bin" 2>"$WORK/err") || fail "push to rm/: $(shown "$WORK/err")"
before=$(objects rm)
rc=0; sx rm "$key" >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 0 ] && [ "$before" -gt 2 ] && [ "$(objects rm)" -eq 0 ] &&
  pass "rm of an encrypted key on nginx: exit 0, all $before objects gone" ||
  fail "rm on nginx: exit $rc, $(objects rm) of $before objects left: $(shown "$WORK/err")"
expect_line 3 "pull after rm (nginx)" "404\|not found" sx pull -q "$key" "$WORK/r.out"

# Shared pieces in the local store: each push holds a reference.
k1=$(sx push -q --no-encrypt --compress none "$WORK/r.bin" 2>/dev/null)
k2=$(sx push -q --no-encrypt --compress none "$WORK/r.bin" 2>/dev/null)
if [ -n "$k1" ] && [ "$k1" = "$k2" ]; then
  pass "the same unencrypted file pushed twice: the same key"
  rc=0; sx rm "$k1" >/dev/null 2>"$WORK/err" || rc=$?
  [ "$rc" -eq 0 ] || fail "first rm of the shared key: exit $rc: $(shown "$WORK/err")"
  if sx pull -q "$k1" "$WORK/r1.out" 2>"$WORK/err"; then
    same_file "$WORK/r.bin" "$WORK/r1.out" "pushed twice, rm once: still pulls"
  else
    fail "pushed twice, rm once: pull fails: $(shown "$WORK/err")"
  fi
  rc=0; sx rm "$k1" >/dev/null 2>"$WORK/err" || rc=$?
  [ "$rc" -eq 0 ] || fail "second rm of the shared key: exit $rc: $(shown "$WORK/err")"
  expect_line 3 "pushed twice, rm twice: pull fails" "No such file\|not found" sx pull -q "$k1" "$WORK/r2.out"
else
  fail "the same unencrypted file pushed twice: keys $k1 and $k2"
fi
head -c 1048576 "$WORK/r.bin" > "$WORK/a.bin"; cp "$WORK/a.bin" "$WORK/b.bin"
head -c 500000 /dev/urandom >> "$WORK/a.bin"; head -c 700000 /dev/urandom >> "$WORK/b.bin"
ka=$(sx push -q --piece-size 1M --no-encrypt --compress none "$WORK/a.bin" 2>/dev/null)
kb=$(sx push -q --piece-size 1M --no-encrypt --compress none "$WORK/b.bin" 2>/dev/null)
rc=0; sx rm "$ka" >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 0 ] || fail "rm of the first of two files sharing 1 MiB: exit $rc: $(shown "$WORK/err")"
if sx pull -q "$kb" "$WORK/b.out" 2>"$WORK/err"; then
  same_file "$WORK/b.bin" "$WORK/b.out" "two files share their first 1 MiB: rm of one leaves the other pullable"
else
  fail "two files share their first 1 MiB: after rm of one the other fails: $(shown "$WORK/err")"
fi
expect_line 3 "the removed one of two sharing files is gone" "No such file\|not found" sx pull -q "$ka" "$WORK/a.out"

# An unencrypted key on HTTP: shared pieces cannot be seen, so --force is asked for.
key=$(sx push -q --no-encrypt --piece-size 1M --backend "${NGINX_URL}rmu/" "$WORK/r.bin" 2>"$WORK/err") || fail "push to rmu/: $(shown "$WORK/err")"
before=$(objects rmu)
expect_line 2 "rm of an unencrypted key on nginx without --force" "--force" sx rm "$key"
[ "$(objects rmu)" -eq "$before" ] && pass "rm without --force deleted nothing" || fail "rm without --force deleted $((before - $(objects rmu))) objects"
rc=0; sx rm --force "$key" >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 0 ] && [ "$(objects rmu)" -eq 0 ] && pass "rm --force of an unencrypted key on nginx: all $before objects gone" ||
  fail "rm --force: exit $rc, $(objects rmu) of $before objects left: $(shown "$WORK/err")"
expect_line 3 "pull after rm --force" "404\|not found" sx pull -q "$key" "$WORK/r.out"
echo "skip: rm of an image-host key (no image host here)"

# ---- 6. --bwlimit ------------------------------------------------------------------

random_file "$WORK/bw.bin" $((16 << 20))
LOW=$((16000 / 4 * 100 / 115)) HIGH=$((16000 / 4 * 10 / 6))   # ms: 1.15x and 0.6x of 4 MiB/s
start=$(ms_now)
rc=0; key=$(sx push -q --bwlimit 4M --backend "${NGINX_URL}bw/" "$WORK/bw.bin" 2>"$WORK/err") || rc=$?
ms=$(($(ms_now) - start))
if [ "$rc" -ne 0 ]; then fail "push --bwlimit 4M: exit $rc: $(shown "$WORK/err")"
elif [ "$ms" -ge "$LOW" ] && [ "$ms" -le "$HIGH" ]; then pass "push of 16 MiB with --bwlimit 4M: $ms ms (within $LOW..$HIGH)"
else fail "push of 16 MiB with --bwlimit 4M: $ms ms (expected $LOW..$HIGH)"; fi
start=$(ms_now)
rc=0; sx pull -q --bwlimit 4M "$key" "$WORK/bw.out" 2>"$WORK/err" || rc=$?
ms=$(($(ms_now) - start))
if [ "$rc" -ne 0 ]; then fail "pull --bwlimit 4M: exit $rc: $(shown "$WORK/err")"
else
  same_file "$WORK/bw.bin" "$WORK/bw.out" "pull --bwlimit 4M: the file"
  [ "$ms" -ge "$LOW" ] && [ "$ms" -le "$HIGH" ] && pass "pull of 16 MiB with --bwlimit 4M: $ms ms (within $LOW..$HIGH)" ||
    fail "pull of 16 MiB with --bwlimit 4M: $ms ms (expected $LOW..$HIGH)"
fi
rm -f "$WORK/bw.bin" "$WORK/bw.out"

# ---- 7. --version, completion, the man page ----------------------------------------

sx --version >"$WORK/ver.out" 2>&1
missing_libs=
for lib in libcurl OpenSSL zstd libspng; do grep -q "$lib" "$WORK/ver.out" || missing_libs+=" $lib"; done
[ "$(head -c 9 "$WORK/ver.out")" = "sxengine " ] && [ -z "$missing_libs" ] &&
  pass "--version: sxengine VERSION, libcurl, OpenSSL, zstd, libspng" ||
  fail "--version lacks 'sxengine ' first or:$missing_libs: $(shown "$WORK/ver.out")"

for shell in bash zsh fish; do
  rc=0; sx completion $shell >"$WORK/comp.$shell" 2>"$WORK/err" || rc=$?
  absent=
  for c in push pull info verify rm; do grep -qw "$c" "$WORK/comp.$shell" || absent+=" $c"; done
  [ "$rc" -eq 0 ] && [ -s "$WORK/comp.$shell" ] && [ -z "$absent" ] &&
    pass "completion $shell: a script naming every subcommand" ||
    fail "completion $shell: exit $rc, lacks:$absent: $(shown "$WORK/err")"
done
bash -c 'source "$1" && declare -F _sxengine' bash "$WORK/comp.bash" >/dev/null 2>"$WORK/err" &&
  pass "completion bash, sourced, defines _sxengine" || fail "completion bash does not define _sxengine: $(shown "$WORK/err")"

MAN="$ROOT/docs/sxengine.1"
sx manpage 2>/dev/null | cmp -s - "$MAN" && pass "docs/sxengine.1 is identical to sxengine manpage" ||
  fail "docs/sxengine.1 differs from sxengine manpage output"
absent= help_absent=
for c in push pull info verify rm; do
  sx $c --help >"$WORK/help.$c" 2>&1
  for o in $(grep -o -- '--[a-z0-9][a-z0-9-]*' "$WORK/help.$c" | sort -u); do
    grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$MAN" && continue
    [ "$o" = --help ] && help_absent+=" $c" || absent+=" $c:$o"
  done
done
[ -z "$absent" ] && pass "the man page names every long option of push pull info verify rm --help (but --help)" ||
  fail "the man page lacks:$absent"
[ -z "$help_absent" ] && pass "the man page names --help" || fail "the man page does not name --help (printed by:$help_absent --help)"
# A flag is shown without a value in the man page, an option with one with its value.
if "$PY" - "$MAN" "$WORK"/help.{push,pull,info,verify,rm} >"$WORK/man.check" <<'EOF'; then
import re, sys
page = open(sys.argv[1]).read()
wrong = set()
for helpfile in sys.argv[2:]:
    for line in open(helpfile):
        m = re.match(r"^\s+(?:-\w,)?--([a-z0-9-]+)(.*)$", line.rstrip("\n"))
        if not m or m.group(1) == "help":
            continue
        takes_value = re.match(r"^ [A-Z]+(:|\s|$)", m.group(2)) is not None
        name = m.group(1).replace("-", "\\-")
        shown = re.findall(r"\\fB\\-\\-" + re.escape(name) + r"\\fR( \\fI)?", page)
        if (any(shown) if not takes_value else not any(shown)):
            wrong.add("--" + m.group(1) + (" (an option)" if takes_value else " (a flag, shown with VALUE)"))
print(" ".join(sorted(wrong)))
sys.exit(1 if wrong else 0)
EOF
  pass "the man page shows a value for options and none for flags"
else
  fail "the man page shows flags with a value (or options without): $(cat "$WORK/man.check")"
fi

# ---- 8. upload / download --------------------------------------------------------------

random_file "$WORK/u.bin" 1500000
rc=0; key=$(sx upload -q --piece-size 256K "$WORK/u.bin" 2>"$WORK/err") || rc=$?
if [ "$rc" -eq 0 ] && sx download -q "$key" "$WORK/u.out" 2>"$WORK/err"; then
  same_file "$WORK/u.bin" "$WORK/u.out" "upload FILE / download KEY OUT (local store)"
else
  fail "upload/download (local store): $(shown "$WORK/err")"
fi
rc=0; key=$(sx upload -q --backend "${NGINX_URL}up/" "$WORK/u.bin" 2>"$WORK/err") || rc=$?
if [ "$rc" -eq 0 ] && sx download -q "$key" "$WORK/u2.out" 2>"$WORK/err"; then
  same_file "$WORK/u.bin" "$WORK/u2.out" "upload FILE / download KEY OUT (nginx)"
else
  fail "upload/download (nginx): $(shown "$WORK/err")"
fi

finish
