#!/usr/bin/env bash
# Proves that a hostile or broken QEMU costs only its own domain's
# operation: with fake-qemu as qemu_binary (tests/fake-qemu.c, behaviour
# chosen by domid), a QEMU that stalls at the greeting, sends garbage or a
# 2 MiB line fails DM_START with EIO; one that never answers, dies
# mid-command, answers with wrong ids, sends garbage or a 2 MiB line in
# reply fails that insert with ETIMEDOUT / EPIPE / EPROTO.  After each:
# the broker answers, no lock is held, the JSON never lacks an entry for
# anything QEMU may hold, and destroy still kills and reaps the QEMU
# (SIGKILL when it ignores "quit").  A well-behaved domain keeps working
# alongside, and the broker leaks no fd.
. "$(dirname "$0")/lib.sh"

start_fake_qemu
for d in 900 901 902 903 904 905 906 907 908; do
	c lock-create $d >/dev/null || fail "lock-create $d"
done
expect_rc 0 dm-start 900 3	# the well-behaved one
sleep 0.2
BFD=$(nfds $BROKER_PID)

for d in 901 902 903; do
	t0=$(date +%s%N)
	expect_rc $X_EIO dm-start $d 3
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $ms -lt 3000 ] || fail "dm-start $d took $ms ms"
	alive
	no_lock_held $d
	# QEMU may still run (BROKEN): its dm entry must stay
	json_cfg $d | jq -e '.dm.state == "starting"' >/dev/null ||
	    fail "dm entry of $d: $(json_cfg $d)"
	expect_rc 0 dm-destroy $d
	ok "domid $d: DM_START refused ($(cat "$T/out" | head -c 0)EIO in $ms ms), destroy reaped it"
done

# insert against misbehaving QMP peers
declare -A want=( [904]=$X_ETIMEDOUT [905]=$X_EPIPE [906]=$X_ETIMEDOUT
    [907]=$X_EPROTO [908]=$X_EPROTO )
for d in 904 905 906 907 908; do
	expect_rc 0 dm-start $d 3
	expect_rc ${want[$d]} cd-insert $d 3 "$IMG/cd.iso"
	msg=$(cat "$T/out")
	alive
	no_lock_held $d
	# an insert whose QEMU state is unknown keeps its JSON entry
	# ("adding"): stale entries are allowed, missing ones are not
	case $d in
	905)	;;	# QEMU gone: nothing can be in it
	*)	[ "$(things $d cdrom)" = 3 ] ||
		    fail "$d: JSON entry dropped while QEMU may hold it" ;;
	esac
	expect_rc 0 cd-insert 900 3 "$IMG/cd.iso"	# the good one still works
	expect_rc 0 cd-eject 900 3
	expect_rc 0 dm-destroy $d
	ok "domid $d: insert failed cleanly ($msg)"
done
c stats | jq -e '.qmp.lies >= 1 and .qmp.timeouts >= 2' >/dev/null ||
    fail "stats: $(c stats)"
fds_at_most $BROKER_PID $BFD || fail "broker fds $BFD -> $(nfds $BROKER_PID)"
[ "$(c list all | jq '.domains | length')" = 1 ] || fail "QEMUs left: $(c list all)"
ok "broker fds stable ($BFD), only the good QEMU left"
