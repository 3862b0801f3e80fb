#!/usr/bin/env bash
# Proves the seed-002 invariant ("nothing in QEMU without a JSON entry")
# when a CD-ROM insert races the domain's destruction (lockd's destroy
# protocol: DESTROY_BEGIN -> broker DM_DESTROY (QEMU killed and reaped,
# DM_GONE) -> DESTROY_FINISH):
#  A. deterministic, slow QEMU (fake-qemu 909, 300 ms per answer): the
#     insert has written its JSON entry and is talking QMP when destroy
#     begins; destroy does not wait for the slow lock, kills QEMU, the
#     insert fails (EPIPE/ESRCH) and never recreates the JSON; the JSON is
#     gone only after QEMU is reaped;
#  B. destroy begun first: the insert is refused at the slow lock (ESRCH)
#     and QEMU is never touched;
#  C. real QEMU, 10 random interleavings: whatever the outcome, a sampler
#     running throughout never sees a medium in a live QEMU without its
#     JSON entry, and at the end QEMU is reaped, the JSON removed, no lock
#     held, the broker alive.
. "$(dirname "$0")/lib.sh"

QMP_TIMEOUT=2s
write_conf "qemu_binary = $PWD/$BUILD/tests/fake-qemu"
start_lockd
start_broker
mkimg cd.iso 0640

destroy() {	# the toolstack's side, in seed-002 order
	c lock-destroy-begin "$1" >"$T/destroy.$1" 2>&1 || return 1
	c dm-destroy "$1" >>"$T/destroy.$1" 2>&1 || return 2
	c lock-destroy-finish "$1" >>"$T/destroy.$1" 2>&1 || return 3
}

# -- A
c lock-create 909 >/dev/null
expect_rc 0 dm-start 909 3
QPID=$(qemu_pid 909)
c cd-insert 909 3 "$IMG/cd.iso" >"$T/ins" 2>&1 &
INS=$!
for _ in $(seq 100); do
	[ "$(things 909 cdrom)" = 3 ] && break
	sleep 0.02
done
[ "$(things 909 cdrom)" = 3 ] || fail "A: no JSON entry before QMP"
destroy 909 || fail "A: destroy step $? failed: $(cat "$T/destroy.909")"
wait $INS; rc=$?
case $rc in $X_EPIPE|$X_ESRCH|$X_EIO) ;; *) fail "A: insert rc $rc: $(cat "$T/ins")" ;; esac
kill -0 "$QPID" 2>/dev/null && fail "A: QEMU alive"
[ -z "$(json_cfg 909)" ] || fail "A: JSON left: $(json_cfg 909)"
alive
ok "A: insert during destroy failed cleanly ($(cat "$T/ins")), QEMU reaped, JSON removed"

# -- B
c lock-create 910 >/dev/null
expect_rc 0 dm-start 910 3
c lock-destroy-begin 910 >/dev/null || fail "B: destroy-begin"
expect_rc $X_ESRCH cd-insert 910 3 "$IMG/cd.iso"
c cd-list 910 | jq -e '.[0].inserted == false' >/dev/null ||
    fail "B: QEMU touched: $(c cd-list 910)"
expect_rc 0 dm-destroy 910
c lock-destroy-finish 910 >/dev/null || fail "B: finish"
ok "B: insert after destroy-begin refused (ESRCH), QEMU untouched"

# -- C: real QEMU
stop_broker
write_conf
start_broker

sampler() {	# $1: domid; runs until killed, fails loudly on a violation
	local d=$1 pid things cds
	while :; do
		pid=$(qemu_pid "$d")
		[ "$pid" != 0 ] || { sleep 0.01; continue; }
		things=$(qemu_things "$d")
		cds=" $(things "$d" cdrom) "
		kill -0 "$pid" 2>/dev/null || continue	# QEMU died meanwhile
		[ "$(qemu_pid "$d")" = "$pid" ] || continue
		for t in $things; do
			[[ "$cds" == *" ${t#cd} "* ]] ||
			    { echo "VIOLATION $t json[$cds]" >>"$T/violations"; }
		done
	done
}

outcomes=""
for i in $(seq 10); do
	d=$((20 + i))
	c lock-create $d >/dev/null || fail "C$i: create"
	expect_rc 0 dm-start $d --run 3
	QPID=$(qemu_pid $d)
	sampler $d & SAMP=$!
	c cd-insert $d 3 "$IMG/cd.iso" >"$T/ins" 2>&1 &
	INS=$!
	sleep "0.00$((RANDOM % 10))"
	destroy $d || fail "C$i: destroy step $?: $(cat "$T/destroy.$d")"
	wait $INS; rc=$?
	kill $SAMP; wait $SAMP 2>/dev/null
	case $rc in 0|$X_EPIPE|$X_ESRCH|$X_EIO) ;;
	*) fail "C$i: insert rc $rc: $(cat "$T/ins")" ;; esac
	outcomes="$outcomes $rc"
	kill -0 "$QPID" 2>/dev/null && fail "C$i: QEMU alive"
	[ -z "$(json_cfg $d)" ] || fail "C$i: JSON left"
	[ -z "$(c lock-list | jq ".domains[] | select(.domid == $d)")" ] ||
	    fail "C$i: domain still in lockd: $(c lock-list)"
done
[ ! -s "$T/violations" ] || fail "invariant violated: $(cat "$T/violations")"
alive
[ "$(c list all | jq '.domains | length')" = 0 ] || fail "QEMUs left"
ok "C: 10 real-QEMU races (insert exit codes:$outcomes), no violation sampled"
