# Sourced by watcherd's integration tests (run from the repo root):
# a test world (real xenstored under the fake hypervisor), the real
# devsep-hotplugd, the simulated kernel backend, and devsep-watcherd.
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/world/lib.sh"
. "$ROOT/tests/lib/daemons.sh"	# sanitizer_report
BIN=${BIN:-bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
PIDS=()

wd_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${W:-}" ] && "$ROOT/tests/lib/qmp-reap" "$W/run"	# QEMUs outlive the broker
	cleanup
}
trap wd_cleanup EXIT

# Test scripts, run by hotplugd through the job's scoped xenstore socket.
# Each call is logged as "<time> <script> <action> <XENBUS_PATH> <extra>".
write_scripts() {
	mkdir -p "$W/scripts"
	cat >"$W/scripts/test-hp" <<'S'
#!/bin/sh
# add/online: report connected (vbd also needs physical-device);
# remove/offline: record whether the backend said its I/O was done.
d=$(xenstore-exists "$XENBUS_PATH/shutdown-done" && echo drained || echo undrained)
echo "$(date +%s.%N) test-hp $1 $XENBUS_PATH $d" >>"$(dirname "$0")/../calls.log"
case $1 in
add|online)
	[ -n "${SLOW_ADD:-}" ] && sleep "$SLOW_ADD"
	xenstore-write "$XENBUS_PATH/physical-device" 7:0 \
		"$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
esac
exit 0
S
	cat >"$W/scripts/test-slow" <<'S'
#!/bin/sh
echo "$(date +%s.%N) test-slow $1 $XENBUS_PATH start" >>"$(dirname "$0")/../calls.log"
sleep 1
case $1 in
add|online) xenstore-write "$XENBUS_PATH/physical-device" 7:0 \
		"$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
esac
echo "$(date +%s.%N) test-slow $1 $XENBUS_PATH end" >>"$(dirname "$0")/../calls.log"
exit 0
S
	cat >"$W/scripts/test-hang" <<'S'
#!/bin/sh
echo "$(date +%s.%N) test-hang $1 $XENBUS_PATH" >>"$(dirname "$0")/../calls.log"
case $1 in add|online) echo $$ >"$(dirname "$0")/../hang.pid"; exec sleep 1000 ;; esac
exit 0
S
	cat >"$W/scripts/test-fail" <<'S'
#!/bin/sh
echo "$(date +%s.%N) test-fail $1 $XENBUS_PATH" >>"$(dirname "$0")/../calls.log"
case $1 in
add|online)
	xenstore-write "$XENBUS_PATH/hotplug-error" "test-fail: no such bridge" \
		"$XENBUS_PATH/hotplug-status" error
	exit 1 ;;
esac
exit 0
S
	cat >"$W/scripts/test-busy" <<'S'
#!/bin/sh
# block's ebusy twice (device in use elsewhere), then success
n=$(cat "$(dirname "$0")/../scratch/busy.count" 2>/dev/null || echo 0)
echo "$(date +%s.%N) test-busy $1 $XENBUS_PATH try$n" >>"$(dirname "$0")/../calls.log"
case $1 in
add|online)
	echo $((n + 1)) >"$(dirname "$0")/../scratch/busy.count"
	if [ "$n" -lt 2 ]; then
		xenstore-write "$XENBUS_PATH/hotplug-status" busy
		exit 1
	fi
	xenstore-write "$XENBUS_PATH/physical-device" 7:0 \
		"$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
esac
exit 0
S
	chmod 755 "$W"/scripts/*
	: >"$W/calls.log"
	chmod 666 "$W/calls.log"
	# the scripts run as per-job uids (hotplugd/launch.h): their state
	mkdir -p "$W/scratch"
	chmod 1777 "$W/scratch"
}

# write_conf [extra "key = value" lines...]: test defaults, overridable.
# backend_mode devsep: the test toolstack (actors/toolstack.c) runs no
# scripts, so watcherd drives dom0's backends as in a driver domain
# (auto would leave them to libxl in domain 0).
write_conf() {
	local l k defaults=(
		"backend_mode = devsep"
		"script_dir = $W/scripts" "init_timeout = 5s"
		"destroy_timeout = 2s" "hotplug_timeout = 2s"
		"io_drain_timeout = 3s" "qemu_bodge_timeout = 1s"
		"script_kill_grace = 200ms" "peer_retry = 100ms")
	{
		for l in "${defaults[@]}"; do
			k=${l%% =*}
			printf '%s\n' "$@" | grep -q "^$k =" || echo "$l"
		done
		for l in "$@"; do echo "$l"; done
	} >"$W/devsep.conf"
}

start_hotplugd() {
	"$BIN/devsep-hotplugd" -F -c "$W/devsep.conf" --rundir "$W/run" \
		>>"$W/hotplugd.log" 2>&1 &
	HP=$!; PIDS+=($HP)
	wait_for test -S "$W/run/hotplugd.sock" || fail "hotplugd socket"
}

start_backend() {	# [--io-drain-ms N]
	"$B/actor-backend" -v -d "$W" --backend-domid 0 --shutdown-done "$@" \
		>>"$W/be.log" 2>&1 &
	BE=$!; PIDS+=($BE)
	wait_for grep -q ready "$W/be.log" || fail "backend ready"
}

start_watcherd() {
	"$BIN/devsep-watcherd" -F -d -c "$W/devsep.conf" --rundir "$W/run" \
		>>"$W/watcherd.log" 2>&1 &
	WD=$!; PIDS+=($WD)
	wait_for grep -q "started" "$W/watcherd.log" || fail "watcherd start"
}

stop_watcherd() { kill "$WD" 2>/dev/null; wait "$WD" 2>/dev/null; }

# setup [conf lines...]: world + domain 5 + hotplugd + backend + watcherd.
setup() {
	new_world
	chmod 755 "$W"		# the daemons' users must reach their sockets
	mkdir -p "$W/run"
	write_scripts
	write_conf "$@"
	"$XW" domain create "$W" 5 >/dev/null || fail "create domain 5"
	start_hotplugd
	start_backend --io-drain-ms "${IO_DRAIN_MS:-0}"
	start_watcherd
}

be() { echo "/local/domain/0/backend/$1/5/$2"; }
fe() { echo "/local/domain/5/device/$1/$2"; }

add_dev() {	# kind devid script [toolstack args...]
	local k=$1 n=$2 s=$3; shift 3
	"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind "$k" \
		--devid "$n" --script "$s" "$@" || fail "toolstack add $k $n"
}

remove_dev() {	# kind devid [toolstack args]
	local k=$1 n=$2; shift 2
	"$B/actor-toolstack" remove --backend-domid 0 --domid 5 --kind "$k" \
		--devid "$n" "$@" || fail "toolstack remove $k $n"
}

gone() { [ "$("$B/check-xs" read "$1")" = "ERR ENOENT" ]; }

# wait_long SECONDS CMD...: like wait_for, longer.
wait_long() {
	local n=$(( $1 * 100 )) i; shift
	for i in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.01; done
	return 1
}

calls() { grep -c " $1 $2 " "$W/calls.log"; }	# action xenbus_path

show_logs() {
	echo "--- watcherd.log"; tail -n 40 "$W/watcherd.log"
	echo "--- hotplugd.log"; tail -n 20 "$W/hotplugd.log"
	echo "--- be.log"; tail -n 20 "$W/be.log"
	echo "--- calls.log"; cat "$W/calls.log"
	echo "--- xenstore"; xenstore-ls -f /local/domain/0/backend 2>&1 | head -40
	xenstore-ls -f /local/domain/5/device 2>&1 | head -20
}

wd_finish() {
	[ "$FAILS" -eq 0 ] || show_logs; [ -n "${KEEP:-}" ] && cp -r "$W" /tmp/wd-keep
	sanitizer_report "$W/watcherd.log" && fail "sanitizer"
	kill -0 "$WD" 2>/dev/null || fail "watcherd died"
	finish
}
