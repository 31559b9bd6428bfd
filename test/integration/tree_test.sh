#!/usr/bin/env bash
# Tree keys (docs/FORMAT.md §11, docs/CLI.md §Trees): push PATH… of a tree
# with nested and empty directories, empty files, symlinks in and out,
# non-UTF-8 and 255-byte names, modes and nanosecond mtimes; pull recreates
# it exactly (diff -r, and every entry's mode and mtime); small files share
# pieces; ls, info, verify, rm; a partial pull fetches only its pieces
# (counted at nginx); hostile tree manifests and symlinks planted in DIR
# write nothing outside DIR.
source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac
need /usr/bin/python3 timeout find mkfifo
sx() { timeout --foreground -k 5 120 "$SX" "$@"; }
in_work() { (cd "$WORK" && "$@"); }
STORE="$XDG_DATA_HOME/sxengine/store"
objects() { find "$STORE" -type f -name '*.png' 2>/dev/null | wc -l; }
# listing DIR: every entry below DIR with type, mode, size (files), mtime (ns) and link target.
listing() { (cd "$1" && find . -mindepth 1 -printf '%P %y %m %T@ %l|' -a \( -type f -printf '%s\n' -o -printf '\n' \) | LC_ALL=C sort); }

# --- a tree a user has -------------------------------------------------------
SRC="$WORK/src"
T="$SRC/album"
mkdir -p "$T/small/d1" "$T/small/d2" "$T/small/d3" "$T/small/d4" "$T/empty-dir" "$T/deep/a/b/c/d/e"
for d in 1 2 3 4; do
  for i in $(seq 1 50); do head -c 4096 /dev/urandom > "$T/small/d$d/f$i"; done
done
random_file "$T/big.bin" 3000000
: > "$T/empty-file"
echo deep > "$T/deep/a/b/c/d/e/leaf.txt"
printf 'latin-1 name' > "$T/caf"$'\xe9'".txt"
long=$(printf 'n%.0s' $(seq 1 255))
echo long > "$T/$long"
ln -s big.bin "$T/link-inside"
ln -s /etc/hostname "$T/link-outside"
ln -s ../small/d1/f1 "$T/deep/relative-link"
chmod 600 "$T/small/d1/f2"; chmod 755 "$T/big.bin"; chmod 700 "$T/deep/a"; chmod 2755 "$T/small/d3"
touch -h -d '2001-02-03 04:05:06.123456789' "$T/link-inside"
touch -d '1999-12-31 23:59:59.987654321' "$T/small/d1/f3" "$T/empty-dir"
mkfifo "$T/fifo"

key=$(sx push "$T" --piece-size 256K 2>"$WORK/push.err"); rc=$?
[ $rc -eq 0 ] && [ -n "$key" ] && pass "push DIR gives one key" || fail "push DIR: rc=$rc $(tail -1 "$WORK/push.err")"
grep -q "skipped 1 device, socket or FIFO" "$WORK/push.err" && pass "the FIFO is skipped with a note" ||
  fail "no note of the skipped FIFO: $(cat "$WORK/push.err")"
rm "$T/fifo"
stored=$(objects)
# 200 small files (800 KiB) + 3 MB + a few: about 16 data pieces of 256 KiB and the manifest, not 200+
[ "$stored" -le 20 ] && pass "small files share pieces: $stored objects for $(find "$T" | wc -l) entries" ||
  fail "$stored objects stored for the tree"

mkdir "$WORK/out"
sx pull -q "$key" "$WORK/out" 2>"$WORK/pull.err" && pass "pull KEY DIR" || fail "pull: $(tail -1 "$WORK/pull.err")"
diff -r --no-dereference "$T" "$WORK/out/album" > "$WORK/diff.txt" 2>&1 && pass "diff -r: the tree is the same" ||
  fail "diff -r: $(head -3 "$WORK/diff.txt")"
# setgid is not restored (a stranger's tree); everything else is.
listing "$T" | sed 's/^small\/d3 d 2755/small\/d3 d 755/' > "$WORK/src.list"
listing "$WORK/out/album" > "$WORK/out.list"
cmp -s "$WORK/src.list" "$WORK/out.list" && pass "modes, sizes, link targets and ns mtimes restored ($(wc -l < "$WORK/src.list") entries)" ||
  fail "entries differ: $(diff "$WORK/src.list" "$WORK/out.list" | head -4 | tr '\n' '|')"
[ -z "$(find "$WORK/out" -name '.sxtree-*')" ] && pass "no temp file left" || fail "temp files left"

# --- per-file events --------------------------------------------------------------
nfiles=$(find "$T" -type f | wc -l)
sx push --json --no-catalogue "$T" > "$WORK/push.json" && jkey=$(grep '"event":"key"' "$WORK/push.json" | sed 's/.*"key":"\([^"]*\)".*/\1/')
[ "$(grep -c '"event":"file"' "$WORK/push.json")" -eq "$nfiles" ] &&
  grep -q "\"event\":\"file\",\"path\":\"album/big.bin\",\"bytes\":3000000,\"done\":[0-9]*,\"files\":$nfiles" "$WORK/push.json" &&
  pass "push --json: one file event per file ($nfiles)" || fail "push --json file events: $(grep -c '"event":"file"' "$WORK/push.json")"
sx pull --json "$jkey" "$WORK/json-out" > "$WORK/pull.json" &&
  [ "$(grep -c '"event":"file"' "$WORK/pull.json")" -eq "$nfiles" ] && grep -q "\"done\":$nfiles,\"files\":$nfiles}" "$WORK/pull.json" &&
  pass "pull --json: one file event per file" || fail "pull --json file events: $(grep -c '"event":"file"' "$WORK/pull.json")"
sx rm -q "$jkey" || fail "rm of the --json push"

# --- ls, info ------------------------------------------------------------------
n=$(find "$T" | wc -l)
[ "$(sx ls "$key" | wc -l)" -eq "$n" ] && pass "ls lists every entry ($n)" || fail "ls: $(sx ls "$key" | wc -l) lines, $n entries"
sx ls -l "$key" > "$WORK/ls-l.txt"; sx ls --json "$key" > "$WORK/ls-json.txt"  # (grep -q would cut the pipe)
grep -q -- '^-rw------- .* album/small/d1/f2$' "$WORK/ls-l.txt" && pass "ls -l shows a mode as tar tv does" ||
  fail "ls -l: $(grep d1/f2$ "$WORK/ls-l.txt")"
grep -q 'album/link-outside -> /etc/hostname' "$WORK/ls-l.txt" && pass "ls -l shows link targets" || fail "ls -l link"
grep -q '"path":"album/link-inside","type":"link".*"target":"big.bin"' "$WORK/ls-json.txt" && pass "ls --json" ||
  fail "ls --json: $(grep link-inside "$WORK/ls-json.txt")"
sx info --json "$key" | grep -q "\"tree\":{\"entries\":$n,\"files\":$(find "$T" -type f | wc -l)}" && pass "info --json counts the tree" ||
  fail "info --json: $(sx info --json "$key")"

expect_fail "a tree key to standard output is refused" "cannot go to standard output" in_work sx pull -q "$key" -
[ ! -e "$WORK/-" ] && pass "nothing made for -" || fail "pull - made ./-"

# --- pull again, --force, a planted symlink ------------------------------------------
before=$(listing "$WORK/out/album")
expect_fail "a second pull into the same DIR keeps what is there" "exists (--force replaces it)" sx pull -q "$key" "$WORK/out"
[ "$(listing "$WORK/out/album")" = "$before" ] && pass "nothing changed by the refused pull" || fail "the refused pull changed files"
echo changed > "$WORK/out/album/big.bin"
sx pull -q --force "$key" "$WORK/out" && cmp -s "$T/big.bin" "$WORK/out/album/big.bin" && pass "--force replaces files" ||
  fail "--force did not restore big.bin"

# A neighbour plants DIR/album -> somewhere else: pull must not write through it.
mkdir -p "$WORK/victim" "$WORK/shared"
echo precious > "$WORK/victim/keep"
ln -s "$WORK/victim" "$WORK/shared/album"
expect_fail "a symlink planted at a directory of the tree is not followed" "not a directory" sx pull -q --force "$key" "$WORK/shared"
[ "$(ls -A "$WORK/victim")" = keep ] && [ "$(cat "$WORK/victim/keep")" = precious ] &&
  pass "nothing written through the planted directory link" || fail "the victim directory changed: $(ls -A "$WORK/victim")"
# ... and DIR/album/big.bin -> a victim file: replaced by the file (--force), the victim untouched.
rm "$WORK/shared/album"; mkdir "$WORK/shared/album"
ln -s "$WORK/victim/keep" "$WORK/shared/album/big.bin"
expect_fail "a symlink planted at a file's name is kept without --force" "exists" sx pull -q "$key" "$WORK/shared"
sx pull -q --force "$key" "$WORK/shared" && [ ! -L "$WORK/shared/album/big.bin" ] &&
  cmp -s "$T/big.bin" "$WORK/shared/album/big.bin" && [ "$(cat "$WORK/victim/keep")" = precious ] &&
  pass "--force replaces the planted link, not what it points to" || fail "the planted file link was followed"

# --- verify, partial pull counted at the server, rm ----------------------------
sx verify -q "$key" && pass "verify of a tree key" || fail "verify of a tree key"
start_nginx
ALOG="$NGINX_DIR/access.log"
nkey=$(sx push -q "$T" --piece-size 64K --backend "${NGINX_URL}tree/") || fail "push DIR to nginx"
pieces=$(sx info --json "$nkey" | sed 's/.*"pieces":\([0-9]*\).*/\1/')
mark=$(wc -l < "$ALOG")
sx pull -q "$nkey" "$WORK/part" --include 'album/small/d2' --exclude '*/f1*' || fail "partial pull"
gets=$(tail -n +$((mark + 1)) "$ALOG" | grep -c '"GET /tree/')
# d2's 50 files minus f1, f10..f19: 39 × 4 KiB in about 4 pieces of 64 KiB, plus the manifest
[ "$gets" -le 6 ] && [ "$pieces" -ge 50 ] && pass "--include/--exclude fetched $gets of $pieces pieces (+ manifest)" ||
  fail "partial pull made $gets GETs of $pieces pieces"
other=$(diff -r "$T/small/d2" "$WORK/part/album/small/d2" 2>&1 | grep -v "^Only in $T/small/d2: f1")
[ "$(find "$WORK/part" -type f | wc -l)" -eq 39 ] && [ ! -e "$WORK/part/album/big.bin" ] && [ -z "$other" ] &&
  pass "the part pulled is exact and only it" || fail "partial pull wrote: $(find "$WORK/part" -type f | wc -l) files"
before=$(objects)
sx rm -q "$key" && [ "$(objects)" -lt "$before" ] && [ "$(objects)" -eq 0 ] && pass "rm of a tree key removes its objects" ||
  fail "rm left $(objects) objects"

# --- kill and rerun of a tree push: it resumes, re-checking what it finds ---------
R="$WORK/resume-src/set"
mkdir -p "$R/a" "$R/b"
for i in $(seq 1 8); do random_file "$R/a/f$i" 1048576; random_file "$R/b/g$i" $((1048576 + i)); done
for i in $(seq 1 300); do head -c 2000 /dev/urandom > "$R/b/small$i"; done
rpieces=$(( ( (16 * 1048576 + 36 + 300 * 2000) + 262143) / 262144 ))
rargs=(push --piece-size 256K --parallel 2 --no-catalogue --backend "${NGINX_URL}resume/")  # the rerun's
kargs=("${rargs[@]}" --bwlimit 4M)  # the run that is killed: slow enough to be caught mid-way
robjects() { find "$NGINX_DIR/data/resume" -type f 2>/dev/null | wc -l; }
robjects_at_least() { [ "$(robjects)" -ge "$1" ]; }
# killed_pull KEY DIR: a slow pull of KEY into DIR, SIGKILLed once 6 temp files
# are there and before the tree's last file (up to 3 attempts); 1 when none was.
killed_pull() {
  local attempt
  for attempt in 1 2 3; do
    rm -rf "$2"
    start_bg "$WORK/kpull.out" "$WORK/kpull.err" "$SX" pull --bwlimit 4M --parallel 2 "$1" "$2"
    interrupt_when KILL temps_at_least "$2" 6
    [ -n "$HIT" ] && [ "$RC" -eq 137 ] && [ ! -e "$2/set/b/small300" ] && return 0
  done
  return 1
}
temps_at_least() { [ "$(find "$1" -name '.sxtree-*' ! -name '*.journal' -type f 2>/dev/null | wc -l)" -ge "$2" ]; }
killed=
for attempt in 1 2 3; do
  rm -rf "$NGINX_DIR/data/resume" "$XDG_STATE_HOME/sxengine/push"
  start_bg "$WORK/tk.out" "$WORK/tk.err" "$SX" "${kargs[@]}" "$R"
  interrupt_when KILL robjects_at_least $((rpieces / 3))
  if [ -n "$HIT" ] && [ "$RC" -eq 137 ] && [ "$(robjects)" -lt "$rpieces" ]; then killed=1; break; fi
done
if [ -n "$killed" ]; then
  stored=$(robjects)
  pass "tree push killed mid-way ($stored of $rpieces pieces stored)"
  # One stored piece deleted, as a user or a lifecycle rule might: found, stored again.
  rm -f "$(find "$NGINX_DIR/data/resume" -type f | head -1)"
  mark=$(wc -l < "$ALOG")
  rkey=$(sx "${rargs[@]}" "$R" 2>"$WORK/tr.err") || fail "resumed tree push: $(shown "$WORK/tr.err")"
  puts=$(tail -n +$((mark + 1)) "$ALOG" | grep -c '"PUT /resume/')
  n=$(tr '\r' '\n' < "$WORK/tr.err" | sed -n 's/^sxengine: resuming: \([0-9]*\) of [0-9]* pieces already .*/\1/p' | head -1)
  [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$rpieces" ] && pass "the rerun resumes: $n of $rpieces pieces already stored" ||
    fail "the rerun did not resume: $(shown "$WORK/tr.err")"
  grep -q "1 piece(s) the push journal lists are not on" "$WORK/tr.err" && pass "the deleted piece is found missing and stored again" ||
    fail "the deleted piece was not noticed: $(shown "$WORK/tr.err")"
  [ "$puts" -lt $((rpieces - stored / 2)) ] && pass "the rerun stored $puts objects, not all $rpieces again" ||
    fail "the rerun stored $puts objects ($stored were already there)"
  rm -rf "$WORK/resume-out"
  sx pull -q "$rkey" "$WORK/resume-out" && diff -r "$R" "$WORK/resume-out/set" > /dev/null &&
    pass "the resumed tree key pulls back the tree (diff -r)" || fail "pull of the resumed tree key"
  [ -z "$(find "$XDG_STATE_HOME/sxengine/push" -type f 2>/dev/null)" ] && pass "no push journal left" || fail "a push journal is left"
else
  fail "no tree push was interrupted mid-way (nothing checked)"
fi
# Kill and rerun of a tree pull: finished files are re-read and reused, a
# tampered one is fetched again, the rest fetched, the tree exact.
if [ -n "${rkey:-}" ]; then
  if killed_pull "$rkey" "$WORK/pk"; then
    left=$(find "$WORK/pk" -name '.sxtree-*' ! -name '*.journal' -type f | wc -l)
    pass "tree pull killed mid-way ($left temp files and a journal left)"
    victim=$(find "$WORK/pk/set/a" -name '.sxtree-*' -type f -size 1024k | head -1)
    printf 'X' | dd of="$victim" bs=1 seek=4242 conv=notrunc status=none
    mark=$(wc -l < "$ALOG")
    sx pull "$rkey" "$WORK/pk" 2>"$WORK/pr.err" || fail "resumed tree pull: $(shown "$WORK/pr.err")"
    gets=$(tail -n +$((mark + 1)) "$ALOG" | grep -c '"GET /resume/')
    tr '\r' '\n' < "$WORK/pr.err" > "$WORK/pr.lines"
    grep -q "^sxengine: resuming: [1-9][0-9]* of $rpieces pieces already written" "$WORK/pr.lines" &&
      pass "the rerun resumes: $(grep -o 'resuming: [0-9]* of [0-9]*' "$WORK/pr.lines")" || fail "tree pull did not resume: $(shown "$WORK/pr.err")"
    grep -q "1 file(s) the journal lists do not match their temp files" "$WORK/pr.lines" &&
      pass "the tampered temp file is refused and fetched again" || fail "the tampered temp file was not noticed: $(shown "$WORK/pr.err")"
    [ "$gets" -lt "$rpieces" ] && pass "the rerun made $gets GETs (of $rpieces pieces + manifest)" ||
      fail "the resumed tree pull made $gets GETs"
    diff -r "$R" "$WORK/pk/set" > /dev/null && pass "the resumed tree pull is exact (diff -r)" || fail "the resumed tree pull differs"
    [ -z "$(find "$WORK/pk" -name '.sxtree-*')" ] && pass "no temp file or journal left" || fail "left: $(find "$WORK/pk" -name '.sxtree-*' | head -3)"
  else
    fail "no tree pull was interrupted mid-way (nothing checked)"
  fi
fi
# The same for an unencrypted tree: its SHA-256 tree is checked over every
# piece, those of the resumed files read back from their temp files.
pkey=$(sx push -q --no-encrypt --no-catalogue --piece-size 256K --backend "${NGINX_URL}resume-plain/" "$R") ||
  fail "push --no-encrypt of the tree"
if killed_pull "$pkey" "$WORK/pp"; then
  sx pull "$pkey" "$WORK/pp" 2>"$WORK/ppr.err" && tr '\r' '\n' < "$WORK/ppr.err" > "$WORK/ppr.lines" &&
    grep -q "^sxengine: resuming: [1-9]" "$WORK/ppr.lines" && diff -r "$R" "$WORK/pp/set" > /dev/null &&
    pass "an unencrypted tree pull resumes, its digest checked with the resumed files read back" ||
    fail "resumed unencrypted tree pull: $(shown "$WORK/ppr.err")"
else
  fail "no unencrypted tree pull was interrupted mid-way (nothing checked)"
fi
# An edit that keeps size and mtime, after a kill: the piece is stored again, never mixed.
for attempt in 1 2 3; do
  rm -rf "$NGINX_DIR/data/resume" "$XDG_STATE_HOME/sxengine/push"
  start_bg "$WORK/tk.out" "$WORK/tk.err" "$SX" "${kargs[@]}" "$R"
  interrupt_when KILL robjects_at_least $((rpieces / 2))
  [ -n "$HIT" ] && [ "$RC" -eq 137 ] && break
done
stamp=$(stat -c %y "$R/a/f1")
printf 'EDITED' | dd of="$R/a/f1" bs=1 seek=100 conv=notrunc status=none
touch -d "$stamp" "$R/a/f1"
ekey=$(sx "${rargs[@]}" "$R" 2>"$WORK/te.err") && tr '\r' '\n' < "$WORK/te.err" > "$WORK/te.lines" &&
  grep -q "^sxengine: resuming: " "$WORK/te.lines" && rm -rf "$WORK/resume-out" &&
  sx pull -q "$ekey" "$WORK/resume-out" && diff -r "$R" "$WORK/resume-out/set" > /dev/null &&
  pass "an edit with the same size and mtime after a kill: the resumed key pulls the edited tree" ||
  fail "edit after kill: $(shown "$WORK/te.err")"

# --- identical files are stored once -------------------------------------------------
D="$WORK/dup-src/dups"
mkdir -p "$D/x" "$D/y"
random_file "$D/x/one.bin" 700000
cp "$D/x/one.bin" "$D/y/copy1.bin"; cp "$D/x/one.bin" "$D/y/copy2.bin"
random_file "$D/x/same-size-other.bin" 700000
head -c 300 /dev/urandom > "$D/x/s"; cp "$D/x/s" "$D/y/s"
dkey=$(sx push --no-catalogue --piece-size 64K "$D" 2>"$WORK/dup.err") || fail "push of a tree with duplicates: $(shown "$WORK/dup.err")"
grep -q "3 file(s) identical to others are stored once (1400300 bytes not sent)" "$WORK/dup.err" &&
  pass "identical files are found (3, 1400300 bytes not sent)" || fail "duplicates: $(shown "$WORK/dup.err")"
dsize=$(sx info --json "$dkey" | sed 's/.*"size":\([0-9]*\).*/\1/')
[ "$dsize" -eq $((700000 * 2 + 300)) ] && pass "the stream holds each content once ($dsize bytes)" || fail "stream of $dsize bytes"
rm -rf "$WORK/dup-out" && sx pull -q "$dkey" "$WORK/dup-out" && diff -r "$D" "$WORK/dup-out/dups" > /dev/null &&
  pass "pull recreates every duplicate (diff -r)" || fail "pull of a tree with duplicates"
rm -rf "$WORK/dup-part" && sx pull -q "$dkey" "$WORK/dup-part" --include 'dups/y/copy2.bin' &&
  cmp -s "$D/x/one.bin" "$WORK/dup-part/dups/y/copy2.bin" && [ ! -e "$WORK/dup-part/dups/x/one.bin" ] &&
  pass "a duplicate pulled alone comes from its original's bytes" || fail "partial pull of a duplicate"
rm -rf "$WORK/dup-part" && sx pull -q "$dkey" "$WORK/dup-part" --include 'dups/y/*' &&
  diff -r "$D/y" "$WORK/dup-part/dups/y" > /dev/null && pass "two duplicates of one original, without it" ||
  fail "partial pull of two duplicates"
sx verify -q "$dkey" && pass "verify of a tree with duplicates" || fail "verify of a tree with duplicates"

# --- PATH lists -------------------------------------------------------------------
(cd "$T" && printf 'big.bin\0small/d4\0' > "$WORK/list0")
lkey=$(cd "$T" && sx push -q --files-from "$WORK/list0" -0) || fail "push --files-from -0"
[ "$(sx ls "$lkey" | head -3 | tr '\n' ' ')" = "big.bin d4/ d4/f1 " ] && pass "--files-from -0: each PATH a top-level entry" ||
  fail "--files-from: $(sx ls "$lkey" | head -3 | tr '\n' ' ')"
expect_fail "two PATHs of one name are refused" "two PATHs are named" sx push -q "$T/small/d1" "$WORK/out/album/small/d1"
mkdir "$WORK/e" && ekey=$(sx push -q "$WORK/e") && sx pull -q "$ekey" "$WORK/e-out" && [ -d "$WORK/e-out/e" ] &&
  pass "an empty directory is a tree of one entry" || fail "empty directory"

# --- hostile tree manifests -------------------------------------------------------
pkey=$(sx push -q --no-encrypt --compress none "$T" --piece-size 256K) || fail "plain tree push"
root=${pkey#file://}
mkdir -p "$WORK/h/victim"
for case in dotdot absolute link-then-child duplicate file-then-child outside-stream; do
  evil="$(dirname "$root")/evil-$case.png"
  "$PY" "$ROOT/test/integration/tree_manifest.py" "$root" "$evil" "$case" "$WORK/h/victim" || { fail "cannot make $case"; continue; }
  rm -rf "$WORK/h/out"
  expect_fail "hostile tree ($case) is refused" "manifest is invalid" sx pull -q "file://$evil" "$WORK/h/out"
  found=$(ls -A "$WORK/h/victim"; for f in "$WORK/h/escaped" /tmp/escaped; do [ -e "$f" ] && echo "$f"; done)
  [ -z "$found" ] && [ -z "$(find "$WORK/h/out" -type f 2>/dev/null)" ] && pass "$case: nothing written" ||
    fail "$case wrote: $found"
done

finish
