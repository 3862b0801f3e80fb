#!/usr/bin/env bash
# it-qdisk-broker.sh proves the qdisk hand-over to the real
# devsep-qemu-broker (seed 004): a qdisk device makes watcherd send
# QDISK_ATTACH (the broker launches one QEMU for the guest; a second qdisk
# only counts), the device is listed in phase "qdisk" with no script run;
# removing one qdisk sends QDISK_DETACH (refs 2 -> 1); the guest's death
# removes the other through the qemu bodge and the last detach makes the
# broker reap the guest's QEMU.
. "$(dirname "$0")/wdlib.sh"
[ -x "$BIN/devsep-qemu-broker" ] || { echo "SKIP: no devsep-qemu-broker"; exit 77; }
[ -x /usr/bin/qemu-system-x86_64 ] || { echo "SKIP: no qemu"; exit 77; }
setup "image_dirs = /tmp"
"$BIN/devsep-qemu-broker" -F -d -c "$W/devsep.conf" --rundir "$W/run" \
	--qdisk-test-machine >>"$W/broker.log" 2>&1 &
BR=$!; PIDS+=($BR)
wait_for "$B/brokerc" "$W/run" status || fail "broker up"
refs() { "$B/brokerc" "$W/run" list 5 | jq -r "[.domains[]? | .qdisk_devids? // [] | length] | add // 0"; }

add_dev qdisk 51712 "" --params /tmp/a.img --type qdisk
add_dev qdisk 51728 "" --params /tmp/b.img --type qdisk
wait_long 10 grep -q "kind=qdisk devid=51728 qdisk handed to the QEMU broker" \
	"$W/watcherd.log" || fail "handed to broker"
grep -q "kind=qdisk devid=51712 qdisk handed to the QEMU broker" "$W/watcherd.log" \
	&& ok "both handed over" || fail "first qdisk"
wait_for test "$(refs)" = 2; expect_eq "broker refs" "$(refs)" 2
"$B/wd-client" "$W/run/watcherd.sock" devices 5 | grep -q '"phase":"qdisk"' \
	&& ok "listed as qdisk" || fail "phase"
expect_eq "no script for qdisk" "$(grep -c qdisk "$W/calls.log")" 0

remove_dev qdisk 51712
wait_long 8 gone "$(be qdisk 51712)" || fail "qdisk 51712 removed"
wait_for test "$(refs)" = 1 && ok "detach: refs 1" || fail "refs after detach: $(refs)"
qpid=$("$B/brokerc" "$W/run" list 5 | jq -r ".domains[0].pid")
kill -STOP "$BE"
"$XW" domain destroy "$W" 5 || fail "destroy 5"
wait_long 6 gone "$(be qdisk 51728)" || fail "qdisk 51728 removed on death"
kill -CONT "$BE"
grep -q "kind=qdisk devid=51728 qemu bodge" "$W/watcherd.log" && ok "bodge" \
	|| fail "bodge log"
wait_long 5 sh -c "! kill -0 $qpid 2>/dev/null" && ok "guest's QEMU reaped" \
	|| fail "QEMU $qpid still running"
wd_finish
