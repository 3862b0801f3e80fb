#!/usr/bin/env bash
# Walks seed 002's create/destroy race (Ian Jackson's 8 steps) and its
# neighbours through the real lockd, with the invariant checked (lockd LIST
# vs the primary config, common/invariant.c) after every step.  The primary
# config (what QEMU / xenstore hold) is simulated by the file $P, changed
# only when the protocol allows the actor to act.  Proves:
#  A  destroy begun before create: create is refused (EBUSY), the qmp add
#     bombs out at its slow lock (ESRCH), finish removes the tombstone; a
#     later create gives a fresh domain;
#  B  create wins: qmp add describes its thing in the JSON before QMP, a
#     destroy makes its second fast lock fail (ESRCH: it bombs out leaving
#     a stale JSON entry, which the invariant allows), finish is refused
#     (EBUSY) until the broker confirms QEMU dead, then the JSON goes; a
#     crash after finish (step 8) leaves nothing behind;
#  C  the check can fail: a broker that confirms DM_GONE without killing
#     QEMU makes finish remove the JSON and the checker reports both items;
#  D  DESTROY_BEGIN waits until the current fast-lock holder lets go;
#  E  while a slow lock of a destroyed incarnation is held, re-create is
#     refused (EBUSY; the rule spin found, lockd/model/locks.pml) and the
#     holder's fast lock fails (ESRCH), so it bombs out.
. "$(dirname "$0")/lib.sh"
P=$T/primary
: >"$P"
start_lockd

inv() {	# inv STEP: the invariant must hold now
	tool check "$P" >"$T/chk" || fail "$1: invariant broken: $(cat $T/chk)"
	echo "  $1: $(tail -1 $T/chk)"
}
# A coprocess client holding one connection (the qmp-thing operation).
qmp_start() { coproc Q { exec $TOOL "$R" script; }; }
q() {	# q CMD...: one scripted request; prints the reply line
	echo "$*" >&"${Q[1]}"
	read -r -t 10 line <&"${Q[0]}" || fail "no reply to '$*'"
	echo "$line"
}
q_expect() {	# q_expect PREFIX CMD...
	local want=$1; shift
	local got; got=$(q "$@")
	case "$got" in "$want"*) ;; *) fail "'$*': got '$got', wanted '$want'";; esac
}
qmp_stop() { exec {Q[1]}>&-; wait "$Q_PID" 2>/dev/null; }

echo "A: destroy begins before the domain exists"
expect_rc 0 begin 5;                     inv "1 destroy begins (no qemu yet)"
expect_rc $X_EBUSY create 5;             inv "2 create refused, starts no qemu"
qmp_start
q_expect "error ESRCH" acquire 5 slow 1000; inv "4 qmp add bombs out"
qmp_stop
expect_rc 0 finish 5;                    inv "7 destroy removes the tombstone"
expect_rc 0 create 5;                    inv "  a later create is a fresh domain"
expect_rc 0 begin 5 nodm; expect_rc 0 finish 5

echo "B: create wins, destroy races the qmp add"
expect_rc 0 create 5 '{"dm":{"qemu":"qemu-system-x86_64"}}'
echo "5 qmp dm qemu" >>"$P";             inv "2 create: JSON, then qemu"
qmp_start
q_expect ok acquire 5 slow 1000
q_expect ok acquire 5 fast 1000
q_expect "ok generation=1" read 5
q_expect ok write 5 '{"dm":{"qemu":"qemu-system-x86_64"},"qmp":{"cdrom":[{"id":"ide-cd0","image":"/srv/a.iso"}]}}'
q_expect ok release 5 fast;              inv "4 qmp add: JSON describes the cdrom"
echo "5 qmp cdrom ide-cd0" >>"$P";       inv "5 qmp add: blockdev-add sent"
expect_rc 0 begin 5;                     inv "  destroy begins"
q_expect "error ESRCH" acquire 5 fast 1000
q_expect ok release 5 slow;              inv "6 qmp add bombs out (stale entry ok)"
qmp_stop
expect_rc $X_EBUSY finish 5;             inv "7 finish refused: qemu not confirmed dead"
: >"$P"; expect_rc 0 dmgone 5;           inv "  broker kills qemu, confirms"
expect_rc 0 finish 5;                    inv "7 JSON removed after qemu"
stop_lockd KILL; start_lockd;            inv "8 destroyer crash: nothing left"

echo "C: a lying DM_GONE is caught by the checker"
expect_rc 0 create 7 '{"dm":{},"qmp":{"cdrom":[{"id":"ide-cd0"}]}}'
printf '7 qmp dm qemu\n7 qmp cdrom ide-cd0\n' >"$P"; inv "qemu with a cdrom"
expect_rc 0 begin 7; expect_rc 0 dmgone 7; expect_rc 0 finish 7
tool check "$P" >"$T/chk" && fail "checker missed the violation"
[ "$(grep -c VIOLATION $T/chk)" = 2 ] || fail "expected 2 violations: $(cat $T/chk)"
echo "  checker: $(tail -1 $T/chk)"
: >"$P"

echo "D: destroy waits for the fast-lock holder"
expect_rc 0 create 8
qmp_start
q_expect ok acquire 8 fast 1000
$TOOL "$R" begin 8 >"$T/b" 2>&1 & B=$!
sleep 0.3
kill -0 $B 2>/dev/null || fail "destroy did not wait: $(cat $T/b)"
expect_rc $X_ESRCH try 8 fast
expect_rc $X_EBUSY dmgone 8		# not before the drain
expect_rc $X_EBUSY finish 8
q_expect ok write 8 '{"last":"write"}'
q_expect ok release 8 fast
wait $B || fail "destroy begin failed: $(cat $T/b)"
echo "  destroy began after the holder's last write"
qmp_stop

echo "E: a slow lock from a destroyed incarnation"
expect_rc 0 create 9
qmp_start
q_expect ok acquire 9 slow 1000
expect_rc 0 begin 9 nodm; expect_rc 0 finish 9
expect_rc $X_EBUSY create 9		# its qmp op could reach the new QEMU
grep -q "destroyed incarnation" "$T/out" || fail "message: $(cat $T/out)"
q_expect "error ESRCH" acquire 9 fast 1000	# the op bombs out
q_expect ok release 9 slow
expect_rc 0 create 9
q_expect ok acquire 9 slow 1000
q_expect ok acquire 9 fast 1000
qmp_stop
echo "  re-create refused until the old incarnation's slow lock was released"
ok "seed 002 race walked; invariant held at every step"
