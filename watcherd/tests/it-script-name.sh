#!/usr/bin/env bash
# it-script-name.sh proves an over-long `script` node (longer than
# HOTPLUG_SCRIPT_MAX - 1 = 255 bytes) never becomes a job and the device
# gets a clear hotplug-error: "script name too long (N bytes, max 255)"
# (before the fix: "hotplug script failed: unknown 0"), nothing runs in
# hotplugd, and the device can still be removed (dirs gone).  A 255-byte
# name (the longest allowed) is passed on: hotplugd refuses it as missing
# (ENOENT, said in words), not watcherd as too long.
. "$(dirname "$0")/wdlib.sh"
setup
long=$(printf 'x%.0s' $(seq 300))
max=$(printf 'y%.0s' $(seq 255))
add_dev vif 7 "$long"
add_dev vif 8 "$max"
wait_long 6 node_is "$(be vif 7)/hotplug-status" error || fail "long -> error"
expect_eq "hotplug-error" "$(xenstore-read "$(be vif 7)/hotplug-error" 2>&1)" \
	"script name too long (300 bytes, max 255)"
grep -q "kind=vif devid=7 script name too long (300 bytes, max 255)" \
	"$W/watcherd.log" && ok "logged" || fail "log line"
wait_long 6 node_is "$(be vif 8)/hotplug-status" error || fail "max -> error"
expect_eq "255 bytes reach hotplugd" \
	"$(xenstore-read "$(be vif 8)/hotplug-error" 2>&1)" \
	"hotplug script \"$max\" (online) not run: script does not exist: No such file or directory (script_dir $W/scripts); install it there or fix the backend's script node"
expect_eq "nothing ran" "$(grep -c . "$W/calls.log")" 0
remove_dev vif 7
remove_dev vif 8
wait_long 8 gone "$(be vif 7)" && ok "vif 7 removed" || fail "vif 7 left"
wait_long 8 gone "$(be vif 8)" && ok "vif 8 removed" || fail "vif 8 left"
wd_finish
