#!/usr/bin/env bash
# Proves the driver-domain qdisk backend QEMUs (seed 004), refcounted per
# guest, with lockd absent (a driver domain runs no lockd): the first
# QDISK_ATTACH launches a QEMU (real qemu-system-x86_64; --qdisk-test-
# machine replaces -machine xenpv, as there is no hypervisor here) as
# qemu_uid_base+domid, later attaches only count (idempotent per device),
# detaching an unknown device is ENOENT, the last detach kills and reaps
# the QEMU; watcherd's user may ask, lockd's user may not (dropped);
# when the broker is killed its launcher exits and the QEMU keeps running;
# a restarted broker adopts it and destroys it on the last detach.
. "$(dirname "$0")/lib.sh"

write_conf
start_broker --qdisk-test-machine
expect_rc 0 qdisk-attach 7 51712
read -r REFS QPID <"$T/out"
[ "$REFS" = 1 ] || fail "refs $REFS"
grep -q "^Uid:	$((UID_BASE + 7))	" /proc/$QPID/status || fail "uid"
expect_rc 0 qdisk-attach 7 51728
[ "$(cat "$T/out")" = "2 $QPID" ] || fail "second attach: $(cat "$T/out")"
expect_rc 0 qdisk-attach 7 51728
[ "$(cat "$T/out")" = "2 $QPID" ] || fail "repeated attach: $(cat "$T/out")"
ok "attach: one QEMU ($QPID) for guest 7, refs 2, idempotent"

# as USER: the user with the socket group devsep, as watcherd runs
as() { setpriv --reuid="$1" --regid="$1" --groups=devsep $BROKERC "$R" "${@:2}"; }
as devsep-watcherd qdisk-attach 8 51712 >"$T/out" 2>&1 ||
    fail "watcherd refused: $(cat "$T/out")"
as devsep-lockd qdisk-attach 9 51712 >"$T/out" 2>&1
[ $? = 3 ] || fail "lockd's user was not dropped: $(cat "$T/out")"
[ "$(c list all | jq '[.domains[].domid] | sort | join(",")' -r)" = "7,8" ] ||
    fail "QEMUs: $(c list all)"
ok "peer table: watcherd may attach, lockd may not"

expect_rc $X_ENOENT qdisk-detach 7 1
expect_rc 0 qdisk-detach 7 51712
[ "$(cat "$T/out")" = 1 ] || fail "detach: $(cat "$T/out")"
kill -0 "$QPID" || fail "QEMU gone too early"
expect_rc 0 qdisk-detach 7 51728
[ "$(cat "$T/out")" = 0 ] || fail "last detach: $(cat "$T/out")"
kill -0 "$QPID" 2>/dev/null && fail "QEMU $QPID not reaped"
expect_rc $X_ENOENT qdisk-detach 7 51728
expect_rc 0 qdisk-detach 8 51712
[ "$(c list all | jq '.domains | length')" = 0 ] || fail "QEMUs left"
ok "detach: refs 2 -> 1 -> 0, QEMU $QPID reaped at 0"

# the broker dies (kill -9): its launcher exits, the QEMU keeps running; a
# restarted broker adopts it (same pid, found by its QMP socket) and can
# still destroy it (the new launcher signals it through a pidfd)
expect_rc 0 qdisk-attach 7 51712
read -r _ QPID <"$T/out"
LPID=$(c status | jq .launcher_pid)
kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null; BROKER_PID=
for _ in $(seq 100); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.02; done
kill -0 "$LPID" 2>/dev/null && fail "launcher $LPID survived the broker"
kill -0 "$QPID" 2>/dev/null || fail "QEMU $QPID died with the broker"
ok "broker killed: launcher exited, QEMU $QPID still runs"
start_broker --qdisk-test-machine
for _ in $(seq 100); do
	[ "$(c list all | jq -r '.domains[] | select(.domid == 7) | "\(.pid) \(.state)"')" = "$QPID running" ] && break
	sleep 0.05
done
[ "$(c list all | jq -r '.domains[] | select(.domid == 7) | "\(.pid) \(.state)"')" = "$QPID running" ] ||
    fail "QEMU $QPID not adopted: $(c list all)"
expect_rc 0 qdisk-attach 7 51712
[ "$(cat "$T/out")" = "1 $QPID" ] || fail "attach after restart: $(cat "$T/out")"
expect_rc 0 qdisk-detach 7 51712
[ "$(cat "$T/out")" = 0 ] || fail "detach after restart: $(cat "$T/out")"
# it is init's child now: gone, or a zombie until init reaps it
dead() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
dead "$QPID" || fail "adopted QEMU $QPID not destroyed"
[ -e "$R/qmp/qdisk-7.sock" ] && fail "QMP socket left: $(ls "$R/qmp")"
ok "restarted broker adopted QEMU $QPID (refs start at 0) and destroyed it"
