#!/bin/bash
# Throw-away single-node Ceph cluster (1 mon, 1 memstore OSD, no mgr) with its
# S3 gateway (RGW) on 127.0.0.1, every file under one private directory.
#
#   ceph_fixture.sh start  DIR   DIR must be empty or absent; prints the S3
#                                endpoint URL (only stdout line) and writes DIR/env
#   ceph_fixture.sh stop   DIR   stops the daemons recorded in DIR/*.pid (idempotent)
#   ceph_fixture.sh status DIR   exit 0 if all three daemons run
#
# Needs root and: ceph-mon ceph-osd radosgw ceph-common curl (see
# /work/shared/CEPH-RGW.md). Daemons run under setsid, so stopping them is the
# caller's job (`stop` only ever signals pids from DIR/*.pid whose command line
# names DIR/ceph.conf).
set -eu -o pipefail

S3_ACCESS_KEY=sxtestaccess
S3_SECRET_KEY=sxtestsecret0123456789
S3_REGION=us-east-1
S3_BUCKET=sxengine-test
START_TIMEOUT=${CEPH_FIXTURE_TIMEOUT:-60}   # overall bound for `start`, seconds
STOP_WAIT=5             # seconds between SIGTERM and SIGKILL, per daemon
DAEMONS_STOP_ORDER="radosgw osd mon"

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }
usage() { echo "usage: $prog start|stop|status DIR" >&2; exit 2; }

# ---------------------------------------------------------------- stop
# True if $1 is a live process started by this fixture for directory $2.
is_ours() {
    local pid=$1 conf="$2/ceph.conf" cmd
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmd=$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline") || return 1
    [[ " $cmd " == *" $conf "* ]]
}

# Waits up to $2 seconds (tenths resolution) for pid $1 to go away.
wait_gone() {
    local pid=$1 n=$(( $2 * 10 ))
    while (( n-- > 0 )); do
        kill -0 "$pid" 2>/dev/null || return 0
        # a zombie child of ours counts as gone
        [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
        sleep 0.1
    done
    return 1
}

stop_one() {
    local dir=$1 name=$2 pidfile="$1/$2.pid" pid
    [[ -f $pidfile ]] || return 0
    pid=$(< "$pidfile")
    if is_ours "$pid" "$dir"; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$STOP_WAIT"; then
            echo "$prog: $name (pid $pid) ignored SIGTERM for ${STOP_WAIT}s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" "$STOP_WAIT" || echo "$prog: $name (pid $pid) still there after SIGKILL" >&2
        fi
    fi
    rm -f "$pidfile"
}

do_stop() {
    local dir=$1 name
    [[ -d $dir ]] || return 0
    for name in $DAEMONS_STOP_ORDER; do stop_one "$dir" "$name"; done
}

# ---------------------------------------------------------------- status
do_status() {
    local dir=$1 name pid rc=0
    [[ -d $dir ]] || die "$dir does not exist"
    for name in mon osd radosgw; do
        pid=$(cat "$dir/$name.pid" 2>/dev/null || true)
        if [[ -n $pid ]] && is_ours "$pid" "$dir"; then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running"; rc=1
        fi
    done
    [[ -f $dir/env ]] && sed -n 's/.*AWS_ENDPOINT_URL=\([^ ]*\).*/endpoint: \1/p' "$dir/env"
    return $rc
}

# ---------------------------------------------------------------- start helpers
port_free() { [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# Sets PICKED to a random port p in [lo, hi - len) such that ports p..p+len-1
# are all free (not in $listening) and not already in $taken (no subshell:
# $taken must persist).
pick_ports() {
    local len=$1 lo=$2 hi=$3 tries=200 p i ok
    while (( tries-- > 0 )); do
        p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo - len) ))
        ok=1
        for (( i = p; i < p + len; i++ )); do
            if [[ " $taken $listening " == *" $i "* ]]; then ok=0; break; fi
        done
        if (( ok )); then
            for (( i = p; i < p + len; i++ )); do taken+=" $i"; done
            PICKED=$p; return 0
        fi
    done
    return 1
}

# Seconds left before the overall start deadline (at least 1, for `timeout`).
remaining() { local r=$(( deadline - SECONDS )); (( r > 0 )) || r=1; echo $r; }

fail() {  # fail MESSAGE LOGFILE...
    local msg=$1 f; shift
    echo "$prog: $msg" >&2
    for f in "$@"; do
        if [[ -s $f ]]; then
            echo "---- last lines of $f" >&2
            tail -n 25 "$f" >&2
        else
            echo "---- $f: empty or missing" >&2
        fi
    done
    [[ -n ${DIR:-} ]] && echo "$prog: all logs are in $DIR/log (stopping what was started)" >&2
    exit 1   # EXIT trap stops what was started
}

# Starts "$@" in its own session, pid in $DIR/$name.pid, output in log/$name.out.
launch() {
    local name=$1; shift
    setsid "$@" < /dev/null > "$DIR/log/$name.out" 2>&1 &
    echo $! > "$DIR/$name.pid"
    disown $!   # no "Killed" job report from bash if a daemon dies
}

# wait_until NAME DESCRIPTION LOGS COMMAND...: polls COMMAND until it succeeds;
# fails if daemon NAME dies or the overall deadline passes. LOGS is a
# space-separated list (DIR has no whitespace).
# shellcheck disable=SC2086
wait_until() {
    local name=$1 what=$2 logs=$3 pid; shift 3
    pid=$(< "$DIR/$name.pid")
    while :; do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || fail "$name exited while waiting for $what" $logs
        (( SECONDS < deadline )) || fail "timed out waiting for $what" $logs
        sleep 0.1
    done
}

asok_state() {  # asok_state SOCKET COMMAND STATE
    [[ -S $1 ]] || return 1
    local t; t=$(remaining); (( t <= 5 )) || t=5
    timeout "$t" ceph --admin-daemon "$1" "$2" 2>/dev/null | grep -q "\"state\": \"$3\""
}

rgw_ready() {
    curl -s --max-time 2 "http://127.0.0.1:$RGW_PORT/" 2>/dev/null | grep -q ListAllMyBucketsResult
}

on_start_exit() {
    local rc=$?
    if [[ ${START_OK:-0} != 1 ]]; then
        do_stop "$DIR"
        (( rc != 0 )) || rc=1
    fi
    exit $rc
}

# ---------------------------------------------------------------- start
do_start() {
    DIR=$1
    if [[ -e $DIR ]]; then
        [[ -d $DIR ]] || die "$DIR exists and is not a directory"
        [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty (a memstore cluster cannot be restarted; use a fresh directory)"
    fi
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd -P)
    # unix socket paths are limited to 107 bytes: $DIR/run/client.admin.asok must fit
    [[ $DIR != *[[:space:]]* ]] || die "$DIR: whitespace in the path is not supported"
    (( ${#DIR} <= 80 )) || die "$DIR: path too long for ceph admin sockets (max 80 characters)"
    [[ $(id -u) == 0 ]] || die "must run as root"
    local t
    for t in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl ss setsid uuidgen; do
        command -v "$t" > /dev/null || die "$t not found (apt-get install ceph-mon ceph-osd radosgw ceph-common curl uuid-runtime)"
    done

    deadline=$(( SECONDS + START_TIMEOUT ))
    START_OK=0
    trap on_start_exit EXIT
    trap 'exit 1' INT TERM HUP

    # Ports: below the kernel's ephemeral range, so no outgoing connection holds them.
    local eph_lo
    eph_lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    (( eph_lo > 21000 )) || eph_lo=61000
    taken=""
    listening=" $(ss -Hltn | awk '{ sub(/.*:/, "", $4); print $4 }' | tr '\n' ' ')"
    local MON_PORT MS_MIN MS_MAX
    pick_ports 1 20000 "$eph_lo" || die "no free port"; MON_PORT=$PICKED
    pick_ports 10 20000 "$eph_lo" || die "no free port range"; MS_MIN=$PICKED
    MS_MAX=$(( MS_MIN + 9 ))
    pick_ports 1 20000 "$eph_lo" || die "no free port"; RGW_PORT=$PICKED
    # With CEPH_TLS_CERT and CEPH_TLS_KEY (PEM), the gateway also serves HTTPS
    # (beast's ssl_endpoint) and DIR/env names it as SX_TEST_TLS_ENDPOINT.
    local frontends="beast endpoint=127.0.0.1:$RGW_PORT" tls_line=""
    if [[ -n ${CEPH_TLS_CERT:-} ]]; then
        pick_ports 1 20000 "$eph_lo" || die "no free port"; local RGW_TLS_PORT=$PICKED
        frontends+=" ssl_endpoint=127.0.0.1:$RGW_TLS_PORT ssl_certificate=$CEPH_TLS_CERT ssl_private_key=$CEPH_TLS_KEY"
        tls_line=" SX_TEST_TLS_ENDPOINT=https://127.0.0.1:$RGW_TLS_PORT"
    fi

    mkdir -p "$DIR"/{run,log,crash,mon.a,osd.0,rgw}
    local fsid; fsid=$(uuidgen)
    cat > "$DIR/ceph.conf" <<EOF
# generated by $prog for a throw-away test cluster
[global]
fsid = $fsid
mon initial members = a
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind msgr1 = false
ms bind port min = $MS_MIN
ms bind port max = $MS_MAX
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
mon cluster log file = $DIR/log/cluster.log
crash dir = $DIR/crash
keyring = $DIR/keyring
mon data = $DIR/mon.\$id
osd data = $DIR/osd.\$id
rgw data = $DIR/rgw
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
paxos propose interval = 0.01
osd objectstore = memstore
memstore device bytes = 4294967296
rgw frontends = $frontends
rgw gc obj min wait = 30
rgw gc processor period = 30
EOF
    local CONF=$DIR/ceph.conf L=$DIR/log

    # 1. monitor
    ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' > "$L/setup.out" 2>&1 \
        || fail "ceph-authtool failed" "$L/setup.out"
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >> "$L/setup.out" 2>&1 \
        || fail "monmaptool failed" "$L/setup.out"
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring" >> "$L/setup.out" 2>&1 \
        || fail "ceph-mon --mkfs failed" "$L/setup.out" "$L/mon.a.log"
    launch mon ceph-mon -c "$CONF" -i a -f
    wait_until mon "the monitor to become leader" "$L/mon.out $L/mon.a.log" \
        asok_state "$DIR/run/mon.a.asok" mon_status leader

    # 2. OSD
    local osd_uuid osd_id; osd_uuid=$(uuidgen)
    osd_id=$(timeout "$(remaining)" ceph -c "$CONF" osd new "$osd_uuid" 2>> "$L/setup.out") \
        || fail "ceph osd new failed" "$L/setup.out" "$L/mon.a.log"
    [[ $osd_id == 0 ]] || fail "ceph osd new returned '$osd_id', expected 0" "$L/setup.out"
    timeout "$(remaining)" ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >> "$L/setup.out" 2>&1 \
        || fail "ceph-osd --mkfs failed" "$L/setup.out" "$L/osd.0.log"
    launch osd ceph-osd -c "$CONF" -i 0 -f
    wait_until osd "the OSD to become active" "$L/osd.out $L/osd.0.log" \
        asok_state "$DIR/run/osd.0.asok" status active

    # 3. RGW (its port must still be free: anything listening would answer GET /)
    port_free "$RGW_PORT" || fail "port $RGW_PORT was taken by someone else meanwhile"
    launch radosgw radosgw -c "$CONF" -n client.rgw -f
    wait_until radosgw "RGW to answer on port $RGW_PORT" "$L/radosgw.out $L/client.rgw.log" rgw_ready

    # 4. S3 user (as client.admin: -n client.rgw would collide with the daemon's admin socket)
    timeout "$(remaining)" radosgw-admin -c "$CONF" user create --uid=test --display-name=test \
        --access-key="$S3_ACCESS_KEY" --secret="$S3_SECRET_KEY" > "$L/user-create.out" 2>&1 \
        || fail "radosgw-admin user create failed" "$L/user-create.out" "$L/client.admin.log"

    # 5. bucket, with a SigV4-signed PUT
    local url="http://127.0.0.1:$RGW_PORT" code
    code=$(curl -sS --max-time "$(remaining)" -o "$L/bucket-create.out" -w '%{http_code}' -X PUT \
        --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -H "Content-Length: 0" \
        "$url/$S3_BUCKET" 2> "$L/bucket-create.err") || true
    [[ $code == 200 ]] || fail "creating bucket $S3_BUCKET failed: HTTP $code" \
        "$L/bucket-create.err" "$L/bucket-create.out" "$L/client.rgw.log"

    cat > "$DIR/env.tmp" <<EOF
export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION SX_TEST_BUCKET=$S3_BUCKET$tls_line
EOF
    mv "$DIR/env.tmp" "$DIR/env"
    START_OK=1
    echo "$url"
}

# ---------------------------------------------------------------- main
(( $# == 2 )) || usage
[[ -n $2 ]] || usage
case $1 in
    start)  do_start "$2" ;;
    stop)   d=$2; [[ -d $d ]] && d=$(cd "$d" && pwd -P); do_stop "$d" ;;
    status) d=$(cd "$2" 2>/dev/null && pwd -P) || die "$2 does not exist"; do_status "$d" ;;
    *)      usage ;;
esac
