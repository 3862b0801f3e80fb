#!/usr/bin/env bash
# it-shutdown.sh proves the clean shutdown: on SIGTERM with an add script
# running, watcherd starts nothing new, keeps the job's scoped xenstore
# socket open until the script reported, then exits 0; xenstore is left
# consistent (the device connected) and the next start adopts it without
# re-running the script.
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vif 0 test-slow
wait_for grep -q "test-slow online backend/vif/5/0 start" "$W/calls.log" \
	|| fail "slow add started"
t0=$(date +%s.%N)
kill -TERM "$WD"
wait "$WD"; rc=$?
t1=$(date +%s.%N)
expect_eq "exit status" "$rc" 0
grep -q "test-slow online backend/vif/5/0 end" "$W/calls.log" \
	&& ok "script finished before exit" || fail "script cut short"
expect_eq "device connected" "$(xenstore-read "$(be vif 0)/hotplug-status")" connected
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 5) }' && ok "bounded wait" \
	|| fail "shutdown took too long"
start_watcherd
wait_for grep -q "kind=vif devid=0 already connected: adopted" "$W/watcherd.log" \
	&& ok "adopted after restart" || fail "adopt"
expect_eq "script ran once" \
	"$(grep -c 'test-slow online backend/vif/5/0 start' "$W/calls.log")" 1
wd_finish
