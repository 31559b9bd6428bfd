# push --format storagex-v1: what sxengine writes in the 2017 format is read
# back by sxengine pull and by an independent, strict storagex v1 reader
# (Pillow alone, test/servers/storagex_v1_reader.py); the options the format
# cannot carry are refused with one line and exit 2.
source "$(dirname "$0")/lib.sh"
need /usr/bin/python3
READER="$ROOT/test/servers/storagex_v1_reader.py"

: > "$WORK/empty.bin"
seq 1 20000 | sed 's/$/ lines of text/' > "$WORK/text.txt"
random_file "$WORK/random3m.bin" 3000000
random_file "$WORK/exact.bin" $((100 * 100 * 3 - 4))  # exactly one chunk of 100x100
for f in empty.bin text.txt random3m.bin exact.bin; do
  for geometry in "" "--width 600 --height 600" "--width 100 --height 100"; do
    tag="storagex-v1 $f${geometry:+ $geometry}"
    store="$WORK/store-$f-${geometry// /}"
    # shellcheck disable=SC2086  # geometry is two words or none
    key=$("$SX" push -q --format storagex-v1 $geometry --backend "dir:$store" "$WORK/$f") ||
      { fail "$tag: push failed"; continue; }
    "$SX" pull -q "$key" "$store.out" && same_file "$WORK/$f" "$store.out" "$tag: sxengine pull is byte-identical" ||
      fail "$tag: pull failed"
    if "$PY" "$READER" "$key" "$store.v1" 2>"$WORK/reader.err"; then
      same_file "$WORK/$f" "$store.v1" "$tag: the independent storagex v1 reader rebuilds it"
    else
      fail "$tag: storagex v1 reader: $(cat "$WORK/reader.err")"
    fi
    "$SX" info "$key" | grep -q "^format: *storagex v1" || fail "$tag: info does not say storagex v1"
  done
done

expect_line 2 "--format storagex-v1 refuses --passphrase" "unencrypted" \
  "$SX" push --format storagex-v1 --passphrase secret --backend "dir:$WORK/refused" "$WORK/text.txt"
expect_line 2 "--format storagex-v1 refuses --sha256" "sha256" \
  "$SX" push --format storagex-v1 --sha256 --backend "dir:$WORK/refused" "$WORK/text.txt"
expect_line 2 "--format storagex-v1 refuses --compress zstd" "zstd" \
  "$SX" push --format storagex-v1 --compress zstd --backend "dir:$WORK/refused" "$WORK/text.txt"
expect_line 2 "--format storagex-v1 refuses --piece-size" "width/--height" \
  "$SX" push --format storagex-v1 --piece-size 1M --backend "dir:$WORK/refused" "$WORK/text.txt"
expect_line any "a meta too big for one image is refused" "does not fit one 20x20 image" \
  "$SX" push -q --format storagex-v1 --width 20 --height 20 --backend "dir:$WORK/big" "$WORK/text.txt"
expect_line 2 "--format storagex-v1 refuses a 1x1 image" "cannot hold its 4-byte length" \
  "$SX" push -q --format storagex-v1 --width 1 --height 1 --backend "dir:$WORK/tiny" "$WORK/text.txt"
[ ! -e "$WORK/refused" ] && pass "refused pushes stored nothing" || fail "a refused push created $WORK/refused"
"$SX" push --help | tr -s ' \n' ' ' | grep -q "storagex-v1.*unencrypted" &&
  pass "push --help says storagex-v1 is unencrypted" || fail "push --help lacks the storagex-v1 note"

finish
