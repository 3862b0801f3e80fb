#!/usr/bin/env bash
# it-noscript.sh proves a backend whose `script` node is empty attaches
# without any job, as libxl's device_hotplug does ("No hotplug script to
# execute"): FSM row 30 maps the no-script result to attached, so the device
# ends hotplug-status=connected with the backend Connected (4), nothing ran
# in hotplugd, and it is removed normally (no remove script either).
# Before the fix the device ended in error (row 31, "hotplug script exited
# 0 without writing hotplug-status=connected").
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vif 3 ""
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 3 --mode connect \
	--timeout-ms 6000 >/dev/null 2>&1 || fail "frontend connect"
wait_for node_is "$(be vif 3)/state" 4 || fail "backend connected"
expect_eq "hotplug-status" "$(xenstore-read "$(be vif 3)/hotplug-status" 2>&1)" \
	connected
grep -q "kind=vif devid=3 attached" "$W/watcherd.log" && ok "attached logged" \
	|| fail "attached log"
grep -q "kind=vif devid=3 device in error" "$W/watcherd.log" \
	&& fail "device went to error" || ok "no error"
expect_eq "nothing ran" "$(grep -c . "$W/calls.log")" 0
expect_eq "one add evaluation" "$(grep -c 'kind=vif devid=3 row 22' "$W/watcherd.log")" 1
remove_dev vif 3
wait_long 8 gone "$(be vif 3)" && ok "removed" || fail "vif 3 removed"
gone "$(fe vif 3)" && ok "frontend dir gone" || fail "frontend left"
expect_eq "still nothing ran" "$(grep -c . "$W/calls.log")" 0
wd_finish
