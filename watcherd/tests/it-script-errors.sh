#!/usr/bin/env bash
# it-script-errors.sh proves script failure handling on add:
#  - hung script: after hotplug_timeout (2 s) hotplugd kills its process
#    group, the device goes to error with hotplug-status=error and
#    watcherd's hotplug-error; no `sleep` of the script survives;
#  - failing script: its own hotplug-error is kept and logged;
#  - busy (block's ebusy): retried after 1 s until it succeeds (3rd try);
#  - a hotplugd that is connected but silent (SIGSTOP): after
#    2 x (hotplug_timeout + script_kill_grace) + 5 s watcherd cancels the job
#    and the device goes to error instead of waiting forever;
#  - the devices can still be removed (remove script runs, dirs gone).
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vif 0 test-hang
add_dev vif 1 test-fail
wait_long 6 node_is "$(be vif 0)/hotplug-status" error || fail "hung -> error"
expect_eq "timeout hotplug-error" "$(xenstore-read "$(be vif 0)/hotplug-error")" \
	"hotplug script timed out (hotplug_timeout)"
pgrep -f "sleep 1000" >/dev/null && fail "hung script survived" \
	|| ok "hung script's group killed"
wait_for node_is "$(be vif 1)/hotplug-status" error || fail "fail -> error"
expect_eq "script's own error kept" "$(xenstore-read "$(be vif 1)/hotplug-error")" \
	"test-fail: no such bridge"
grep -q "kind=vif devid=1 script reported an error: test-fail: no such bridge" \
	"$W/watcherd.log" && ok "error logged" || fail "error log"
add_dev vbd 51712 test-busy --params /dev/loop7
wait_long 6 grep -q "kind=vbd devid=51712 attached" "$W/watcherd.log" \
	&& ok "busy retried until attached" || fail "busy retry"
expect_eq "three tries" "$(grep -c 'test-busy add' "$W/calls.log")" 3
kill -STOP "$HP"
add_dev vif 5 test-hp
wait_long 15 node_is "$(be vif 5)/hotplug-status" error \
	&& ok "silent hotplugd: job cancelled, device in error" || fail "backstop"
grep -q "kind=vif devid=5 hotplugd did not answer" "$W/watcherd.log" \
	&& ok "backstop logged" || fail "backstop log"
kill -CONT "$HP"
remove_dev vif 0
remove_dev vif 1
wait_long 8 gone "$(be vif 0)" || fail "vif 0 removed"
wait_long 8 gone "$(be vif 1)" || fail "vif 1 removed"
wd_finish
