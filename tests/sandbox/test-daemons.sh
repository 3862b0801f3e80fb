#!/usr/bin/env bash
# test-daemons.sh: proves that every daemon built in this tree runs inside
# its sandbox as its policy file says: it starts each one (-F, private run
# dir, as root) and reads /proc/<pid>/status: Seccomp 2 (filter), NoNewPrivs
# 1, CapEff exactly the policy's `cap` lines, CapBnd no wider than CapEff
# for root-run daemons, Uid the policy's `user`.  It also proves the daemon
# survives (its first requests after sandbox_enter did not hit SIGSYS).
# A daemon whose binary does not exist is reported as SKIP and, with no
# failure, the test exits 77 (a skip for tests/run-tests, not a pass).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
DUMP=$BUILD/tests/policy-dump
T=$(mktemp -d /tmp/sbx-d.XXXXXX)
FAILS=0
SKIPS=0
PIDS=()

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "${W:-}" ] && tests/xenworld stop "$W" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (uid/capability checks)"; exit 77; }
[ -x "$DUMP" ] || { echo "FAIL: no $DUMP (make)"; exit 1; }

field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }

# check NAME PID: compare /proc/PID/status with policy NAME.
check() {
	local name=$1 pid=$2 want_uid want_cap want_grp got_grp
	want_uid=$(id -u "$($DUMP --user "$name")")
	want_cap=$($DUMP --capeff "$name")
	if ! kill -0 "$pid" 2>/dev/null; then
		fail "$name: not running"; sed 's/^/  | /' "$T/$name.log" | tail -20; return
	fi
	[ "$(field Seccomp "$pid")" = 2 ] && ok "$name: Seccomp 2" ||
		fail "$name: Seccomp $(field Seccomp "$pid")"
	[ "$(field NoNewPrivs "$pid")" = 1 ] && ok "$name: NoNewPrivs 1" ||
		fail "$name: NoNewPrivs $(field NoNewPrivs "$pid")"
	[ "$(field CapEff "$pid")" = "$want_cap" ] && ok "$name: CapEff $want_cap" ||
		fail "$name: CapEff $(field CapEff "$pid"), policy says $want_cap"
	[ "$(field CapPrm "$pid")" = "$want_cap" ] && ok "$name: CapPrm $want_cap" ||
		fail "$name: CapPrm $(field CapPrm "$pid"), policy says $want_cap"
	if $DUMP "$name" | grep -q "^ambient[[:space:]]*yes"; then
		[ "$(field CapAmb "$pid")" = "$want_cap" ] && ok "$name: CapAmb $want_cap (programs it runs inherit them)" ||
			fail "$name: CapAmb $(field CapAmb "$pid"), policy says $want_cap"
		[ "$(field CapBnd "$pid")" = "$want_cap" ] && ok "$name: CapBnd $want_cap" ||
			fail "$name: CapBnd $(field CapBnd "$pid"), policy says $want_cap"
	elif [ "$want_uid" = 0 ]; then
		[ "$(field CapBnd "$pid")" = "$want_cap" ] && ok "$name: CapBnd $want_cap (root: children cannot regain caps)" ||
			fail "$name: CapBnd $(field CapBnd "$pid"), policy says $want_cap"
	fi
	[ "$(field Uid "$pid")" = "$want_uid" ] && ok "$name: Uid $want_uid" ||
		fail "$name: Uid $(field Uid "$pid"), policy says $want_uid"
	# supplementary groups: none, or exactly the policy's peer-group
	want_grp=$($DUMP "$name" | awk '$1 == "peer-group" { print $2 }')
	got_grp=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$pid/status" | xargs)
	if [ -n "$want_grp" ]; then
		[ "$got_grp" = "$(getent group "$want_grp" | cut -d: -f3)" ] &&
		    ok "$name: supplementary groups: only $want_grp" ||
		    fail "$name: supplementary groups '$got_grp', policy says $want_grp"
	else
		[ -z "$got_grp" ] && ok "$name: no supplementary groups" ||
		    fail "$name: supplementary groups kept: $got_grp"
	fi
}

# start NAME SOCKET CMD...: runs CMD in the background, waits for SOCKET.
start() {
	local name=$1 sock=$2 i; shift 2
	if [ ! -x "$1" ]; then
		echo "SKIP: $name: no $1"; SKIPS=$((SKIPS + 1)); return 1
	fi
	"$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	for i in $(seq 100); do
		[ -S "$sock" ] && break
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	sleep 0.2	# let it enter the sandbox and its loop
	check "$name" "${PIDS[-1]}"
	return 0
}

mkdir -p "$T/run" "$T/state"
start lockd "$T/run/lockd.sock" "$BIN/devsep-lockd" -F --rundir "$T/run" \
    --statedir "$T/state" -c /dev/null --libxl-dir "$T/xenlib"
start hotplugd "$T/run/hotplugd.sock" "$BIN/devsep-hotplugd" -F --rundir "$T/run" -c /dev/null
if [ -x "$BIN/devsep-watcherd" ]; then
	W=$(mktemp -d /tmp/xw.XXXXXX)
	if eval "$(tests/xenworld start "$W")"; then
		start watcherd "$T/run/watcherd.sock" "$BIN/devsep-watcherd" -F \
		    --rundir "$T/run" -c /dev/null
	else
		fail "watcherd: cannot start a test world"
	fi
else
	echo "SKIP: watcherd: no $BIN/devsep-watcherd"; SKIPS=$((SKIPS + 1))
fi
start broker "$T/run/broker.sock" "$BIN/devsep-qemu-broker" -F --rundir "$T/run" -c /dev/null

# The broker's privileged launcher (its child, named broker-launch) has
# its own policy, launcher.policy.
if [ -S "$T/run/broker.sock" ]; then
	bp=$(pgrep -P "${PIDS[-1]}" -x broker-launch | head -1)
	if [ -n "$bp" ]; then
		check launcher "$bp"
	else
		fail "launcher: no broker-launch child of the broker"
	fi
fi

# Still alive after a status request each (a first request after the
# sandbox was entered did not kill it).
for s in lockd hotplugd watcherd broker; do
	[ -S "$T/run/$s.sock" ] || continue
	if [ -x "$BIN/devsepctl" ]; then
		"$BIN/devsepctl" --rundir "$T/run" status >/dev/null 2>&1
	fi
done
sleep 0.2
for p in "${PIDS[@]}"; do
	kill -0 "$p" 2>/dev/null || fail "pid $p died (see logs above)"
done
echo "test-daemons: $FAILS failure(s), $SKIPS daemon(s) skipped"
[ $FAILS = 0 ] || exit 1
[ $SKIPS = 0 ] || { echo "SKIP: $SKIPS daemon(s) not built"; exit 77; }
