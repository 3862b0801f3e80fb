#!/usr/bin/env bash
# Device models outlive the broker.  A real QEMU (running VM, one ide-cd,
# a hot-plugged scsi disk),
# a real lockd, and a loop of CD-ROM insert/eject while the broker is
# killed (-9) and restarted twice, and its launcher killed (-9) once (the
# broker exits when its launcher goes; it is started again).  Proves:
#  - the same QEMU process runs throughout (no restart, no zombie);
#  - each new broker adopts it from its QMP socket (<run_dir>/qmp/dm-5.sock,
#    peer uid = qemu_uid_base+5) and the LIST shows it running;
#  - afterwards: no lock held, no fdset leaked (a set exists only for the
#    medium in the drive), the seed-002 invariant holds (JSON vs QEMU);
#  - a stray fdset (a broker killed between add-fd and the medium change,
#    played over the QMP socket) is removed by the next broker, and JSON
#    entries it left "removing"/"adding" follow what QEMU has (live/gone);
#  - operations work again (insert, eject: fdset gone), and DM_DESTROY
#    still kills it (through the new launcher's pidfd).
. "$(dirname "$0")/lib.sh"

start_lockd
start_broker
c lock-create 5 >/dev/null || fail "lock-create"
expect_rc 0 dm-start 5 --run 3
read -r QPID _ <"$T/out"
mkimg cd.iso 0640
mkimg d.raw 0660
expect_rc 0 disk-add 5 7 "$IMG/d.raw" rw scsi	# hot-plugged before the kills

loop() {
	local i
	for i in $(seq 400); do
		c cd-insert 5 3 "$IMG/cd.iso" >/dev/null 2>&1
		c cd-eject 5 3 >/dev/null 2>&1
	done
}
loop & LOOP=$!

adopted() {	# waits until the broker lists QEMU $QPID as running
	local _
	for _ in $(seq 100); do
		[ "$(c list 5 2>/dev/null | jq -r '.domains[0] | "\(.pid) \(.state)"')" = "$QPID running" ] &&
		    return 0
		sleep 0.05
	done
	fail "QEMU $QPID not adopted: $(c list 5)"
}
alive_qemu() {
	kill -0 "$QPID" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$QPID/status" ||
	    fail "QEMU $QPID did not survive ($1)"
}

for round in 1 2; do
	sleep 0.4
	kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null; BROKER_PID=
	alive_qemu "broker kill -9 #$round"
	start_broker
	adopted
done
sleep 0.4
LPID=$(c status | jq .launcher_pid)
kill -9 "$LPID"
for _ in $(seq 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.02; done
kill -0 "$BROKER_PID" 2>/dev/null && fail "broker ignored its launcher's death"
wait "$BROKER_PID" 2>/dev/null; BROKER_PID=
alive_qemu "launcher kill -9"
start_broker
adopted
sleep 0.3
kill "$LOOP"; wait "$LOOP" 2>/dev/null
sleep 0.3	# the last request in flight finishes
alive_qemu "end of the loop"
ok "QEMU $QPID survived 2 broker kills and 1 launcher kill; adopted each time"

no_lock_held 5
inserted=$(c cd-list 5 | jq '[.[] | select(.devid == 3 and .inserted)] | length')
want=$([ "$inserted" = 1 ] && echo "devsep-cd3 devsep-disk7" || echo devsep-disk7)
[ "$(qemu_fdsets 5)" = "$want" ] ||
    fail "fdsets $(qemu_fdsets 5), medium inserted=$inserted: $(c list 5 | jq -c .domains[0].fdsets)"
check_invariant 5
[ "$(qemu_things 5 | tr ' ' '\n' | grep -c '^disk7$')" = 1 ] ||
    fail "the hot-plugged disk is gone: $(qemu_things 5)"
ok "no lock held, fdsets match the medium (inserted=$inserted), disk 7 still in, invariant holds"

# a broker that died between add-fd and the medium change leaves a stray
# fdset.  Played deterministically over the QMP socket while no broker
# runs, on domain 5 (VM running: QEMU itself frees an unused set when its
# last QMP client goes) and on domain 6 (paused with -S: QEMU keeps it; the
# next broker's reconcile sends remove-fd).
c lock-create 6 >/dev/null || fail "lock-create 6"
expect_rc 0 dm-start 6 3
read -r QPID6 _ <"$T/out"
kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null; BROKER_PID=
# ... and JSON entries of operations it did not finish: disk 7 caught
# "removing" (QEMU still has it), disk 9 caught "adding" (QEMU never got it)
json_cfg 5 | jq -c '.qmp.disk |= map(if .id == "7" then .state = "removing" else . end)
    | .qmp.disk += [{"id": "9", "path": "x", "ro": false, "bus": "scsi", "state": "adding"}]' >"$T/cfg"
"$BUILD/tests/lockd-tool" "$R" write 5 "$(cat "$T/cfg")" >/dev/null || fail "JSON edit"
for d in 5 6; do
python3 - "$R/qmp/dm-$d.sock" "$IMG/cd.iso" <<'PY' || fail "QMP injection"
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
f = s.makefile("rb")
def cmd(c, fd=None):
    b = (json.dumps(c) + "\n").encode()
    if fd is None:
        s.sendall(b)
    else:
        socket.send_fds(s, [b], [fd])
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
json.loads(f.readline())                      # greeting
cmd({"execute": "qmp_capabilities"})
fd = os.open(sys.argv[2], os.O_RDONLY)
r = cmd({"execute": "add-fd", "arguments": {"opaque": "devsep-cd3"}}, fd)
assert "return" in r, r
PY
done
start_broker
adopted
for _ in $(seq 40); do [ "$(qemu_fdsets 5)" = "$want" ] && break; sleep 0.05; done
[ "$(qemu_fdsets 5)" = "$want" ] || fail "stray fdset kept: $(qemu_fdsets 5)"
for _ in $(seq 40); do grep -q "adopted QEMU pid=$QPID6: 1 stray" "$T/broker.log" && break; sleep 0.05; done
grep -q "adopted QEMU pid=$QPID6: 1 stray fdset(s) removed" "$T/broker.log" ||
    fail "paused VM: no remove-fd of the stray set: $(grep stray "$T/broker.log")"
expect_rc 0 dm-destroy 6
ok "stray devsep fdsets: freed by QEMU (running VM) / removed by the new broker (paused VM)"
for _ in $(seq 40); do grep -q "domid=5 adopted QEMU: 2 unfinished" "$T/broker.log" && break; sleep 0.05; done
json_cfg 5 | jq -e '[.qmp.disk[] | "\(.id) \(.state)"] == ["7 live"]' >/dev/null ||
    fail "unfinished JSON entries not settled: $(json_cfg 5 | jq -c .qmp.disk)"
ok "unfinished JSON entries settled from QEMU: disk 7 live (QEMU has it), disk 9 gone (QEMU never got it)"

[ "$inserted" = 1 ] && { expect_rc 0 cd-eject 5 3; }
expect_rc 0 cd-insert 5 3 "$IMG/cd.iso"
[ "$(qemu_fdsets 5)" = "devsep-cd3 devsep-disk7" ] || fail "insert after restart: $(qemu_fdsets 5)"
expect_rc 0 cd-eject 5 3
expect_rc 0 disk-remove 5 7
[ "$(qemu_fdsets 5)" = "" ] || fail "eject/remove after restart left $(qemu_fdsets 5)"
[ "$(things 5 disk)" = "" ] || fail "JSON disk entries left: $(things 5 disk)"
check_invariant 5
ok "insert/eject and disk remove work on the adopted QEMU; no fdset left"

expect_rc 0 dm-destroy 5
for _ in $(seq 100); do
	! kill -0 "$QPID" 2>/dev/null || grep -q '^State:.*Z' "/proc/$QPID/status" && break
	sleep 0.05
done
! kill -0 "$QPID" 2>/dev/null || grep -q '^State:.*Z' "/proc/$QPID/status" ||
    fail "adopted QEMU $QPID survived DM_DESTROY"
[ -e "$R/qmp/dm-5.sock" ] && fail "QMP socket left"
ok "DM_DESTROY of the adopted QEMU: gone, socket removed ($(cat "$T/out"))"
