# Compatibility: keys written by storagex v1 (2017) pull byte-identical; pieces
# re-encoded by other encoders (Pillow with other filters and zlib, RGBA,
# 16-bit, optipng with palettes and reduced bit depths, Adam7 interlace) still
# pull; every PNG sxengine writes passes pngcheck, opens in Pillow as RGB, holds
# only IHDR, IDAT, IEND and decodes, with Pillow alone, to the documented format.
source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac  # some cases cd elsewhere
need /usr/bin/python3 pngcheck optipng

V1="$ROOT/test/servers/storagex_v1_writer.py"

# ---- storagex v1 read compatibility ------------------------------------------------

: > "$WORK/empty.bin"
seq 1 20000 | sed 's/$/ lines of text/' > "$WORK/text.txt"
random_file "$WORK/random5m.bin" 5000000
for f in empty.bin text.txt random5m.bin; do
  for geometry in "" "--width 600 --height 600"; do
    tag="v1 $f${geometry:+ $geometry}"
    dir="$WORK/v1/$f${geometry:+-600}"
    # shellcheck disable=SC2086  # geometry is two words or none
    key=$("$PY" "$V1" "$WORK/$f" "$dir" $geometry) || { fail "$tag: storagex_v1_writer.py failed"; continue; }
    case "$key" in file://*/meta.png) ;; *) fail "$tag: writer printed $key"; continue ;; esac
    "$SX" info "$key" > "$WORK/info.txt" 2>&1 || { fail "$tag: info failed: $(cat "$WORK/info.txt")"; continue; }
    grep -q "storagex v1" "$WORK/info.txt" && pass "$tag: info says storagex v1" || fail "$tag: info: $(cat "$WORK/info.txt")"
    grep -q "^name: *$f\$" "$WORK/info.txt" || fail "$tag: info lacks the name: $(head -1 "$WORK/info.txt")"
    out="$WORK/v1-out/$f${geometry:+-600}"
    mkdir -p "$(dirname "$out")"
    "$SX" pull -q "$key" "$out" && same_file "$WORK/$f" "$out" "$tag: pull is byte-identical" || fail "$tag: pull failed"
  done
done
# v1 with no OUT: the stored filename, in the current directory.
mkdir -p "$WORK/v1-cwd"
(cd "$WORK/v1-cwd" && "$SX" pull -q "file://$WORK/v1/text.txt/meta.png") &&
  same_file "$WORK/text.txt" "$WORK/v1-cwd/text.txt" "v1 pull with no OUT uses the stored filename" ||
  fail "v1 pull with no OUT"
"$SX" info --json "file://$WORK/v1/random5m.bin-600/meta.png" | grep -q '"format":"storagex v1".*' &&
  "$SX" info --json "file://$WORK/v1/random5m.bin-600/meta.png" | grep -q '"pieces":5' &&
  pass "v1 info --json: format and 5 pieces of 600x600" || fail "v1 info --json: $("$SX" info --json "file://$WORK/v1/random5m.bin-600/meta.png")"

# ---- Pieces re-encoded by other encoders --------------------------------------------
# Each case pushes the same ~3 MB random file into a fresh store, rewrites every
# PNG of that store in place (the key is the manifest's path, so it stays valid),
# and pulls.

cat > "$WORK/reencode.py" <<'EOF'
import struct, sys, zlib
from PIL import Image

def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

def rgb16(path):  # lossless 8 -> 16 bit (v * 257), filter None, zlib level 6
    im = Image.open(path).convert('RGB')
    w, h = im.size
    px = im.tobytes()
    rows = b''.join(b'\0' + bytes(b for v in px[y * w * 3:(y + 1) * w * 3] for b in (v, v))
                    for y in range(h))
    png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, 2, 0, 0, 0)) +
           chunk(b'IDAT', zlib.compress(rows, 6)) + chunk(b'IEND', b''))
    open(path, 'wb').write(png)

mode = sys.argv[1]
for p in sys.argv[2:]:
    if mode == 'rgb16':
        rgb16(p)
        continue
    im = Image.open(p)
    im.load()
    if mode == 'optimize':
        im.save(p, optimize=True)
    elif mode == 'level1':
        im.save(p, compress_level=1)
    elif mode == 'rgba':
        im.convert('RGBA').save(p, optimize=True)
EOF

# reencoded NAME SIZE MAKE_INPUT CMD...: fresh store, push, run CMD on every
# PNG of the store (appended as arguments), pull, compare.
reencoded() {
  local name=$1 size=$2; shift 2
  local src="$WORK/re-$name.in"
  export XDG_DATA_HOME="$WORK/store-$name"
  if [ "$size" = text ]; then seq 1 400000 > "$src"; else random_file "$src" "$size"; fi
  local key
  key=$("$SX" push -q --no-encrypt --compress none --piece-size 500000 "$src") || { fail "re-encode $name: push failed"; return; }
  local before after
  before=$(find "$XDG_DATA_HOME" -name '*.png' -exec cat {} + | sha256sum)
  find "$XDG_DATA_HOME" -name '*.png' -print0 | xargs -0 "$@" || { fail "re-encode $name: $1 failed"; return; }
  after=$(find "$XDG_DATA_HOME" -name '*.png' -exec cat {} + | sha256sum)
  [ "$before" != "$after" ] || { fail "re-encode $name: $1 changed nothing"; return; }
  if "$SX" pull -q "$key" "$WORK/re-$name.out" 2>"$WORK/re.err"; then
    same_file "$src" "$WORK/re-$name.out" "pieces re-encoded ($name) still pull byte-identical"
  else
    fail "pieces re-encoded ($name): pull failed: $(cat "$WORK/re.err")"
  fi
  rm -rf "$XDG_DATA_HOME" "$src" "$WORK/re-$name.out"
}

reencoded pillow-optimize 3000000 "$PY" "$WORK/reencode.py" optimize
reencoded pillow-level1 3000000 "$PY" "$WORK/reencode.py" level1
reencoded pillow-rgba 3000000 "$PY" "$WORK/reencode.py" rgba
reencoded pillow-rgba-text text "$PY" "$WORK/reencode.py" rgba
reencoded rgb16-text text "$PY" "$WORK/reencode.py" rgb16
reencoded optipng 3000000 optipng -o2 -quiet
reencoded optipng-text text optipng -o2 -quiet
reencoded optipng-interlaced 3000000 optipng -o1 -i1 -quiet
# optipng must have used its reductions somewhere for the above to mean anything.
export XDG_DATA_HOME="$WORK/store-reduce"
printf 'hello\n' > "$WORK/hello.txt"
key=$("$SX" push -q --no-encrypt --compress none "$WORK/hello.txt")
optipng -o2 -quiet "${key#file://}"
pngcheck "${key#file://}" | grep -q palette && pass "optipng made the manifest a palette image" ||
  echo "note: optipng kept $(pngcheck "${key#file://}")" >&2
"$SX" pull -q "$key" "$WORK/hello.out" && same_file "$WORK/hello.txt" "$WORK/hello.out" "palette manifest still pulls" ||
  fail "palette manifest: pull failed"

# ---- Every PNG sxengine writes is a plain RGB8 PNG ----------------------------------------

export XDG_DATA_HOME="$WORK/store-check"
STORE="$XDG_DATA_HOME/sxengine/store"
keys=()
random_file "$WORK/c0" 0;      keys+=("$("$SX" push -q --no-encrypt --compress none --piece-size 65536 "$WORK/c0")|$WORK/c0")
random_file "$WORK/c1" 1;      keys+=("$("$SX" push -q --no-encrypt --compress none --piece-size 65536 "$WORK/c1")|$WORK/c1")
random_file "$WORK/c2" 200000; keys+=("$("$SX" push -q --no-encrypt --compress none --piece-size 65536 "$WORK/c2")|$WORK/c2")
random_file "$WORK/c3" 700000; keys+=("$("$SX" push -q --no-encrypt --compress none --width 600 --height 600 "$WORK/c3")|$WORK/c3")
seq 1 100000 > "$WORK/c4";     keys+=("$("$SX" push -q --no-encrypt --compress none --level 9 --piece-size 100000 "$WORK/c4")|$WORK/c4")
random_file "$WORK/c5" 300000; keys+=("$("$SX" push -q --no-encrypt --compress none --level 1 --piece-size 100000 "$WORK/c5")|$WORK/c5")
random_file "$WORK/c6" 2500000; "$SX" push -q --no-encrypt --compress none --piece-size 1024 "$WORK/c6" >/dev/null  # multi-level manifest
n=$(find "$STORE" -name '*.png' | wc -l)
[ "$n" -gt 2000 ] && pass "$n pieces to check" || fail "only $n pieces in the store"

# pngcheck -q prints only the files it rejects.
if find "$STORE" -name '*.png' -print0 | xargs -0 -r pngcheck -q > "$WORK/pngcheck.txt" 2>&1 && [ ! -s "$WORK/pngcheck.txt" ]; then
  pass "all $n PNGs pass pngcheck -q"
else
  fail "pngcheck rejects $(grep -c . "$WORK/pngcheck.txt") PNGs: $(head -3 "$WORK/pngcheck.txt")"
fi

cat > "$WORK/check.py" <<'EOF'
# check.py STORE: every PNG is 8-bit RGB, non-interlaced, chunks exactly
# IHDR IDAT IEND, opens in Pillow as RGB, and carries a valid SXPC header.
import os, struct, sys, zlib
from PIL import Image
bad = 0
count = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if not f.endswith('.png'):
            continue
        p = os.path.join(root, f)
        count += 1
        data = open(p, 'rb').read()
        problems = []
        if data[:8] != b'\x89PNG\r\n\x1a\n':
            problems.append('bad signature')
        pos, kinds = 8, []
        while pos + 8 <= len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8])
            kinds.append(kind.decode('latin-1'))
            pos += 12 + n
        if kinds != ['IHDR', 'IDAT', 'IEND']:
            problems.append('chunks ' + ' '.join(kinds))
        w, h, depth, ctype, comp, filt, lace = struct.unpack('>IIBBBBB', data[16:29])
        if (depth, ctype, lace) != (8, 2, 0):
            problems.append('IHDR depth %d colour type %d interlace %d' % (depth, ctype, lace))
        im = Image.open(p)
        if im.mode != 'RGB':
            problems.append('Pillow mode ' + im.mode)
        px = im.tobytes()
        magic, ver, flags, hsize, index, length, pcrc, hcrc = struct.unpack('<4sBBHQQII', px[:32])
        if magic != b'SXPC' or ver != 2 or hsize != 32 or zlib.crc32(px[:28]) != hcrc:
            problems.append('bad piece header %r' % (px[:32],))
        elif 32 + length > len(px) or zlib.crc32(px[32:32 + length]) != pcrc:
            problems.append('payload length/CRC mismatch')
        elif any(px[32 + length:]):
            problems.append('padding is not zero')
        if problems:
            bad += 1
            if bad <= 5:
                print('%s: %s' % (p, '; '.join(problems)))
print('checked %d, bad %d' % (count, bad))
sys.exit(1 if bad or not count else 0)
EOF
if out=$("$PY" "$WORK/check.py" "$STORE" 2>&1); then pass "RGB8, IHDR/IDAT/IEND only, Pillow RGB, valid headers ($(tail -1 <<< "$out"))"
else fail "PNG structure: $out"; fi

# An independent decoder (Pillow + the documented layout) rebuilds single-level files.
cat > "$WORK/rebuild.py" <<'EOF'
# rebuild.py KEY OUT: decode a single-level sxengine v2 key with Pillow alone.
import hashlib, json, struct, sys, zlib
from PIL import Image
def piece(path):
    px = Image.open(path).convert('RGB').tobytes()
    magic, ver, flags, hsize, index, n, pcrc, hcrc = struct.unpack('<4sBBHQQII', px[:32])
    assert magic == b'SXPC' and zlib.crc32(px[:28]) == hcrc
    payload = px[hsize:hsize + n]
    assert zlib.crc32(payload) == pcrc
    return flags, index, payload
flags, _, text = piece(sys.argv[1][len('file://'):])
assert flags & 1
m = json.loads(text)
assert m['format'] == 'sxengine-manifest' and m['version'] == 2 and m['checksum'] == 'crc32', m
out = bytearray()
for e in m['pieces']:
    f, index, payload = piece(e['key'][len('file://'):])
    assert not f & 1 and index == e['index'] and e['offset'] == len(out) and len(payload) == e['size']
    assert '%08x' % zlib.crc32(payload) == e['checksum']
    out += payload
assert len(out) == m['size']
# What vouches for the file (docs/FORMAT.md §4), checked independently.
digest = m.get('digest', 'sha256')
if digest == 'sha256-tree':
    tree = hashlib.sha256(b''.join(hashlib.sha256(out[e['offset']:e['offset'] + e['size']]).digest()
                                   for e in m['pieces'])).hexdigest()
    assert tree == m['sha256_tree'], 'sha256 tree differs'
else:
    assert digest == 'sha256', digest
if 'sha256' in m or digest == 'sha256':
    assert hashlib.sha256(out).hexdigest() == m['sha256'], 'whole-file sha256 differs'

open(sys.argv[2], 'wb').write(out)
EOF
for entry in "${keys[@]}"; do
  key=${entry%%|*} src=${entry#*|}
  if "$PY" "$WORK/rebuild.py" "$key" "$WORK/rebuilt" 2>"$WORK/rebuild.err"; then
    same_file "$src" "$WORK/rebuilt" "Pillow-only decoder rebuilds $(basename "$src")"
  else
    fail "Pillow-only decoder on $(basename "$src"): $(tail -1 "$WORK/rebuild.err")"
  fi
done

finish
