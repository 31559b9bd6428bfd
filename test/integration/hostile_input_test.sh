# Hostile input: damaged, missing and truncated pieces, keys that are not
# download keys, a PNG whose IHDR claims 100000x100000 pixels, forged manifests
# (path traversal, control characters, pieces that do not add up, wrong
# checksums), an output directory that does not exist, interrupts and bad CLI
# usage. Every failure must be one clear line, exit status 1 (2 for usage),
# and leave nothing under the output name and no .*.sxpart-* temp file.
source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac  # some cases cd elsewhere
need /usr/bin/python3 /usr/bin/time

OUT="$WORK/out"        # every failing pull writes (or rather, must not write) here
mkdir -p "$OUT"

# Reads and forges pieces independently of sxengine (Pillow + zlib only).
cat > "$WORK/piece.py" <<'EOF'
import json, struct, sys, zlib
from PIL import Image

HDR = 32  # magic, version, flags, header size, index, payload length, payload CRC, header CRC

def pixels(path):
    return Image.open(path).convert('RGB').tobytes()

def read_piece(path):
    b = pixels(path)
    magic, ver, flags, hsize, index, n, pcrc, hcrc = struct.unpack('<4sBBHQQII', b[:HDR])
    assert magic == b'SXPC' and zlib.crc32(b[:28]) == hcrc, 'not an sxengine piece: ' + path
    return flags, index, b[hsize:hsize + n]

def write_piece(path, payload, flags=1, index=0, width=256):
    h = struct.pack('<4sBBHQQI', b'SXPC', 2, flags, HDR, index, len(payload), zlib.crc32(payload))
    data = h + struct.pack('<I', zlib.crc32(h)) + payload
    rows = -(-len(data) // (3 * width))
    data += b'\0' * (rows * width * 3 - len(data))
    Image.frombytes('RGB', (width, rows), data).save(path, 'PNG')  # filters + zlib

def manifest(key_path):
    flags, index, payload = read_piece(key_path)
    assert flags & 1, 'not a manifest'
    return json.loads(payload)

def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == 'piece':       # piece KEY_PATH N: prints the local path of piece N
    print(manifest(args[0])['pieces'][int(args[1])]['key'][len('file://'):])
elif cmd == 'forge':     # forge KEY_PATH OUT_PNG STATEMENT: m = manifest; exec; write
    m = manifest(args[0])
    exec(args[2])
    write_piece(args[1], json.dumps(m).encode())
elif cmd == 'write':     # write OUT_PNG JSON: a manifest piece holding JSON
    write_piece(args[0], args[1].encode())
elif cmd == 'damage':    # damage PNG BYTE: flip one payload byte, save a valid PNG again
    im = Image.open(args[0])
    b = bytearray(im.convert('RGB').tobytes())
    b[int(args[1])] ^= 0x55
    Image.frombytes('RGB', im.size, bytes(b)).save(args[0], 'PNG')
elif cmd == 'flip':      # flip FILE: flip the middle byte of the file itself
    b = bytearray(open(args[0], 'rb').read())
    b[len(b) // 2] ^= 0xff
    open(args[0], 'wb').write(b)
elif cmd == 'ihdr':      # ihdr OUT W H: signature, IHDR (RGB8), a small IDAT, IEND
    w, h = int(args[1]), int(args[2])
    open(args[0], 'wb').write(b'\x89PNG\r\n\x1a\n' +
        chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
        chunk(b'IDAT', zlib.compress(b'\0' * 4096)) + chunk(b'IEND', b''))
EOF
piece() { "$PY" "$WORK/piece.py" "$@"; }
in_dir() { (cd "$1" && shift && "$@"); }  # in_dir DIR CMD...

# run_logged CMD...: runs CMD, keeping its stderr in $WORK/last.err as well.
run_logged() {
  local rc=0
  "$@" 2>"$WORK/last.err" || rc=$?
  cat "$WORK/last.err" >&2
  return $rc
}

# no_leftovers WHAT PATH: nothing at PATH, no temp file beside it.
no_leftovers() {
  local dir
  dir=$(dirname "$2")
  if [ -e "$2" ]; then fail "$1: $2 was left behind"; rm -f "$2"; fi  # keep later cases independent
  if [ -d "$dir" ] && [ -n "$(find "$dir" -maxdepth 1 -name '.*.sxpart-*' -print -quit)" ]; then
    fail "$1: a temp file was left in $dir: $(find "$dir" -maxdepth 1 -name '.*.sxpart-*' | head -1)"
    find "$dir" -maxdepth 1 -name '.*.sxpart-*' -delete
  fi
}

# expect_error WHAT PATTERN OUTPATH CMD...: exit 1, PATTERN in stderr, exactly one
# line "sxengine: error: ..." without control characters, nothing at OUTPATH.
expect_error() {
  local what=$1 pattern=$2 path=$3; shift 3
  : > "$WORK/last.err"
  expect_fail "$what" "$pattern" run_logged "$@"
  local lines shown
  lines=$(wc -l < "$WORK/last.err")
  shown=$(head -c 300 "$WORK/last.err" | tr '\n' '|' | cat -v)
  if [ ! -s "$WORK/last.err" ]; then
    :  # expect_fail has already reported it
  elif [ "$lines" -ne 1 ] || ! head -1 "$WORK/last.err" | grep -q '^sxengine: error: '; then
    fail "$what: expected one line 'sxengine: error: ...', got $lines lines: $shown"
  elif tr -d '\n' < "$WORK/last.err" | LC_ALL=C grep -q '[[:cntrl:]]'; then
    fail "$what: control characters in the error: $shown"
  fi
  no_leftovers "$what" "$path"
}

# expect_usage WHAT CMD...: exit status 2 and something on stderr.
expect_usage() {
  local what=$1 rc=0; shift
  "$@" >/dev/null 2>"$WORK/usage.err" || rc=$?
  if [ "$rc" -ne 2 ]; then fail "$what: exit $rc, expected 2 ($(tail -1 "$WORK/usage.err"))"
  elif [ ! -s "$WORK/usage.err" ]; then fail "$what: exit 2 but no message"
  else pass "$what"; fi
}

# push_fresh NAME: a fresh 300000-byte file in 3 pieces of 100000 (its own
# pieces, so damaging them does not disturb other cases); sets KEY, KEYPNG, SRC.
push_fresh() {
  SRC="$WORK/$1"
  random_file "$SRC" 300000
  KEY=$("$SX" push -q --no-encrypt --compress none --piece-size 100000 "$SRC") || { echo "FAIL: push of $1" >&2; exit 1; }
  KEYPNG=${KEY#file://}
}

# ---- Damaged store --------------------------------------------------------

# A byte flipped in the middle of a stored data piece (PNG chunk CRC breaks).
push_fresh flip.bin
p=$(piece piece "$KEYPNG" 1)
piece flip "$p"
expect_error "flipped byte in piece 1" "piece 1" "$OUT/flip" "$SX" pull -q "$KEY" "$OUT/flip"

# A payload byte changed but the PNG re-encoded validly: the piece CRC must catch it.
push_fresh payload.bin
p=$(piece piece "$KEYPNG" 2)
piece damage "$p" 5000
expect_error "valid PNG, damaged payload in piece 2" "piece 2" "$OUT/payload" "$SX" pull -q "$KEY" "$OUT/payload"

# A piece deleted from the store.
push_fresh missing.bin
p=$(piece piece "$KEYPNG" 1)
rm -f "$p"
expect_error "missing piece 1" "piece 1" "$OUT/missing" "$SX" pull -q "$KEY" "$OUT/missing"

# A piece truncated to half its size.
push_fresh trunc.bin
p=$(piece piece "$KEYPNG" 0)
truncate -s $(($(stat -c %s "$p") / 2)) "$p"
expect_error "truncated piece 0" "piece 0" "$OUT/trunc" "$SX" pull -q "$KEY" "$OUT/trunc"

# The same failures with no OUT: nothing under the stored name in the current directory.
mkdir -p "$WORK/cwd-trunc"
expect_error "truncated piece, pull into ." "piece 0" "$WORK/cwd-trunc/trunc.bin" in_dir "$WORK/cwd-trunc" "$SX" pull -q "$KEY"
[ -z "$(ls -A "$WORK/cwd-trunc")" ] || fail "pull into . left $(ls -A "$WORK/cwd-trunc")"

# ---- Keys that are not download keys ---------------------------------------

push_fresh good.bin
GOODKEY=$KEY GOODPNG=$KEYPNG GOOD=$SRC
expect_error "key that does not exist" "nope.png" "$OUT/nokey" "$SX" pull -q "file://$WORK/nope.png" "$OUT/nokey"
expect_error "key that is not a URL" "not a download key" "$OUT/noturl" "$SX" pull -q "$GOODPNG" "$OUT/noturl"
expect_error "key that is plain words" "not a download key" "$OUT/words" "$SX" pull -q "hello world" "$OUT/words"
expect_error "empty key" "a download key is required" "$OUT/empty" "$SX" pull -q "" "$OUT/empty"
expect_error "key is a data piece" "data piece" "$OUT/datakey" "$SX" pull -q "file://$(piece piece "$GOODPNG" 0)" "$OUT/datakey"
expect_error "info on a data piece" "data piece" "$OUT/none" "$SX" info "file://$(piece piece "$GOODPNG" 0)"
expect_error "key is not a PNG" "not a PNG" "$OUT/notpng" "$SX" pull -q "file://$GOOD" "$OUT/notpng"
expect_error "key is a directory" "directory" "$OUT/dirkey" "$SX" pull -q "file://$WORK" "$OUT/dirkey"

# A PNG whose IHDR claims 100000x100000 RGB pixels (30 GB decoded): refused
# from the header, quickly, without allocating.
piece ihdr "$WORK/huge.png" 100000 100000
expect_error "100000x100000 IHDR as key" "limit" "$OUT/huge" \
  /usr/bin/time -f %M -o "$WORK/huge.rss" timeout 10 "$SX" pull -q "file://$WORK/huge.png" "$OUT/huge"
rss=$(tail -1 "$WORK/huge.rss")
[ "${rss:-999999}" -lt 100000 ] && pass "100000x100000 IHDR: max RSS ${rss} KB" || fail "100000x100000 IHDR: max RSS ${rss} KB"
piece ihdr "$WORK/tall.png" 1 2000000000
expect_error "1x2000000000 IHDR as key" "limit" "$OUT/tall" timeout 10 "$SX" pull -q "file://$WORK/tall.png" "$OUT/tall"

# ---- Forged manifests --------------------------------------------------------
# forge STATEMENT: writes $WORK/forged.png from the good manifest with
# STATEMENT applied to it (as m); sets FKEY.
FKEY="file://$WORK/forged.png"
forge() { piece forge "$GOODPNG" "$WORK/forged.png" "$1" || { fail "could not forge: $1"; return 1; }; }

# Path traversal in the stored name: written as x inside the current directory only.
forge "m['name'] = '../../x'"
mkdir -p "$WORK/jail/a/b"
if (cd "$WORK/jail/a/b" && "$SX" pull -q "$FKEY"); then
  same_file "$GOOD" "$WORK/jail/a/b/x" "name ../../x is written as ./x"
else
  fail "pull of a manifest named ../../x failed"
fi
[ ! -e "$WORK/jail/a/x" ] && [ ! -e "$WORK/jail/x" ] && [ ! -e "$WORK/x" ] && pass "nothing written at ../x or ../../x" ||
  fail "name ../../x escaped the directory"
[ "$(ls -A "$WORK/jail/a/b")" = x ] || fail "../../x: the directory holds $(ls -A "$WORK/jail/a/b")"

# Names that must be sanitized: control characters and a slash, an absolute
# path, "..", ".", empty. Each writes one file, inside the directory, with no
# control character and no slash in its name.
n=0
for stmt in "m['name'] = 'evil\\x1b[31m/na\\nme\\x07'" \
            "m['name'] = '$WORK/absolute-target'" \
            "m['name'] = '..'" "m['name'] = '.'" "m['name'] = ''" "m['name'] = 'a\\\\b'" \
            "m['name'] = '-rf'"; do
  n=$((n + 1))
  forge "$stmt" || continue
  dir="$WORK/names/$n"
  mkdir -p "$dir"
  if (cd "$dir" && "$SX" pull -q "$FKEY" 2>"$WORK/names.err"); then
    got=$(ls -A "$dir")
    if [ "$(ls -A "$dir" | wc -l)" -ne 1 ]; then fail "name [$stmt]: wrote $(ls -A "$dir" | wc -l) entries"
    elif printf '%s' "$got" | LC_ALL=C grep -q '[[:cntrl:]]'; then fail "name [$stmt]: control characters kept in [$got]"
    elif case "$got" in .* | -*) true ;; *) false ;; esac; then fail "name [$stmt]: hidden or option-like name [$got]"
    else same_file "$GOOD" "$dir/$got" "name [$stmt] sanitized to [$got]"; fi
  else
    # A clear refusal is acceptable too.
    [ "$(wc -l < "$WORK/names.err")" -eq 1 ] && pass "name [$stmt] refused: $(cat "$WORK/names.err")" ||
      fail "name [$stmt]: unclear error: $(cat "$WORK/names.err")"
  fi
done
[ ! -e "$WORK/absolute-target" ] && pass "absolute name not honoured" || fail "absolute name written at $WORK/absolute-target"

# Manifests whose pieces do not add up, or that lie.
bad_manifest() {  # bad_manifest WHAT PATTERN STATEMENT
  forge "$3" || return
  expect_error "forged manifest: $1" "$2" "$OUT/forged" "$SX" pull -q "$FKEY" "$OUT/forged"
}
bad_manifest "piece sizes exceed the file size" "invalid" "m['size'] = 299999"
bad_manifest "piece sizes short of the file size" "invalid" "m['size'] = 300001"
bad_manifest "piece 1 one byte short" "invalid" "m['pieces'][1]['size'] = 99999"
bad_manifest "duplicate index" "invalid" "m['pieces'][1]['index'] = 0"
bad_manifest "indices swapped" "invalid" "m['pieces'][1]['index'], m['pieces'][2]['index'] = 2, 1"
bad_manifest "offset gap" "invalid" "m['pieces'][1]['offset'] = 100001"
bad_manifest "duplicated piece entry" "invalid" "m['pieces'][1] = dict(m['pieces'][0])"
bad_manifest "a piece missing" "invalid" "m['pieces'].pop()"
bad_manifest "an extra piece" "invalid" "m['pieces'].append(dict(m['pieces'][2], index=3, offset=300000))"
bad_manifest "piece larger than piece_size" "invalid" \
  "m['size'] = 10**15; m['pieces'] = [dict(m['pieces'][0], size=10**15)]"
bad_manifest "size near 2^64" "invalid" "m['size'] = 2**64 - 1; m['pieces'][2]['size'] = 2**64 - 1 - 200000"
bad_manifest "negative size" "invalid" "m['size'] = -1"
bad_manifest "size as a string" "invalid" "m['size'] = '300000'"
bad_manifest "no pieces field" "invalid" "del m['pieces']"
bad_manifest "geometry over the limits" "limit" "m['width'] = 100000"
bad_manifest "unknown version" "version" "m['version'] = 3"
bad_manifest "unknown format" "format" "m['format'] = 'other'"
bad_manifest "unknown checksum algorithm" "checksum" "m['checksum'] = 'md5'"
bad_manifest "wrong whole-file sha256" "SHA-256" "m['sha256'] = '0' * 64"
bad_manifest "wrong piece checksum" "piece 1" "m['pieces'][1]['checksum'] = '00000000'"
bad_manifest "piece keys swapped" "piece [01] " \
  "a, b = m['pieces'][0], m['pieces'][1]; a['key'], b['key'] = b['key'], a['key']; a['checksum'], b['checksum'] = b['checksum'], a['checksum']"
bad_manifest "piece key is the manifest itself" "piece 1" "m['pieces'][1]['key'] = 'file://$WORK/forged.png'"
bad_manifest "piece key is relative" "piece 1" "m['pieces'][1]['key'] = 'piece.png'"
bad_manifest "piece key is the huge IHDR" "piece 1" "m['pieces'][1]['key'] = 'file://$WORK/huge.png'"
# Strings from a manifest must not reach the terminal raw (one line, no escapes).
bad_manifest "format with a newline and ESC" "format" "m['format'] = 'x\\ny\\x1b[2J'"
bad_manifest "piece key with a newline and ESC" "piece 1" "m['pieces'][1]['key'] = 'file:///nonexistent\\nline2\\x1b[31m'"

# What vouches for the whole file (docs/FORMAT.md §4). A manifest as sxengine
# wrote it before the "digest" field (the whole file's SHA-256 only) still
# pulls; a wrong SHA-256 or SHA-256 tree fails the pull.
real_sha=$(sha256sum "$GOOD" | cut -d' ' -f1)
forge "m.pop('digest', None); m.pop('sha256_tree', None); m['sha256'] = '$real_sha'" &&
  "$SX" pull -q "$FKEY" "$OUT/legacy" && same_file "$GOOD" "$OUT/legacy" "a manifest from before the digest field pulls"
rm -f "$OUT/legacy"
bad_manifest "whole-file SHA-256 of an older manifest is wrong" "SHA-256 mismatch" \
  "m.pop('digest', None); m.pop('sha256_tree', None); m['sha256'] = '0' * 64"
bad_manifest "the pieces' SHA-256 tree is wrong" "SHA-256 tree does not match" "m['sha256_tree'] = '1' * 64"
bad_manifest "an unknown digest" "unknown" "m['digest'] = 'md5'"
bad_manifest "digest aead for an unencrypted file" "needs an encrypted file" "m['digest'] = 'aead'"

# Sizes a manifest claims are checked before anything is sized for them: a
# compressed piece claiming 2^40 bytes is refused without allocating it or
# sizing a 1 TiB temp file (exit 4, small peak memory, nothing left behind).
forge "m['piece_size'] = 2**40; m['size'] = 2**40; m['pieces'] = [dict(m['pieces'][0], size=2**40)]" &&
  expect_exit 4 "forged manifest: a piece claiming 2^40 bytes" "more than its" \
    /usr/bin/time -f '%M' -o "$WORK/claim.rss" "$SX" pull -q "$FKEY" "$OUT/claim"
rss=$(tail -1 "$WORK/claim.rss" 2>/dev/null || echo 0)
[ "$rss" -lt 65536 ] && pass "2^40 claim: peak RSS $rss KiB" || fail "2^40 claim: peak RSS $rss KiB"
no_leftovers "2^40 claim" "$OUT/claim"

# An index listing one slice six times is refused before any slice is fetched.
slice='{"key":"file:///nonexistent/slice.png","size":1000,"checksum":"00000000"}'
piece write "$WORK/repeat.png" "{\"format\":\"sxengine-manifest-index\",\"version\":2,\"total_bytes\":6000,\"slices\":[$slice,$slice,$slice,$slice,$slice,$slice]}"
expect_exit 4 "an index repeating one slice" "twice" "$SX" pull -q "file://$WORK/repeat.png" "$OUT/repeat"
no_leftovers "an index repeating one slice" "$OUT/repeat"

# ---- Output paths -------------------------------------------------------------

expect_error "output directory does not exist" "does not exist" "$WORK/nodir/out" \
  "$SX" pull -q "$GOODKEY" "$WORK/nodir/out"
[ ! -e "$WORK/nodir" ] || fail "pull created $WORK/nodir"
expect_error "output under a regular file" "is not a directory" "$WORK/good.bin/out" \
  "$SX" pull -q "$GOODKEY" "$WORK/good.bin/out"
"$SX" pull -q "$GOODKEY" "$OUT/keep" && cp "$OUT/keep" "$WORK/keep.orig"
expect_fail "existing output without --force" "exists" "$SX" pull -q "$GOODKEY" "$OUT/keep"
same_file "$WORK/keep.orig" "$OUT/keep" "existing output left intact"
rm -f "$OUT/keep"
# A failing --force pull leaves the existing file as it was.
push_fresh force.bin
printf 'precious\n' > "$OUT/precious"
rm -f "$(piece piece "$KEYPNG" 2)"
expect_fail "failing pull --force" "piece 2" "$SX" pull -q --force "$KEY" "$OUT/precious"
[ "$(cat "$OUT/precious")" = precious ] && pass "failing pull --force keeps the old file" || fail "failing pull --force clobbered the old file"
no_leftovers "failing pull --force" "$OUT/never"
rm -f "$OUT/precious"

# ---- Interrupted pull: SIGINT and SIGTERM remove the temp file ---------------------

random_file "$WORK/long.bin" 256000000
LONGKEY=$("$SX" push -q --no-encrypt --compress none --piece-size 1M "$WORK/long.bin")
rm -f "$WORK/long.bin"
for sig in INT TERM; do
  "$SX" pull -q --workers 1 "$LONGKEY" "$OUT/long" 2>"$WORK/sig.err" &
  pid=$!
  for ((i = 0; i < 500; i++)); do
    [ -n "$(find "$OUT" -maxdepth 1 -name '.long.sxpart-*' -print -quit)" ] && break
    sleep 0.01
  done
  kill -"$sig" "$pid" 2>/dev/null
  rc=0
  wait "$pid" || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "note: SIG$sig came after the pull finished; nothing to check" >&2
    rm -f "$OUT/long"
    continue
  fi
  want=$((128 + $(kill -l "$sig")))  # 130 for INT, 143 for TERM, as shells expect
  [ "$rc" -eq "$want" ] && grep -q interrupted "$WORK/sig.err" && [ "$(wc -l < "$WORK/sig.err")" -eq 1 ] &&
    pass "SIG$sig during pull: exit $rc, $(cat "$WORK/sig.err")" || fail "SIG$sig during pull: exit $rc (expected $want): $(cat "$WORK/sig.err")"
  # Nothing under the final name; the hidden temp file and journal stay for a
  # resume, and the same command then completes leaving only the file.
  [ ! -e "$OUT/long" ] && pass "SIG$sig during pull: nothing under the final name" || fail "SIG$sig: $OUT/long exists"
  [ -n "$(find "$OUT" -maxdepth 1 -name '.long.sxjournal-*' -print -quit)" ] &&
    pass "SIG$sig during pull: its journal is kept for a resume" || fail "SIG$sig during pull: no journal kept"
  "$SX" pull -q "$LONGKEY" "$OUT/long" 2>"$WORK/resume.err" && [ -s "$OUT/long" ] &&
    pass "SIG$sig during pull: the same pull then completes" || fail "SIG$sig: resume failed: $(cat "$WORK/resume.err")"
  rm -f "$OUT/long"
  no_leftovers "SIG$sig during pull, then resumed" "$OUT/long"
  [ -z "$(find "$OUT" -maxdepth 1 -name '.long.sxjournal-*' -print -quit)" ] || fail "SIG$sig: a journal outlived the resume"
done

# ---- Bad CLI usage: exit status 2 -----------------------------------------------

expect_usage "no subcommand" "$SX"
expect_usage "unknown subcommand" "$SX" frobnicate
expect_usage "unknown flag" "$SX" push --bogus "$GOOD"
expect_usage "unknown pull flag" "$SX" pull --bogus "$GOODKEY"
expect_usage "push without FILE" "$SX" push -q --no-encrypt --compress none
expect_usage "pull without KEY" "$SX" pull -q
expect_usage "info without KEY" "$SX" info
expect_usage "--piece-size without a value" "$SX" push -q --no-encrypt --compress none "$GOOD" --piece-size
expect_usage "--piece-size 0" "$SX" push -q --no-encrypt --compress none --piece-size 0 "$GOOD"
expect_usage "--piece-size garbage" "$SX" push -q --no-encrypt --compress none --piece-size 12xyz "$GOOD"
expect_usage "--piece-size over the maximum" "$SX" push -q --no-encrypt --compress none --piece-size 1G "$GOOD"
expect_usage "--width without --height" "$SX" push -q --no-encrypt --compress none --width 100 "$GOOD"
expect_usage "--width 0" "$SX" push -q --no-encrypt --compress none --width 0 --height 10 "$GOOD"
expect_usage "--parallel 0" "$SX" pull -q --parallel 0 "$GOODKEY"
expect_usage "--level 13" "$SX" push -q --no-encrypt --compress none --level 13 "$GOOD"
expect_usage "pull with three positionals" "$SX" pull -q "$GOODKEY" "$OUT/a" "$OUT/b"
no_leftovers "bad usage" "$OUT/a"
expect_error "push of a missing file" "nonexistent" "$OUT/none" "$SX" push -q --no-encrypt --compress none "$WORK/nonexistent"

finish
