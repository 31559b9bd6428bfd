#!/usr/bin/env bash
# Builds and runs the libFuzzer targets under ASan+UBSan.
#
#   fuzz/run.sh [TARGET|all] [SECONDS]     (default: all, 60 s per target)
#
# TARGET is piece_reader, piece_header, manifest, host_profile, download_key,
# journal or s3_error. Uses its own
# build directory, build-fuzz/ (clang, -Dfuzz=true), configured once:
#   build-fuzz/corpus/T        seeds from make_corpus, regenerated each run
#   build-fuzz/corpus-work/T   the growing working corpus (kept between runs)
#   build-fuzz/artifacts/T/    crash, leak and timeout inputs
# Prints "fuzz T: OK|FAILED execs=N exec/s=N cov=N" per target; exits 1 when
# any target failed.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-fuzz"
ALL_TARGETS=(piece_reader piece_header manifest host_profile download_key journal s3_error)
TARGET=${1:-all}
SECONDS_PER_TARGET=${2:-60}

if [[ "$TARGET" == all ]]; then
  TARGETS=("${ALL_TARGETS[@]}")
elif [[ " ${ALL_TARGETS[*]} " == *" $TARGET "* ]]; then
  TARGETS=("$TARGET")
else
  echo "usage: fuzz/run.sh [$(IFS='|'; echo "${ALL_TARGETS[*]}")|all] [SECONDS]" >&2
  exit 2
fi
if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]]; then
  echo "fuzz/run.sh: SECONDS must be a whole number, not '$SECONDS_PER_TARGET'" >&2
  exit 2
fi

cd "$ROOT" || exit 1
if [[ ! -f "$BUILD/build.ninja" ]]; then
  CXX=clang++ CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false --buildtype=debugoptimized || exit 1
fi
ninja_targets=(fuzz/make_corpus)
for t in "${TARGETS[@]}"; do ninja_targets+=("fuzz/${t}_fuzzer"); done
nice -n 10 ninja -C "$BUILD" "${ninja_targets[@]}" || exit 1

rm -rf "$BUILD/corpus"
"$BUILD/fuzz/make_corpus" "$BUILD/corpus" || exit 1

# UBSan reports are crashes too (clang recovers from them by default);
# libFuzzer itself checks for leaks.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

summary=()
failed=0
for t in "${TARGETS[@]}"; do
  work="$BUILD/corpus-work/$t"
  artifacts="$BUILD/artifacts/$t"
  log="$BUILD/fuzz-$t.log"
  mkdir -p "$work" "$artifacts"
  cp -f "$BUILD/corpus/$t"/* "$work"/
  # Every crash found once stays a regression input, replayed first.
  if [[ -d "fuzz/regressions/$t" ]] && [[ -n "$(ls -A "fuzz/regressions/$t")" ]]; then
    if ! "$BUILD/fuzz/${t}_fuzzer" -rss_limit_mb=2048 fuzz/regressions/"$t"/* >"$log.regressions" 2>&1; then
      tail -n 20 "$log.regressions"
      summary+=("fuzz $t: FAILED (a regression input crashes again: $log.regressions)")
      failed=1
      continue
    fi
  fi
  echo "== fuzz $t for ${SECONDS_PER_TARGET}s (log: $log)"
  "$BUILD/fuzz/${t}_fuzzer" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" >"$log" 2>&1
  rc=$?
  tail -n 15 "$log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  status=OK
  if [[ $rc -ne 0 ]]; then status=FAILED; failed=1; fi
  summary+=("fuzz $t: $status execs=${execs:-?} exec/s=${speed:-?} cov=${cov:-?}")
done

printf '%s\n' "${summary[@]}"
exit "$failed"
