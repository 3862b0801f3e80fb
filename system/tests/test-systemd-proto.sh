#!/usr/bin/env bash
# Proves each daemon speaks to systemd as its unit expects, run as root
# exactly as the unit starts it (-F, dropping to its own user, under its
# seccomp filter in kill mode):
#  - Type=notify: with $NOTIFY_SOCKET set, "READY=1" (with MAINPID= of
#    the daemon) arrives only once its socket answers (checked: the socket
#    exists when READY is read), and "STOPPING=1" on SIGTERM;
#  - the journal: with $JOURNAL_STREAM naming its stderr, every line starts
#    with a syslog priority "<N>" and carries no timestamp of its own;
#    warnings are <4>, informational lines <6> (journalctl -p works);
#    without it, lines keep their "<time> name[pid]:" form;
#  - -p FILE in a missing directory: the directory is created owned by the
#    daemon's user, the pid file holds the daemon's pid and is removed at
#    exit although the daemon no longer runs as root (lockd even chrooted).
# Fails without the sd_notify / journal / pid file code (checked).
set -u
BIN=${BIN:-bin}
T=$(mktemp -d /tmp/devsep-sdproto.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$(dirname "$0")/../../tests/lib/qmp-reap" "$T/run"	# QEMUs outlive the broker
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
[ "$(id -u)" = 0 ] || fail "must run as root (the daemons drop privileges)"
scripts/create-users

# A datagram socket like systemd's notify socket: every datagram received
# goes to $T/notify.<name> (one per line, newlines as '|').
notify_listener() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a", buffering=1) as f:
    while True:
        d = s.recv(4096).decode(errors="replace").replace("\n", "|")
        f.write(d + "\n")
PY
	PIDS+=($!)
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.02; done
	fail "notify listener did not start"
}

mkdir -p "$T/run" "$T/state" "$T/scripts" "$T/images"
cat >"$T/devsep.conf" <<EOF
run_dir = $T/run
state_dir = $T/state
script_dir = $T/scripts
image_dirs = $T/images
qemu_binary = /usr/bin/qemu-system-x86_64
libxl_dir = $T/no-libxl
EOF
chmod 0755 "$T" "$T/run"
chown devsep-lockd: "$T/state"
chmod 0700 "$T/state"

# run_daemon NAME SOCK PROG ARGS...: starts PROG as systemd would.
run_daemon() {
	local name=$1 sock=$2 prog=$3 js; shift 3
	notify_listener "$T/notify-$name.sock" "$T/notify.$name"
	: >"$T/$name.log"
	js=$(stat -c '%d:%i' "$T/$name.log")
	NOTIFY_SOCKET=$T/notify-$name.sock JOURNAL_STREAM=$js \
	XENSTORED_PATH=$T/no-xenstored \
	    "$BIN/$prog" -F -c "$T/devsep.conf" -p "$T/pid-$name/pid" "$@" \
	    >>"$T/$name.log" 2>&1 &
	eval "PID_$name=$!"
	PIDS+=($!)
	for _ in $(seq 150); do
		grep -q READY=1 "$T/notify.$name" 2>/dev/null && break
		sleep 0.05
	done
	grep -q READY=1 "$T/notify.$name" 2>/dev/null ||
		{ cat "$T/$name.log"; fail "$name: no READY=1"; }
	[ -S "$T/run/$sock" ] || fail "$name: READY before its socket exists"
	ok "$name: READY=1 once $sock exists"
}

check_daemon() {
	local name=$1 user=$2 pid
	pid=$(eval echo "\$PID_$name")
	grep -q "READY=1|MAINPID=$pid|" "$T/notify.$name" ||
		fail "$name: READY without MAINPID=$pid: $(cat "$T/notify.$name")"
	[ "$(cat "$T/pid-$name/pid")" = "$pid" ] || fail "$name: pid file"
	[ "$(stat -c %U "$T/pid-$name")" = "$user" ] ||
		fail "$name: pid dir not owned by $user"
	[ "$(stat -c %u /proc/"$pid")" != 0 ] ||
		[ "$user" = root ] || fail "$name: still root"
	kill -TERM "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$pid" 2>/dev/null && fail "$name: did not exit on SIGTERM"
	wait "$pid" 2>/dev/null
	grep -q "STOPPING=1" "$T/notify.$name" || fail "$name: no STOPPING=1"
	[ -e "$T/pid-$name/pid" ] &&
		fail "$name: pid file left behind: $(cat "$T/$name.log")"
	grep -v '^<[0-7]>' "$T/$name.log" | grep -v '^<[0-7]>.*\[[0-9]*\]: ' |
		grep . && fail "$name: a line without a <N> priority"
	grep -Eq '^<[0-7]>[0-9]{9,}\.[0-9]{3} ' "$T/$name.log" &&
		fail "$name: second timestamp in the journal"
	grep -q '^<6>' "$T/$name.log" || fail "$name: no <6> info line"
	ok "$name: STOPPING=1, pid file removed, journal priorities"
}

run_daemon lockd lockd.sock devsep-lockd
check_daemon lockd devsep-lockd
run_daemon hotplugd hotplugd.sock devsep-hotplugd
check_daemon hotplugd devsep-hotplugd
run_daemon broker broker.sock devsep-qemu-broker
check_daemon broker devsep-broker
run_daemon watcherd watcherd.sock devsep-watcherd
# no xenstore here: watcherd answers and warns (<4>) while it retries
for _ in $(seq 60); do grep -q '^<4>' "$T/watcherd.log" && break; sleep 0.05; done
grep -q '^<4>.*xs' "$T/watcherd.log" ||
	fail "watcherd: no <4> warning: $(cat "$T/watcherd.log")"
check_daemon watcherd devsep-watcherd

# Without JOURNAL_STREAM (a terminal, a test): the old form.
"$BIN/devsep-lockd" -F -c "$T/devsep.conf" >"$T/plain.log" 2>&1 &
p=$!
PIDS+=($p)
for _ in $(seq 100); do grep -q ready "$T/plain.log" && break; sleep 0.05; done
kill -TERM $p; wait $p 2>/dev/null
grep -Eq "^[0-9]+\.[0-9]{3} devsep-lockd\[$p\]: " "$T/plain.log" ||
	fail "plain stderr form: $(head -2 "$T/plain.log")"
ok "stderr without the journal keeps timestamps"
echo "PASS: sd_notify, journal priorities, pid files"
