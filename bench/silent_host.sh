#!/usr/bin/env bash
# A host that accepts connections and never answers: how long a push takes to
# fail (issue 23: goal <= 12 s with --stall-timeout 2 --retries 1).
#   bench/silent_host.sh build/sxengine [SIZE_MIB=64]
set -uo pipefail
SX=$(realpath "$1"); MIB=${2:-64}
WORK=$(mktemp -d /tmp/sxsilent.XXXX)
trap 'kill "$server" 2>/dev/null; rm -rf "$WORK"' EXIT
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); held = []; s.settimeout(1); end = time.time() + 300
while time.time() < end:
    try: held.append(s.accept()[0])   # accept, never answer
    except socket.timeout: pass' "$WORK/port" &
server=$!
for ((i = 0; i < 100; i++)); do [ -s "$WORK/port" ] && break; sleep 0.05; done
head -c $((MIB << 20)) /dev/urandom > "$WORK/in.bin"
t0=$(date +%s%N)
XDG_STATE_HOME="$WORK/state" timeout 120 "$SX" push -q --piece-size 1M --parallel 8 --stall-timeout 2 --retries 1 \
  --backend "http://127.0.0.1:$(cat "$WORK/port")/x/" "$WORK/in.bin" 2>"$WORK/err"
rc=$?
echo "push of $MIB MiB to a silent host: exit $rc after $(( ($(date +%s%N) - t0) / 1000000 )) ms: $(tail -c 160 "$WORK/err")"
