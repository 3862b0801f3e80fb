# Helpers for the broker's integration scripts (sourced).  Each test runs
# its own devsep-lockd and devsep-qemu-broker in a temp dir; as root the
# broker drops to devsep-broker (so images must be readable by that group)
# and its launcher starts each QEMU as qemu_uid_base + domid.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/daemons.sh"
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
BROKERC=$BUILD/tests/brokerc
T=$(mktemp -d /tmp/broker-test.XXXXXX)
chmod 755 "$T"
R=$T/run
S=$T/state
IMG=$T/img
mkdir -p "$R" "$S" "$IMG"
chgrp devsep-broker "$IMG" && chmod 2750 "$IMG"
LOCKD_PID= BROKER_PID=
UID_BASE=16777216
# exit codes of brokerc: 10 + errno
X_ENOENT=12 X_EIO=15 X_EACCES=23 X_EEXIST=27 X_EINVAL=32 X_EPIPE=42
X_ELOOP=50 X_ESRCH=13 X_EPROTO=81 X_ENOTCONN=117 X_ETIMEDOUT=120

fail() {
	echo "FAIL: $*"
	for f in "$T"/broker.log "$T"/lockd.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -25 "$f"; }
	done
	exit 1
}
ok() { echo "ok: $*"; }

# write_conf [key = value lines...]: the broker's config.
write_conf() {
	{
		echo "image_dirs = $IMG"
		echo "qmp_cmd_timeout = ${QMP_TIMEOUT:-3s}"
		echo "lock_timeout = 5s"
		echo "destroy_timeout = 2s"
		for l in "$@"; do echo "$l"; done
	} >"$T/conf"
}

start_lockd() { lockd_start c lock-list; }
stop_lockd() { bg_stop LOCKD_PID; }

start_broker() {	# extra daemon args
	[ -f "$T/conf" ] || write_conf
	bg_start BROKER_PID "$T/broker.log" "$BIN/devsep-qemu-broker" -F -d \
	    -c "$T/conf" --rundir "$R" "$@"
	wait_ready broker "$R/broker.sock" c status
}

stop_broker() { bg_stop BROKER_PID; }

# start_fake_qemu: lockd and a broker whose QEMU is tests/fake-qemu
# (behaviour chosen by domid), QMP timeout 500 ms; an image cd.iso.
start_fake_qemu() {
	QMP_TIMEOUT=500ms
	write_conf "qemu_binary = $PWD/$BUILD/tests/fake-qemu"
	start_lockd
	start_broker
	mkimg cd.iso 0640
}

cleanup() {
	local rc=$?
	stop_broker
	stop_lockd
	tests/lib/qmp-reap "$R"		# QEMUs outlive the broker
	# a sanitizer build (BIN=bin-asan) reports at exit: fail on it
	finish_test "$rc" "$T/broker.log"
}
trap cleanup EXIT

c() { $BROKERC "$R" "$@"; }

# expect_rc CODE CMD...: runs a brokerc command, checks its exit code;
# the output is left in $T/out.
expect_rc() { expect_rc_of c "$@"; }

# alive: the broker still answers.
alive() {
	kill -0 "$BROKER_PID" 2>/dev/null || fail "broker died"
	c status >/dev/null || fail "broker does not answer"
}

# json_cfg DOMID: the domain's JSON config in lockd (empty when absent).
json_cfg() {
	c lock-list | jq -c ".domains[] | select(.domid == $1) | .config"
}

# things DOMID KIND: ids of the JSON's qmp KIND entries, one line, sorted.
things() {
	json_cfg "$1" | jq -r "[.qmp.$2[]?.id] | sort | join(\" \")"
}

# no_lock_held DOMID: neither lock of the domain has a holder.
no_lock_held() {
	c lock-query "$1" | jq -e 'all(.domains[]; .slow.holder == null and
	    .fast.holder == null)' >/dev/null ||
	    fail "a lock of domain $1 is still held: $(c lock-query "$1")"
}

# qemu_pid DOMID: the broker's QEMU for that domain (0: none).
qemu_pid() {
	c list "$1" | jq '.domains[0].pid // 0'
}

# qemu_things DOMID: what QEMU really holds, "cd3 disk7 ..." (sorted):
# drives with a medium and hot-added disks, from the broker's live LIST.
qemu_things() {
	c list "$1" | jq -r '[.domains[0].block[]? | select(.inserted != null)
	    | .qdev] | sort | join(" ")'
}

# qemu_fdsets DOMID: the opaque tags of every fd in QEMU's fdsets.
qemu_fdsets() {
	c list "$1" | jq -r '[.domains[0].fdsets[]?.fds[].opaque] | sort |
	    join(" ")'
}

nfds() { ls "/proc/$1/fd" | wc -l; }

mkimg() {	# name [mode] [size]
	truncate -s "${3:-1M}" "$IMG/$1"
	chgrp devsep-broker "$IMG/$1"
	chmod "${2:-0660}" "$IMG/$1"
}

# check_invariant DOMID: seed 002 — nothing in QEMU without a JSON entry:
# a running QEMU needs config.dm, each medium/disk a qmp entry.
check_invariant() {
	local d=$1 t cds disks
	cds=" $(things "$d" cdrom) "
	disks=" $(things "$d" disk) "
	for t in $(qemu_things "$d"); do
		case $t in
		cd*)	[[ "$cds" == *" ${t#cd} "* ]] ||
			    fail "invariant: QEMU has $t, JSON cdrom [$cds]" ;;
		disk*)	[[ "$disks" == *" ${t#disk} "* ]] ||
			    fail "invariant: QEMU has $t, JSON disk [$disks]" ;;
		esac
	done
	if [ "$(qemu_pid "$d")" != 0 ]; then
		json_cfg "$d" | jq -e '.dm | type == "object"' >/dev/null ||
		    fail "invariant: a QEMU runs for $d without a JSON dm entry"
	fi
}

# fds_at_most PID N: waits (1 s) until PID has at most N fds — a client
# connection the broker has not seen close yet is not a leak.
fds_at_most() {
	for _ in $(seq 50); do
		[ "$(nfds "$1")" -le "$2" ] && return 0
		sleep 0.02
	done
	return 1
}
