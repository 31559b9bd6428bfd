# Shared helpers for integration tests. Each test script is run by meson as
#   bash test/integration/NAME_test.sh SXENGINE_BINARY SOURCE_ROOT
# and exits 0 (pass), 1 (fail) or 77 (skip; never in CI, where CI=true).
set -uo pipefail

SX=${1:?usage: $0 SXENGINE SOURCE_ROOT}
ROOT=${2:?usage: $0 SXENGINE SOURCE_ROOT}
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sxtest.XXXXXX")
export XDG_DATA_HOME="$WORK/xdg-data" XDG_CONFIG_HOME="$WORK/xdg-config" XDG_STATE_HOME="$WORK/xdg-state"
CLEANUPS=()

cleanup() {
  local i
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
on_exit() { CLEANUPS+=("$1"); }

FAILURES=0
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
pass() { echo "ok: $*"; }
finish() { [ "$FAILURES" -eq 0 ] && { echo "all passed"; exit 0; }; echo "$FAILURES failed" >&2; exit 1; }

# need TOOL...: skip (or fail in CI) when a tool is missing.
need() {
  local t
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "$t" ]; then
      if [ "${CI:-}" = true ]; then echo "FAIL: $t is missing in CI" >&2; exit 1; fi
      echo "skip: $t not installed" >&2
      exit 77
    fi
  done
}

random_file() {  # random_file PATH BYTES
  head -c "$2" /dev/urandom > "$1"
}

same_file() {  # same_file A B WHAT
  if cmp -s "$1" "$2"; then pass "$3"; else fail "$3: $1 and $2 differ"; fi
}

# expect_fail WHAT PATTERN CMD...: CMD must fail with one of the exit statuses of docs/CLI.md
# exit statuses (1..7; never a crash or a signal) and PATTERN in its stderr.
# expect_exit N WHAT PATTERN CMD...: the same, with exactly status N.
expect_fail() { expect_exit any "$@"; }
expect_exit() {
  local want=$1 what=$2 pattern=$3; shift 3
  local err="$WORK/stderr.$RANDOM" rc=0
  "$@" >/dev/null 2>"$err" || rc=$?
  if [ "$want" = any ] && { [ "$rc" -lt 1 ] || [ "$rc" -gt 7 ]; }; then
    fail "$what: exit $rc, expected a failure status 1..7 ($(tail -1 "$err"))"; return
  fi
  if [ "$want" != any ] && [ "$rc" -ne "$want" ]; then fail "$what: exit $rc, expected $want ($(tail -1 "$err"))"; return; fi
  if ! grep -q -- "$pattern" "$err"; then fail "$what: stderr lacks '$pattern': $(tail -1 "$err")"; return; fi
  if [ "$(wc -l < "$err")" -gt 3 ]; then fail "$what: error is not short: $(cat "$err")"; return; fi
  pass "$what"
}

# start_nginx: sets NGINX_URL (http://127.0.0.1:PORT/) and NGINX_DIR.
start_nginx() {
  need /usr/sbin/nginx
  NGINX_DIR="$WORK/nginx"
  NGINX_URL=$("$ROOT/test/servers/nginx_fixture.sh" start "$NGINX_DIR") || { echo "FAIL: nginx did not start" >&2; exit 1; }
  on_exit "\"$ROOT/test/servers/nginx_fixture.sh\" stop \"$NGINX_DIR\" >/dev/null 2>&1"
}

# start_py_server NAME SCRIPT ARGS...: runs a Python test server with
# --port 0 --portfile, waits for the port, sets ${NAME}_PORT.
start_py_server() {
  local name=$1 script=$2; shift 2
  local portfile="$WORK/$name.port"
  setsid "$PY" "$ROOT/test/servers/$script" --port 0 --portfile "$portfile" "$@" \
    >"$WORK/$name.log" 2>&1 &
  local pid=$!
  on_exit "kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null"
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$portfile" ] && break
    sleep 0.1
  done
  [ -s "$portfile" ] || { echo "FAIL: $script did not start: $(tail -3 "$WORK/$name.log")" >&2; exit 1; }
  printf -v "${name}_PORT" '%s' "$(cat "$portfile")"
}

# Background processes: every one is tracked and killed at exit.
declare -A BG=()
on_exit 'for p in "${!BG[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done'
track() { BG[$1]=1; }
untrack() { unset "BG[$1]"; }

shown() { head -c 400 "$1" | tr '\r\n' '||' | cat -v; }   # a file, on one safe line
hex() { od -An -tx1 | tr -s ' \n' ' '; }

# one_line WHAT FILE [PREFIX]: FILE is exactly one line starting with PREFIX
# ("sxengine: error: " unless told). Returns 1 (and fails) otherwise.
one_line() {
  local prefix=${3:-'sxengine: error: '}
  if [ "$(wc -l < "$2")" -ne 1 ] || [ "$(head -c ${#prefix} "$2")" != "$prefix" ]; then
    fail "$1: expected one line '$prefix...' on stderr, got: $(shown "$2")"; return 1
  fi
}

# expect_line N WHAT PATTERN CMD...: CMD exits with status N (any: 1..7),
# stderr is one line "sxengine: error: ..." containing PATTERN. Stdout is kept
# in $WORK/line.out, stderr in $WORK/line.err.
expect_line() {
  local want=$1 what=$2 pattern=$3 rc=0; shift 3
  "$@" >"$WORK/line.out" 2>"$WORK/line.err" || rc=$?
  if [ "$want" = any ] && { [ "$rc" -lt 1 ] || [ "$rc" -gt 7 ]; }; then
    fail "$what: exit $rc, expected a failure status 1..7: $(shown "$WORK/line.err")"; return
  fi
  if [ "$want" != any ] && [ "$rc" -ne "$want" ]; then
    fail "$what: exit $rc, expected $want: $(shown "$WORK/line.err")"; return
  fi
  one_line "$what" "$WORK/line.err" || return
  if ! grep -q -- "$pattern" "$WORK/line.err"; then fail "$what: stderr lacks '$pattern': $(shown "$WORK/line.err")"; return; fi
  pass "$what (exit $rc)"
}

# start_bg OUT ERR CMD...: runs CMD in the background, in a subshell that
# keeps the shell's "Killed" notice to itself; sets PID (CMD's own, to signal)
# and SUB (the subshell, to wait for: it writes CMD's status to $WORK/bg.rc).
start_bg() {
  local out=$1 err=$2 i; shift 2
  rm -f "$WORK/bg.pid" "$WORK/bg.rc"
  ( "$@" >"$out" 2>"$err" & echo $! >"$WORK/bg.pid"; wait $!; echo $? >"$WORK/bg.rc" ) 2>/dev/null &
  SUB=$!; track $SUB
  for ((i = 0; i < 200; i++)); do [ -s "$WORK/bg.pid" ] && break; sleep 0.01; done
  PID=$(cat "$WORK/bg.pid" 2>/dev/null); [ -n "$PID" ] && track $PID
}

# interrupt_when SIG COND...: polls COND (a command) every 50 ms, for at most
# 30 s while the start_bg command runs; then sends it SIG and waits for it (at
# most 10 s, then SIGKILL and LATE is set). Sets HIT (COND held while it
# ran) and RC (its exit status).
interrupt_when() {
  local sig=$1 i; shift
  HIT=
  for ((i = 0; i < 600; i++)); do
    [ -s "$WORK/bg.rc" ] && break
    if "$@"; then HIT=1; break; fi
    sleep 0.05
  done
  [ -n "$PID" ] && kill -"$sig" "$PID" 2>/dev/null
  for ((i = 0; i < 200; i++)); do kill -0 "$SUB" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$SUB" 2>/dev/null; then LATE=1; kill -KILL "$PID" "$SUB" 2>/dev/null; else LATE=; fi
  wait "$SUB" 2>/dev/null
  RC=$(cat "$WORK/bg.rc" 2>/dev/null); RC=${RC:-255}
  untrack "$SUB"; [ -n "$PID" ] && untrack "$PID"
}
