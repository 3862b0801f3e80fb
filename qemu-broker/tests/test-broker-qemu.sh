#!/usr/bin/env bash
# Proves, against a real QEMU (qemu-system-x86_64, TCG, machine pc, an
# ide-cd and a virtio-scsi controller) and a real lockd:
#  - the QEMU runs as qemu_uid_base+domid (uid/gid/groups), chrooted in an
#    empty dir, under seccomp with NO_NEW_PRIVS and only CAP_SYS_CHROOT;
#  - CD-ROM insert: query-block shows /dev/fdset/N, the fdset is tagged,
#    the JSON entry is "live"; eject: medium gone, fdset gone
#    (query-fdsets), JSON entry gone; watcherd absent = "skipped";
#  - refusals (outside image_dirs, missing file, no permission for the
#    broker's user, symlink, directory) are clean errors: no JSON entry,
#    nothing in QEMU, no lock left, broker alive;
#  - disk add/remove (scsi) 50 times: no fd leak in broker or QEMU, JSON
#    empty at the end; a virtio disk whose guest never releases it times
#    out on remove with the JSON entry kept (the invariant holds);
#  - lockd absent: "lockd not running" and QEMU untouched;
#  - malformed and unpermitted requests drop only that peer;
#  - DM_DESTROY kills and reaps QEMU; a QEMU killed behind the broker's
#    back (even mid-insert) is reaped and later requests get ESRCH.
# The seed-002 invariant is checked after every step.
. "$(dirname "$0")/lib.sh"

start_lockd
start_broker
c lock-create 5 >/dev/null || fail "lock-create"
expect_rc 0 dm-start 5 --run 3
read -r QPID QUID <"$T/out"
[ "$QUID" = $((UID_BASE + 5)) ] || fail "uid $QUID"
check_invariant 5
json_cfg 5 | jq -e '.dm.state == "running"' >/dev/null || fail "dm entry"

# -- the jail
st=/proc/$QPID/status
grep -q "^Uid:	$QUID	$QUID	$QUID	$QUID$" $st || fail "Uid: $(grep Uid $st)"
grep -q "^Gid:	$QUID	$QUID	$QUID	$QUID$" $st || fail "Gid: $(grep Gid $st)"
grep -q "^Groups:[[:space:]]*$" $st || fail "groups: $(grep Groups $st)"
grep -q "^Seccomp:	2$" $st || fail "no seccomp filter"
grep -q "^NoNewPrivs:	1$" $st || fail "NoNewPrivs"
grep -q "^CapEff:	0000000000040000$" $st || fail "caps: $(grep CapEff $st)"
grep -q "^CapBnd:	0000000000040000$" $st || fail "bounding: $(grep CapBnd $st)"
root=$(readlink /proc/$QPID/root)
[ "$root" = "$R/qemu-root/5" ] || fail "root is $root"
[ -z "$(ls -A "$root")" ] || fail "chroot not empty"
[ "$(stat -c %u:%a "$root")" = "0:555" ] || fail "chroot owner/mode"
ok "QEMU pid $QPID: uid $QUID, chroot $root (empty), seccomp, CAP_SYS_CHROOT only"

# -- CD-ROM
mkimg cd.iso 0640
expect_rc 0 cd-insert 5 3 "$IMG/cd.iso"
read -r FDSET XS <"$T/out"
[ "$XS" = "skipped: watcherd not running" ] || fail "xenstore: $XS"
c cd-list 5 | jq -e ".[] | select(.devid == 3) | .inserted and
    .file == \"/dev/fdset/$FDSET\"" >/dev/null || fail "query-block: $(c cd-list 5)"
[ "$(qemu_fdsets 5)" = "devsep-cd3" ] || fail "fdsets: $(qemu_fdsets 5)"
json_cfg 5 | jq -e ".qmp.cdrom[0] | .id == \"3\" and .state == \"live\" and
    .fdset == $FDSET" >/dev/null || fail "JSON: $(json_cfg 5)"
check_invariant 5
no_lock_held 5
ok "insert: /dev/fdset/$FDSET in query-block, JSON live"
expect_rc $X_EEXIST cd-insert 5 3 "$IMG/cd.iso"
expect_rc 0 cd-eject 5 3
c cd-list 5 | jq -e '.[] | select(.devid == 3) | .inserted == false' \
    >/dev/null || fail "still inserted"
[ -z "$(qemu_fdsets 5)" ] || fail "fdset left: $(qemu_fdsets 5)"
[ -z "$(things 5 cdrom)" ] || fail "JSON entry left"
expect_rc $X_ENOENT cd-eject 5 3
ok "eject: medium and fdset gone (query-fdsets), JSON entry gone"

# -- refusals
mkimg secret.iso 0640
chgrp root "$IMG/secret.iso"; chmod 0600 "$IMG/secret.iso"
ln -s "$IMG/cd.iso" "$IMG/link.iso"
mkdir "$IMG/dir.iso"
expect_rc $X_EACCES cd-insert 5 3 /etc/passwd
expect_rc $X_EACCES cd-insert 5 3 "$IMG/../conf"
expect_rc $X_ENOENT cd-insert 5 3 "$IMG/missing.iso"
expect_rc $X_EACCES cd-insert 5 3 "$IMG/secret.iso"
expect_rc $X_ELOOP cd-insert 5 3 "$IMG/link.iso"
expect_rc $X_EACCES cd-insert 5 3 "$IMG/dir.iso"
expect_rc $X_EACCES disk-add 5 9 "$IMG/cd.iso" rw scsi	# 0640: no write
alive
no_lock_held 5
[ -z "$(things 5 cdrom)$(things 5 disk)" ] || fail "JSON after refusals"
[ -z "$(qemu_things 5)" ] || fail "QEMU after refusals: $(qemu_things 5)"
ok "refusals: outside, .., missing, no permission, symlink, dir, rw on ro"

# -- disk round trips
mkimg d.raw 0660 4M
sleep 0.2
BFD=$(nfds $BROKER_PID); QFD=$(nfds $QPID)
start=$(date +%s%N)
for i in $(seq 50); do
	expect_rc 0 disk-add 5 7 "$IMG/d.raw" rw scsi
	[ "$(qemu_things 5)" = disk7 ] || fail "round $i: $(qemu_things 5)"
	check_invariant 5
	expect_rc 0 disk-remove 5 7
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
fds_at_most $BROKER_PID $BFD || fail "broker fds $BFD -> $(nfds $BROKER_PID)"
fds_at_most $QPID $QFD || fail "QEMU fds $QFD -> $(nfds $QPID)"
[ -z "$(things 5 disk)" ] || fail "JSON disks left: $(things 5 disk)"
[ -z "$(qemu_fdsets 5)" ] || fail "fdsets left: $(qemu_fdsets 5)"
ok "50 scsi disk add/remove round trips in $ms ms; fds broker $BFD, QEMU $QFD: no leak"

expect_rc 0 disk-add 5 8 "$IMG/d.raw" ro virtio
expect_rc $X_ETIMEDOUT disk-remove 5 8
[ "$(things 5 disk)" = 8 ] || fail "virtio entry dropped while QEMU holds it"
json_cfg 5 | jq -e '.qmp.disk[0].state == "removing"' >/dev/null ||
    fail "state: $(json_cfg 5)"
check_invariant 5
no_lock_held 5
ok "virtio unplug without a guest: ETIMEDOUT, JSON entry kept (removing)"

# -- lockd absent
stop_lockd
expect_rc $X_ENOTCONN cd-insert 5 3 "$IMG/cd.iso"
grep -q "lockd not running" "$T/out" || fail "message: $(cat "$T/out")"
c cd-list 5 | jq -e '.[] | select(.devid == 3) | .inserted == false' \
    >/dev/null || fail "QEMU touched without lockd"
alive
start_lockd
ok "lockd absent: clean ENOTCONN, QEMU untouched"

# -- bad peers
expect_rc 3 raw 302 1		# truncated CDROM_INSERT: dropped
expect_rc 3 raw 399		# unknown type: dropped
setpriv --reuid=nobody --regid=nogroup --clear-groups $BROKERC "$R" status \
    >"$T/out" 2>&1 && fail "status from uid nobody answered"
alive
ok "malformed / unknown / unpermitted requests drop only that peer"

# -- destroy
expect_rc 0 dm-destroy 5
read -r DPID DST GONE <"$T/out"
[ "$DPID" = "$QPID" ] || fail "destroy reaped $DPID"
kill -0 "$QPID" 2>/dev/null && fail "QEMU still alive"
[ "$(c list all | jq '.domains | length')" = 0 ] || fail "still listed"
ok "destroy: QEMU $QPID reaped (status $DST)"
# -- a QEMU killed behind the broker's back
c lock-create 6 >/dev/null || fail "lock-create 6"
expect_rc 0 dm-start 6 --run 3
read -r KPID _ <"$T/out"
c cd-insert 6 3 "$IMG/cd.iso" >"$T/ins" 2>&1 &
INS=$!
kill -9 "$KPID"
wait $INS; rc=$?
case $rc in 0|$X_EPIPE|$X_ESRCH) ;; *) fail "insert vs kill: rc $rc $(cat "$T/ins")" ;; esac
for _ in $(seq 50); do [ "$(qemu_pid 6)" = 0 ] && break; sleep 0.02; done
[ "$(qemu_pid 6)" = 0 ] || fail "dead QEMU still listed"
expect_rc $X_ESRCH cd-insert 6 3 "$IMG/cd.iso"
no_lock_held 6
alive
expect_rc 0 dm-destroy 6	# nothing to reap: confirmed at once
ok "QEMU killed (insert rc $rc): reaped, later requests ESRCH, destroy confirms"
c stats | jq -c '{qmp: .qmp | {commands, errors, timeouts, latency_us: .latency_us | {sum, max}}, op_latency_us}'
