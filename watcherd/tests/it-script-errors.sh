#!/usr/bin/env bash
# it-script-errors.sh proves script failure handling on add:
#  - hung script: after hotplug_timeout (2 s) hotplugd kills its process
#    group, the device goes to error with hotplug-status=error and
#    watcherd's hotplug-error; no `sleep` of the script survives;
#  - failing script: its own hotplug-error is kept and logged;
#  - busy (block's ebusy): retried after busy_retry (set to 300 ms here,
#    default 1 s) until it succeeds (3rd try); after SIGHUP with
#    busy_tries = 1 a device busy twice goes to error (retries exhausted);
#  - a hotplugd that is connected but silent (SIGSTOP): after
#    2 x (hotplug_timeout + script_kill_grace) + 5 s watcherd cancels the job
#    and the device goes to error instead of waiting forever;
#  - the devices can still be removed (remove script runs, dirs gone).
. "$(dirname "$0")/wdlib.sh"
setup "busy_retry = 300ms"
add_dev vif 0 test-hang
add_dev vif 1 test-fail
wait_long 6 node_is "$(be vif 0)/hotplug-status" error || fail "hung -> error"
expect_eq "timeout hotplug-error" "$(xenstore-read "$(be vif 0)/hotplug-error")" \
	"hotplug script \"test-hang\" (online) did not finish within hotplug_timeout (2s) and was killed (SIGTERM); raise hotplug_timeout in devsep.conf if it is only slow"
kill -0 "$(cat "$W/hang.pid")" 2>/dev/null && fail "hung script survived" \
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
gap=$(grep 'test-busy add' "$W/calls.log" | head -2 | awk '{ t[NR] = $1 }
	END { printf "%d", (t[2] - t[1]) * 1000 }')
[ "$gap" -ge 300 ] && [ "$gap" -lt 900 ] && ok "busy_retry interval ($gap ms)" \
	|| fail "busy_retry interval: $gap ms"
echo 0 >"$W/scratch/busy.count"
write_conf "busy_retry = 300ms" "busy_tries = 1"
kill -HUP "$WD"
wait_for grep -q "configuration reloaded" "$W/watcherd.log" || fail "reload"
add_dev vbd 51728 test-busy --params /dev/loop8
wait_long 6 node_is "$(be vbd 51728)/hotplug-status" error \
	&& ok "busy_tries = 1: error after one retry" || fail "busy_tries"
expect_eq "two tries" "$(grep -c 'test-busy add .*/51728 ' "$W/calls.log")" 2
grep -q "kind=vbd devid=51728 device in error: hotplug script kept reporting busy (hotplug-status=busy) after busy_tries (1) retries every busy_retry (300ms)" "$W/watcherd.log" \
	&& ok "retries exhausted logged" || fail "busy error log"
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
