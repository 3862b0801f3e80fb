#!/usr/bin/env bash
# it-restart.sh proves crash recovery (level-triggered reconcile):
#  - kill -9 of watcherd while an add script runs (1 s script): after the
#    restart the device ends connected, and the script ran ONCE (the same
#    deterministic job id makes hotplugd attach the new watcherd to the
#    run in progress, and its proxy socket is re-created);
#  - kill -9 while a remove script runs: after the restart the device is
#    removed, the remove script ran once;
#  - a device added and one removed while watcherd was down are
#    reconciled by the start-up scan (attach, and remove from state 5);
#  - the already-connected device is adopted without re-running its script;
#  - hotplugd absent: jobs wait; hotplugd started later: they are sent;
#    hotplugd killed mid-job and restarted: the job is re-sent and the
#    device attaches.
. "$(dirname "$0")/wdlib.sh"
setup

# kill -9 mid-attach
add_dev vif 0 test-slow
wait_for grep -q "test-slow online backend/vif/5/0 start" "$W/calls.log" \
	|| fail "slow add started"
kill -9 "$WD"; wait "$WD" 2>/dev/null
start_watcherd
wait_long 6 node_is "$(be vif 0)/hotplug-status" connected || fail "vif 0 attached"
sleep 1.2
expect_eq "add ran once across the crash" \
	"$(grep -c 'test-slow online backend/vif/5/0 start' "$W/calls.log")" 1

# kill -9 mid-remove
remove_dev vif 0
wait_for grep -q "test-slow offline backend/vif/5/0 start" "$W/calls.log" \
	|| fail "slow remove started"
kill -9 "$WD"; wait "$WD" 2>/dev/null
start_watcherd
wait_long 6 gone "$(be vif 0)" || fail "vif 0 removed after restart"
expect_eq "remove ran once across the crash" \
	"$(grep -c 'test-slow offline backend/vif/5/0 start' "$W/calls.log")" 1

# changes while watcherd is down
add_dev vif 1 test-hp
wait_for node_is "$(be vif 1)/hotplug-status" connected || fail "vif 1"
stop_watcherd
add_dev vif 2 test-hp
remove_dev vif 1
start_watcherd
wait_long 6 node_is "$(be vif 2)/hotplug-status" connected || fail "vif 2 reconciled"
wait_long 6 gone "$(be vif 1)" || fail "vif 1 removal reconciled"
expect_eq "vif 2 online once" "$(calls online backend/vif/5/2)" 1
stop_watcherd; start_watcherd
wait_for grep -q "kind=vif devid=2 already connected: adopted" "$W/watcherd.log" \
	&& ok "connected device adopted" || fail "adopt log"
expect_eq "no re-run after adopt" "$(calls online backend/vif/5/2)" 1

# hotplugd absent, then started; killed mid-job, then restarted
kill "$HP"; wait "$HP" 2>/dev/null
add_dev vif 3 test-hp
sleep 0.5
expect_eq "nothing runs without hotplugd" "$(calls online backend/vif/5/3)" 0
start_hotplugd
wait_long 5 node_is "$(be vif 3)/hotplug-status" connected \
	&& ok "job sent once hotplugd came up" || fail "vif 3 after hotplugd start"
add_dev vif 4 test-slow
wait_for grep -q "test-slow online backend/vif/5/4 start" "$W/calls.log" \
	|| fail "slow add 4 started"
kill -9 "$HP"; wait "$HP" 2>/dev/null
start_hotplugd
wait_long 6 grep -q "kind=vif devid=4 attached" "$W/watcherd.log" \
	|| fail "vif 4 attached after hotplugd restart"
expect_eq "job re-sent to the new hotplugd (second run)" \
	"$(grep -c 'test-slow online backend/vif/5/4 start' "$W/calls.log")" 2
wd_finish
