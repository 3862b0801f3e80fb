#!/usr/bin/env bash
# Run by test-units.sh with BIN pointing at daemons wrapped in their
# units' sandbox: the broker's launcher starts a real QEMU (TCG), a CD-ROM
# is inserted and ejected over QMP, the QEMU is destroyed.  Short on
# purpose (qemu-broker/tests/test-broker-qemu.sh is the full test).
. "$(dirname "$0")/../../qemu-broker/tests/lib.sh"
start_lockd
start_broker
c lock-create 5 >/dev/null || fail "lock-create"
expect_rc 0 dm-start 5 --run 3
read -r QPID QUID <"$T/out"
[ "$QUID" = $((UID_BASE + 5)) ] || fail "uid $QUID"
mkimg cd.iso 0640
expect_rc 0 cd-insert 5 3 "$IMG/cd.iso"
expect_rc 0 cd-eject 5 3
expect_rc 0 dm-destroy 5
kill -0 "$QPID" 2>/dev/null && fail "QEMU $QPID still there"
ok "real QEMU started, CD-ROM inserted and ejected, destroyed"
