#!/usr/bin/env bash
# it-remove-early.sh proves a removal requested before the device was
# attached is not lost across a watcherd restart (RELIABILITY bug 5): the
# toolstack wrote online=0 (and state 5, which the backend's probe then
# overwrote with InitWait 2) while no watcherd ran; the restarted watcherd
# reads `online` for every device that is not attached yet, so it removes
# the device (row 7: state 5, then the remove script and the dirs) instead
# of running the add script and keeping it.  A device attached meanwhile
# stays attached.
# Before the fix `online` was read only outside states 1..4, the device was
# attached (row 22, add script) and never removed.
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vif 2 test-hp
wait_for node_is "$(be vif 2)/hotplug-status" connected || fail "vif 2 attached"
stop_watcherd
add_dev vif 1 test-hp
wait_for node_is "$(be vif 1)/state" 2 || fail "vif 1 at InitWait"
xenstore-write "$(be vif 1)/online" 0 || fail "online=0"
start_watcherd
wait_long 8 gone "$(be vif 1)" && ok "early removal done after the restart" \
	|| fail "vif 1 not removed"
gone "$(fe vif 1)" && ok "its frontend removed" || fail "frontend left"
expect_eq "no add script for vif 1" "$(calls online backend/vif/5/1)" 0
expect_eq "vif 2 still attached" \
	"$(xenstore-read "$(be vif 2)/hotplug-status" 2>&1)" connected
wd_finish
