#!/usr/bin/env bash
# it-drain.sh proves seed 003 where the backend speaks the I/O-done
# protocol (the toolstack wrote `shutdown-request`, as xenopsd does; the
# backend answers `shutdown-done` once its I/O drained, 1 s here): on
# removal the vbd's remove script starts only after `shutdown-done`, and
# the event loop is not blocked meanwhile (a second device attaches during
# the drain).  Then, with the kernel backend frozen and state 6 written by
# hand, watcherd keeps waiting until `shutdown-done` appears: state 6
# alone is not enough for a vbd that was asked.  Without the request (xl,
# Linux's blkback: docs/WATCHERD.md) state 6 is the signal: the remove
# script runs at once.
IO_DRAIN_MS=1000
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vbd 51712 test-hp --params /dev/loop7
wait_for node_is "$(be vbd 51712)/hotplug-status" connected || fail "attached"
t0=$(date +%s.%N)
xenstore-write "$(be vbd 51712)/shutdown-request" normal
remove_dev vbd 51712
add_dev vif 3 test-hp
wait_for node_is "$(be vif 3)/hotplug-status" connected \
	&& ok "attach during drain (loop not blocked)" || fail "vif 3 attach"
wait_long 8 gone "$(be vbd 51712)" || fail "vbd removed"
line=$(grep " remove backend/vbd/5/51712 " "$W/calls.log")
expect_eq "remove saw shutdown-done" "${line##* }" drained
ts=${line%% *}
awk -v a="$t0" -v b="$ts" 'BEGIN { exit !(b - a >= 0.9) }' \
	&& ok "remove script waited for the drain" || fail "remove too early"
vif3=$(grep " online backend/vif/5/3 " "$W/calls.log"); vif3=${vif3%% *}
awk -v a="$vif3" -v b="$ts" 'BEGIN { exit !(a < b) }' \
	&& ok "vif 3 attached before the drain ended" || fail "vif 3 after drain"

add_dev vbd 51728 test-hp --params /dev/loop8
wait_for node_is "$(be vbd 51728)/hotplug-status" connected || fail "attached 2"
kill -STOP "$BE"
xenstore-write "$(be vbd 51728)/shutdown-request" normal
remove_dev vbd 51728
xenstore-write "$(be vbd 51728)/state" 6
sleep 1
expect_eq "no remove before shutdown-done" "$(calls remove backend/vbd/5/51728)" 0
xenstore-write "$(be vbd 51728)/shutdown-done" ""
wait_long 3 gone "$(be vbd 51728)" || fail "removed after shutdown-done"
expect_eq "remove ran once" "$(calls remove backend/vbd/5/51728)" 1

kill -CONT "$BE"
add_dev vbd 51744 test-hp --params /dev/loop9
wait_for node_is "$(be vbd 51744)/hotplug-status" connected || fail "attached 3"
kill -STOP "$BE"
remove_dev vbd 51744
xenstore-write "$(be vbd 51744)/state" 6
wait_long 2 gone "$(be vbd 51744)" &&
	ok "no shutdown-request: state 6 is enough" || fail "waited without a request"
expect_eq "remove ran once (no request)" "$(calls remove backend/vbd/5/51744)" 1
kill -CONT "$BE"
wd_finish
