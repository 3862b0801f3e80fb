#!/usr/bin/env bash
# test-sockets.sh: issue 14's socket and peer attacks, played by real
# unprivileged processes against the real daemons (started as root, so in
# their real sandboxes: own users, seccomp, chroot), each step a line:
#
#   attack 2  a symlink planted in the run dir before a root start is never
#             followed (watcherd-jobs -> victim dir: watcherd refuses to
#             start, the victim keeps owner and mode; a lock file link is
#             refused too, and the broker's qmp dir link); a run dir owned
#             by another uid is refused.
#   attack 4  no daemon socket can be opened by uid 65534 or the scripts'
#             uid (0660 root:devsep): 40 connections each -> EACCES; with
#             65534 holding a flood, watcherd (started afterwards) still
#             reaches hotplugd and devsepctl is served; a flood by one peer
#             class (the broker's uid, 40 idle connections on watcherd.sock)
#             leaves devsepctl (admin) its slots; an idle admin connection
#             is closed after peer_idle_timeout (1 s here).
#   attack 5  an impostor listening as uid 65534 in a run dir: devsepctl
#             disk-add and locks refuse it and it receives nothing.
#   attack 7  a second instance of each daemon on the same run dir (no -p)
#             exits "already running"; the first keeps its socket and
#             `devsepctl status` still sees all four.
#   attack 9  the matrix: the daemon users (given the socket group, so the
#             daemons' own class checks are what refuses) are dropped for
#             what they never send: watcherd -> lockd ACQUIRE / CONFIG_WRITE
#             / QUERY, broker -> hotplugd RUN, lockd -> broker DISK_ADD,
#             hotplugd -> watcherd CDROM_UPDATE.
#
# The script identity is a job's: uid script_uid_base + slot (the default
# base), gid devsep-script, no supplementary group (hotplugd/launch.h);
# hotplugd's own uid is tried too.  Needs root (setpriv), python3, the test world.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
CTL=$BIN/devsepctl
T=$(mktemp -d /tmp/sbx-s.XXXXXX)
R=$T/run
FAILS=0
PIDS=()
FLOODS=()

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
expect() {	# expect WHAT GOT WANT
	[ "$2" = "$3" ] && ok "$1: $2" || fail "$1: got '$2', want '$3'"
}
cleanup() {
	local p
	for p in "${FLOODS[@]}" "${PIDS[@]}"; do
		kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
	done
	[ -n "${W:-}" ] && tests/xenworld stop "$W" >/dev/null 2>&1
	for p in "$T"/*.log; do
		grep -q "Sanitizer\|runtime error" "$p" 2>/dev/null &&
		    { echo "FAIL: sanitizer report in $p"; FAILS=$((FAILS + 1)); }
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
	echo "test-sockets: $FAILS failure(s)"
	[ $FAILS = 0 ] && exit 0
	exit 1
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (the daemons' real users)"; exit 1; }
for b in devsep-lockd devsep-hotplugd devsep-watcherd devsep-qemu-broker devsepctl; do
	[ -x "$BIN/$b" ] || { echo "FAIL: no $BIN/$b (make)"; exit 1; }
done
for g in devsep devsep-script; do
	getent group $g >/dev/null || { echo "FAIL: no group $g (scripts/create-users)"; exit 1; }
done

# The attacker's tool, where every uid can read it.
chmod 0755 "$T"
ATK=$T/sock-attack.py
install -m 0755 tests/sandbox/sock-attack.py "$ATK"
PY=/usr/bin/python3
SCRIPT_UID=16842752	# config script_uid_base: a job's uid (slot 0)
O=$T/out	# what the attackers write (flood counts, impostor logs)
mkdir -m 1777 "$O"
# as_nobody / as_script / as_peer USER: the tool under that uid, exec'ed
# (a background one is then one pid, killed by cleanup)
as_nobody() { exec setpriv --reuid=65534 --regid=65534 --clear-groups $PY "$ATK" "$@"; }
as_script() { exec setpriv --reuid=$SCRIPT_UID --regid=devsep-script --clear-groups $PY "$ATK" "$@"; }
as_hotplugd() { exec setpriv --reuid=devsep-hotplugd --regid=devsep-hotplugd --clear-groups $PY "$ATK" "$@"; }
# a daemon user plus the socket group: only the daemon's class check stands
as_peer() { local u=$1; shift; exec setpriv --reuid="$u" --regid="$u" --groups=devsep $PY "$ATK" "$@"; }

printf 'peer_idle_timeout = 1s\n' >"$T/devsep.conf"
COMMON=(-F -d -c "$T/devsep.conf" --rundir "$R")

# start NAME SOCK CMD...: starts a daemon in the background, waits for SOCK.
start() {
	local name=$1 sock=$2 i; shift 2
	"$@" >>"$T/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$name=$!"
	for i in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.05
	done
	fail "$name did not start: $(tail -3 "$T/$name.log")"
	return 1
}
# exits NAME CMD...: CMD (a daemon) must exit non-zero within 3 s.
exits() {
	local what=$1 p i; shift
	"$@" >"$T/exits.out" 2>&1 &
	p=$!
	for i in $(seq 60); do kill -0 $p 2>/dev/null || break; sleep 0.05; done
	if kill -0 $p 2>/dev/null; then
		kill $p; wait $p 2>/dev/null
		fail "$what: still running"
		return 1
	fi
	wait $p && { fail "$what: exited 0"; return 1; }
	return 0
}
ctl_json() { "$CTL" --rundir "$R" --json status "$@" 2>&1; }

mkdir -p "$R" "$T/state"
chmod 0755 "$R"

# ---- attack 2: planted links, a foreign run dir --------------------------
mkdir -m 0755 "$T/victim"
ln -s "$T/victim" "$R/watcherd-jobs"
echo keep >"$T/victim.file"
ln -s "$T/victim.file" "$R/devsep-lockd.lock"
exits "lockd with its lock file a planted link" \
    "$BIN/devsep-lockd" "${COMMON[@]}" --statedir "$T/state" &&
    ok "lockd refuses a planted lock file link"
expect "victim file after lockd" "$(cat "$T/victim.file")" keep
rm "$R/devsep-lockd.lock"
mkdir -m 0755 "$T/foreign"
chown 65534:65534 "$T/foreign"
exits "hotplugd in a run dir owned by uid 65534" \
    "$BIN/devsep-hotplugd" -F -c "$T/devsep.conf" --rundir "$T/foreign" &&
    grep -q "owned by uid 65534" "$T/exits.out" &&
    ok "a run dir owned by uid 65534 is refused" ||
    fail "foreign run dir: $(cat "$T/exits.out")"
[ -e "$T/foreign/hotplugd.sock" ] && fail "socket made in the foreign run dir"

mkdir -m 0755 "$T/victim2"
ln -s "$T/victim2" "$R/qmp"
exits "broker with <rundir>/qmp a planted link" "$BIN/devsep-qemu-broker" "${COMMON[@]}"
expect "qmp victim dir owner and mode" "$(stat -c '%U %a' "$T/victim2")" "root 755"
rm "$R/qmp"

start lockd "$R/lockd.sock" "$BIN/devsep-lockd" "${COMMON[@]}" --statedir "$T/state"
start hotplugd "$R/hotplugd.sock" "$BIN/devsep-hotplugd" "${COMMON[@]}"
start broker "$R/broker.sock" "$BIN/devsep-qemu-broker" "${COMMON[@]}"
for s in lockd hotplugd broker; do
	expect "$s.sock mode" "$(stat -c '%a %U:%G' "$R/$s.sock")" "660 root:devsep"
done

# ---- attack 4: floods by uids that are no daemon ---------------------------
for s in hotplugd lockd broker; do
	(as_nobody flood "$R/$s.sock" 40 "$O/flood-nobody-$s") &
	FLOODS+=($!)
	(as_script flood "$R/$s.sock" 40 "$O/flood-script-$s") &
	FLOODS+=($!)
done
sleep 1
for f in "$O"/flood-*; do
	expect "${f##*/}" "$(cat "$f" 2>/dev/null)" "open=0 eacces=40 other=0"
done

# watcherd starts now, under the floods, with the planted jobs link
W=$(mktemp -d /tmp/xw.XXXXXX)
eval "$(tests/xenworld start "$W")" || { fail "no test world"; exit 1; }
exits "watcherd with <rundir>/watcherd-jobs a planted link" \
    "$BIN/devsep-watcherd" "${COMMON[@]}" --domid 0
expect "victim dir owner and mode (not followed as root)" \
    "$(stat -c '%U %a' "$T/victim")" "root 755"
rm "$R/watcherd-jobs"
start watcherd "$R/watcherd.sock" "$BIN/devsep-watcherd" "${COMMON[@]}" --domid 0
expect "watcherd-jobs" "$(stat -c '%F %U %a' "$R/watcherd-jobs")" \
    "directory devsep-watcherd 710"
for i in $(seq 60); do
	ctl_json | grep -q '"hotplugd": *true' && break
	sleep 0.05
done
ctl_json | grep -q '"hotplugd": *true' &&
    ok "watcherd reached hotplugd during the floods" ||
    fail "watcherd did not reach hotplugd: $(ctl_json | head -c 300)"
"$CTL" --rundir "$R" status >"$T/st.out" 2>&1 &&
    ok "devsepctl status served during the floods" ||
    fail "devsepctl status: $(cat "$T/st.out")"

# one peer class floods: the broker's uid holds 40 idle connections on
# watcherd.sock (it may send CDROM_UPDATE there, so it gets its class's 32)
(as_peer devsep-broker flood "$R/watcherd.sock" 40 "$O/bflood") &
FLOODS+=($!)
sleep 0.5
"$CTL" --rundir "$R" status watcherd >"$T/st.out" 2>&1 &&
    ok "devsepctl served while the broker's class is at its limit" ||
    fail "devsepctl during the broker-class flood: $(cat "$T/st.out")"
grep -q "broker connections already" "$T/watcherd.log" &&
    ok "the broker class was held to its own limit" ||
    fail "no per-class refusal in watcherd's log"
n=$(grep -c "control: refused" "$T/watcherd.log")
[ "$n" -le 2 ] && ok "8 refusals in a burst: $n log line(s)" ||
    fail "refusals flood the log: $n lines"

# idle admin connections are closed after peer_idle_timeout (1 s)
for s in lockd hotplugd watcherd broker; do
	r=$($PY "$ATK" idle "$R/$s.sock" 4)
	case $r in
	CLOSED*) ok "$s closes an idle admin connection ($r s)" ;;
	*) fail "$s: idle admin connection: $r" ;;
	esac
done

# ---- attack 9: what each daemon user never sends is dropped --------------
expect "watcherd -> lockd LOCK_ACQUIRE" \
    "$(as_peer devsep-watcherd send "$R/lockd.sock" 200 1 5 1 0 100)" DROPPED
expect "watcherd -> lockd LOCK_CONFIG_WRITE" \
    "$(as_peer devsep-watcherd send "$R/lockd.sock" 204 1 5 u64:0 's:{"x":1}')" DROPPED
expect "watcherd -> lockd LOCK_QUERY" \
    "$(as_peer devsep-watcherd send "$R/lockd.sock" 209 5)" DROPPED
expect "broker -> hotplugd HOTPLUG_RUN" \
    "$(as_peer devsep-broker send "$R/hotplugd.sock" 100 u64:1)" DROPPED
expect "lockd -> broker DISK_ADD" \
    "$(as_peer devsep-lockd send "$R/broker.sock" 305 5 1)" DROPPED
expect "hotplugd -> watcherd CDROM_UPDATE" \
    "$(as_peer devsep-hotplugd send "$R/watcherd.sock" 402 5 5632 s:/x s:file s:r)" DROPPED
for s in lockd hotplugd watcherd broker; do
	expect "script uid -> $s.sock STATUS" "$(as_script send "$R/$s.sock" 1)" EACCES
	expect "hotplugd's uid -> $s.sock STATUS" "$(as_hotplugd send "$R/$s.sock" 1)" EACCES
done
grep -q "refused pid=[0-9]* uid=$(id -u devsep-watcherd) at accept" "$T/lockd.log" &&
    ok "lockd refused watcherd's uid at accept" ||
    fail "no refusal at accept in lockd's log"

# ---- attack 5: an impostor daemon ----------------------------------------
I=$T/imp
mkdir -m 0755 "$I"
chown 65534:65534 "$I"
for s in broker lockd; do
	(as_nobody impostor "$I/$s.sock" "$O/imp-$s.log") &
	FLOODS+=($!)
done
for i in $(seq 60); do [ -S "$I/broker.sock" ] && [ -S "$I/lockd.sock" ] && break; sleep 0.05; done
"$CTL" --rundir "$I" disk-add 5 1 /var/lib/xen/images/secret.img >"$T/ctl.out" 2>&1 &&
    fail "devsepctl disk-add believed the impostor: $(cat "$T/ctl.out")"
grep -q impostor "$T/ctl.out" && ok "devsepctl disk-add: $(head -1 "$T/ctl.out")" ||
    fail "devsepctl disk-add: no impostor error: $(cat "$T/ctl.out")"
"$CTL" --rundir "$I" locks >"$T/ctl.out" 2>&1 &&
    fail "devsepctl locks believed the impostor: $(cat "$T/ctl.out")"
expect "what the impostor broker received" "$(grep got "$O/imp-broker.log" 2>/dev/null)" ""
expect "what the impostor lockd received" "$(grep got "$O/imp-lockd.log" 2>/dev/null)" ""

# watcherd's own client check: its run dir's hotplugd.sock answered by uid
# 65534 (bound by root, listen()ed after a drop to 65534: as if a socket in
# the root-only run dir were served by someone else)
R3=$T/run3
mkdir -m 0755 "$R3"
($PY "$ATK" impostor "$R3/hotplugd.sock" "$O/imp-hp.log" 65534) &
FLOODS+=($!)
for i in $(seq 60); do [ -S "$R3/hotplugd.sock" ] && break; sleep 0.05; done
start watcherd3 "$R3/watcherd.sock" "$BIN/devsep-watcherd" -F -d -c "$T/devsep.conf" \
    --rundir "$R3" --domid 0
for i in $(seq 60); do grep -q impostor "$T/watcherd3.log" && break; sleep 0.05; done
grep -q "answered by uid 65534.*impostor" "$T/watcherd3.log" &&
    ok "watcherd refuses an impostor hotplugd (uid 65534)" ||
    fail "watcherd did not refuse the impostor hotplugd"
"$CTL" --rundir "$R3" --json status watcherd 2>&1 | grep -q '"hotplugd": *false' &&
    ok "watcherd is not connected to the impostor" ||
    fail "watcherd connected to the impostor hotplugd"
expect "what the impostor hotplugd received" "$(grep got "$O/imp-hp.log" 2>/dev/null)" ""

# the broker's lockd client: lockd.sock answered by uid 65534 likewise
R4=$T/run4
mkdir -m 0755 "$R4"
($PY "$ATK" impostor "$R4/lockd.sock" "$O/imp-lk.log" 65534) &
FLOODS+=($!)
for i in $(seq 60); do [ -S "$R4/lockd.sock" ] && break; sleep 0.05; done
start broker4 "$R4/broker.sock" "$BIN/devsep-qemu-broker" -F -d -c "$T/devsep.conf" \
    --rundir "$R4"
"$CTL" --rundir "$R4" disk-remove 5 1 >"$T/ctl.out" 2>&1 &&
    fail "disk-remove went through an impostor lockd: $(cat "$T/ctl.out")"
grep -q "lockd.sock is answered by neither root nor devsep-lockd: an impostor" \
    "$T/broker4.log" && ok "the broker refuses an impostor lockd (uid 65534)" ||
    fail "the broker did not refuse the impostor lockd: $(cat "$T/ctl.out")"
expect "what the impostor lockd (broker's) received" "$(grep got "$O/imp-lk.log" 2>/dev/null)" ""

# ---- attack 7: a second instance ------------------------------------------
exits "second lockd" "$BIN/devsep-lockd" "${COMMON[@]}" --statedir "$T/state" &&
    grep -q "already running" "$T/exits.out" && ok "second lockd: already running" ||
    fail "second lockd: $(cat "$T/exits.out")"
exits "second hotplugd" "$BIN/devsep-hotplugd" "${COMMON[@]}" &&
    grep -q "already running" "$T/exits.out" && ok "second hotplugd: already running" ||
    fail "second hotplugd: $(cat "$T/exits.out")"
exits "second watcherd" "$BIN/devsep-watcherd" "${COMMON[@]}" --domid 0 &&
    grep -q "already running" "$T/exits.out" && ok "second watcherd: already running" ||
    fail "second watcherd: $(cat "$T/exits.out")"
exits "second broker" "$BIN/devsep-qemu-broker" "${COMMON[@]}" &&
    grep -q "already running" "$T/exits.out" && ok "second broker: already running" ||
    fail "second broker: $(cat "$T/exits.out")"
for s in lockd hotplugd watcherd broker; do
	[ -S "$R/$s.sock" ] || fail "$s.sock gone after a second instance"
	eval "p=\$PID_$s"
	kill -0 "$p" 2>/dev/null || fail "first $s died"
done
"$CTL" --rundir "$R" status >"$T/st.out" 2>&1 &&
    ok "devsepctl status still sees all four" ||
    fail "devsepctl status after second instances: $(cat "$T/st.out")"
