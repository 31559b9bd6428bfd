# meson install puts an installable C++ library in place: libsxengine.so,
# the public headers (which include nothing internal), sxengine.pc, the
# program and its man page. A program outside the tree is compiled against
# that DESTDIR through pkg-config only, and pushes and pulls a file.
# Usage: install_test.sh BUILD_DIR SOURCE_ROOT CXX
BUILD=${1:?usage: $0 BUILD_DIR SOURCE_ROOT CXX} ROOT=${2:?} CXX=${3:?}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sxinstall.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILURES=0
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
pass() { echo "ok: $*"; }

DEST="$WORK/dest"
# --no-rebuild: meson test built everything already; a rebuild here would
# race the build the test runner belongs to.
if ! meson install -C "$BUILD" --no-rebuild --quiet --destdir "$DEST" > "$WORK/install.log" 2>&1; then
  echo "FAIL: meson install: $(tail -5 "$WORK/install.log")" >&2; exit 1
fi
pc=$(find "$DEST" -name sxengine.pc | head -1)
[ -n "$pc" ] && pass "sxengine.pc installed (${pc#"$DEST"})" || { echo "FAIL: no sxengine.pc under $DEST" >&2; exit 1; }
lib=$(find "$DEST" -name 'libsxengine.so.*' -type f | head -1)
[ -n "$lib" ] && pass "libsxengine.so installed (${lib#"$DEST"})" || fail "no libsxengine.so under $DEST"
for f in bin/sxengine share/man/man1/sxengine.1 include/sx/storage.h include/sx/options.h include/sx/error.h \
         include/sx/progress.h; do
  found=$(find "$DEST" -path "*/$f" | head -1)
  [ -n "$found" ] && pass "$f installed" || fail "$f not installed"
done
# The library exports its public API only: every defined dynamic symbol is
# sx::Storage, sx::Runtime, sx::ProgressSink, sx::version_text or
# sx::errc_name (hidden visibility, include/sx/export.h); none of the
# engine's, the network's or the codec's internals, nor a bundled library's.
if [ -n "$lib" ]; then
  nm -D --defined-only "$lib" | awk '{print $3}' | c++filt > "$WORK/exports"
  leaked=$(grep -v -E '^(sx::(Storage|Runtime|ProgressSink)[^a-zA-Z_]|sx::version_text(\[|\()|sx::errc_name\(|(typeinfo|vtable) (name )?for sx::(ProgressSink|Storage)$|_init$|_fini$|__bss_start$|_edata$|_end$)' "$WORK/exports" || true)
  [ "$(grep -c . "$WORK/exports")" -gt 5 ] && [ -z "$leaked" ] &&
    pass "libsxengine.so exports only the public API ($(grep -c . "$WORK/exports") symbols)" ||
    fail "libsxengine.so exports internals: $(printf '%s' "$leaked" | head -5 | tr '\n' ';') ($(printf '%s\n' "$leaked" | grep -c .) in all)"
fi
# Public headers include only the standard library and each other.
bad=$(grep -h '^#include' "$DEST"/*/*/include/sx/*.h "$DEST"/*/include/sx/*.h 2>/dev/null |
      grep -v -E '^#include (<[a-z_]+>|"sx/[a-z_]+\.h")$' || true)
[ -z "$bad" ] && pass "public headers include only std and sx/ headers" || fail "public headers include: $bad"

export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR="$DEST"
flags=$(pkg-config --cflags --libs sxengine) || { echo "FAIL: pkg-config sxengine failed" >&2; exit 1; }
case "$flags" in *"$ROOT"*) fail "pkg-config points into the source tree: $flags" ;; esac
# shellcheck disable=SC2086  # flags are words
if "$CXX" -std=c++20 -o "$WORK/consumer" "$ROOT/test/install/consumer.cc" $flags 2> "$WORK/cxx.err"; then
  pass "a program compiles against the installed library through pkg-config"
else
  echo "FAIL: compiling the consumer: $(head -20 "$WORK/cxx.err")" >&2; exit 1
fi
readelf -d "$WORK/consumer" | grep -q 'NEEDED.*libsxengine\.so' &&
  pass "the program links libsxengine.so dynamically" || fail "the program does not need libsxengine.so"
head -c 3000000 /dev/urandom > "$WORK/in.bin"
libdir=$(dirname "$lib")
if key=$(LD_LIBRARY_PATH="$libdir" XDG_STATE_HOME="$WORK/state" "$WORK/consumer" "$WORK/in.bin" "$WORK/store" \
           "$WORK/out.bin" 2> "$WORK/run.err"); then
  cmp -s "$WORK/in.bin" "$WORK/out.bin" && pass "it pushes and pulls a file byte-identical ($key)" ||
    fail "the pulled file differs"
  "$BUILD/sxengine" pull -q "$key" "$WORK/cli.bin" && cmp -s "$WORK/in.bin" "$WORK/cli.bin" &&
    pass "the sxengine program pulls its key" || fail "sxengine pull of the library's key"
else
  fail "the consumer failed: $(cat "$WORK/run.err")"
fi
[ "$FAILURES" -eq 0 ] && { echo "all passed"; exit 0; }
echo "$FAILURES failed" >&2
exit 1
