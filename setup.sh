#!/usr/bin/env bash
# sxengine set-up: installs what is missing (Debian packages), builds, then
#   ./setup.sh demo   pushes a file to the local store, prints its key, pulls it back
#   ./setup.sh test   also installs the test servers and passes the whole test suite
#                     (and the Python package into .venv/, then its pytest suite)
#   ./setup.sh build  only builds (release, in build/)
# Idempotent: a second run with nothing changed installs nothing and rebuilds nothing.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-demo}

build_packages=(g++ meson ninja-build pkg-config libasio-dev libcurl4-openssl-dev zlib1g-dev
  libstb-dev libsimdjson-dev libfmt-dev doctest-dev libdeflate-dev libspng-dev libxxhash-dev
  libssl-dev libcli11-dev libsodium-dev libzstd-dev libmicrohttpd-dev libisal-dev)
test_packages=(nginx-light python3-pil python3-boto3 pngcheck optipng curl ca-certificates
  ceph-mon ceph-osd radosgw ceph-common procps iproute2 clang libclang-rt-14-dev openssl tinyproxy
  python3-venv python3-pybind11 pybind11-dev python3-mesonpy python3-pytest aria2 wget rclone)

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --wrap-mode=nodownload "$@" >/dev/null
  fi
  # Quiet unless it fails; then the compiler's words are shown.
  if ! ninja -C "$dir" > "$dir/ninja.log" 2>&1; then
    grep -A8 -E 'error|FAILED' "$dir/ninja.log" | head -60 >&2
    exit 1
  fi
}

# The Python package (docs/PYTHON.md): .venv/ in the checkout with Debian's
# python3 (its pybind11, meson-python, pytest and Pillow visible), the package
# built into it from this tree (build-python/ keeps the build incremental),
# then the pytest suite run from outside the tree against what was installed.
python_test() {
  rm -f build-python/pytest.xml  # CI counts this run's results only
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
  # Linked against build/'s libsxengine.a (meson option libsx_from): the
  # engine is not compiled a second time.
  if ! .venv/bin/pip install --no-build-isolation --no-index --config-settings=builddir=build-python \
      --config-settings=setup-args=-Dlibsx_from="$PWD/build" . > build/pip.log 2>&1; then
    grep -A8 -E 'error|FAILED' build/pip.log | head -60 >&2
    exit 1
  fi
  local root=$PWD
  (cd /tmp && SXENGINE_CLI="$root/build/sxengine" "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider \
     --junitxml="$root/build-python/pytest.xml" "$root/test/python")
}

case "$mode" in
  build)
    install_missing "${build_packages[@]}"
    build build --buildtype=release
    ;;
  demo)
    install_missing "${build_packages[@]}"
    build build --buildtype=release
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    head -c $((64 << 20)) /dev/urandom > "$work/demo.bin"
    echo "setup: pushing a 64 MiB file to the local store (${XDG_DATA_HOME:-$HOME/.local/share}/sxengine/store)" >&2
    key=$(./build/sxengine push "$work/demo.bin")
    echo "download key: $key"
    ./build/sxengine pull "$key" "$work/pulled.bin"
    cmp "$work/demo.bin" "$work/pulled.bin" && echo "setup: pulled back, bytes identical" >&2
    ;;
  test)
    install_missing "${build_packages[@]}" "${test_packages[@]}"
    build build --buildtype=release
    meson test -C build --print-errorlogs --num-processes 2
    python_test
    # Unit tests again under AddressSanitizer and UBSan.
    build build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      meson test -C build-asan --print-errorlogs --suite unit
    ;;
  *)
    echo "usage: $0 [demo|test|build]" >&2
    exit 2
    ;;
esac
