#!/usr/bin/env bash
# it-nuke-parents.sh proves the cheaper removal (issue 8) still cleans up:
# with two attached vifs of guest 5, removing vif 1 deletes only vif 1's
# backend, frontend and /libxl dirs, keeps vif 2 attached, and skips the
# parent listings (logged "parent dirs kept"); removing vif 2, the guest's
# last vif, lists and deletes the emptied parents too
# (backend/vif/5, device/vif, /libxl/5/device/vif), as libxl does.
# It fails if the skip removed or kept the wrong dirs, or never happened.
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vif 1 test-hp
add_dev vif 2 test-hp
wait_for node_is "$(be vif 1)/hotplug-status" connected || fail "vif 1 attached"
wait_for node_is "$(be vif 2)/hotplug-status" connected || fail "vif 2 attached"
remove_dev vif 1
wait_long 8 gone "$(be vif 1)" && ok "vif 1 backend removed" || fail "vif 1 backend left"
wait_for gone "$(fe vif 1)" && gone /libxl/5/device/vif/1 \
	&& ok "vif 1 frontend + /libxl gone" || fail "vif 1 frontend or /libxl left"
wait_for grep -q "kind=vif devid=1 remove: parent dirs kept (a sibling is there)" \
	"$W/watcherd.log" && ok "parent listings skipped" || fail "no skip logged"
expect_eq "vif 2 still attached" \
	"$(xenstore-read "$(be vif 2)/hotplug-status" 2>&1)" connected
gone "$(fe vif 2)" && fail "vif 2 frontend removed" || ok "vif 2 frontend kept"
remove_dev vif 2
wait_long 8 gone "$(be vif 2)" && ok "vif 2 removed" || fail "vif 2 backend left"
grep -q "kind=vif devid=2 remove: parent dirs kept" "$W/watcherd.log" \
	&& fail "last vif skipped its parents" || ok "last vif walked its parents"
wait_for gone /local/domain/0/backend/vif/5 && ok "backend/vif/5 removed" \
	|| fail "backend/vif/5 left"
gone /local/domain/5/device/vif && ok "device/vif removed" || fail "device/vif left"
gone /libxl/5/device/vif && ok "/libxl/5/device/vif removed" \
	|| fail "/libxl/5/device/vif left"
wd_finish
