#!/usr/bin/env bash
# it-orphan-frontend.sh proves a restarted watcherd in dom0 cleans an
# orphan frontend: a frontend dir whose `backend` names one of its own
# backend dirs that is gone (what a watcherd killed between its old
# removals left behind: RELIABILITY bug 1) is removed with its
# /libxl/<domid>/device/<kind>/<devid> entry at start-up ("backend already
# gone -> clean frontend only"), and nothing else is touched: a device whose
# backend exists stays attached, a frontend whose backend belongs to
# another backend domain stays, a frontend whose `backend` names a
# different device of ours stays.  Then a normal removal deletes frontend,
# /libxl entry and backend together.
# Before the fix the orphan stayed for ever (the scan lists backends only).
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vif 1 test-hp
add_dev vif 2 test-hp
wait_for node_is "$(be vif 1)/hotplug-status" connected || fail "vif 1 attached"
wait_for node_is "$(be vif 2)/hotplug-status" connected || fail "vif 2 attached"
stop_watcherd
xenstore-rm "$(be vif 1)" || fail "rm backend vif 1"
xenstore-write "$(fe vif 9)/backend" /local/domain/7/backend/vif/5/9 \
	"$(fe vif 10)/backend" "$(be vif 11)" || fail "write decoys"
start_watcherd
wait_for grep -q "kind=vif devid=1 scan: backend already gone: orphan frontend cleaned" \
	"$W/watcherd.log" && ok "orphan logged" || fail "orphan log"
wait_for gone "$(fe vif 1)" && ok "orphan frontend removed" || fail "orphan left"
gone /libxl/5/device/vif/1 && ok "its /libxl entry removed" || fail "/libxl left"
gone "$(fe vif 2)" && fail "vif 2 frontend removed" || ok "vif 2 frontend kept"
expect_eq "vif 2 still attached" \
	"$(xenstore-read "$(be vif 2)/hotplug-status" 2>&1)" connected
gone "$(fe vif 9)" && fail "other backend domain's frontend removed" \
	|| ok "other backend domain's frontend kept"
gone "$(fe vif 10)" && fail "mismatched frontend removed" \
	|| ok "mismatched frontend kept"
xenstore-rm "$(fe vif 9)" "$(fe vif 10)"
remove_dev vif 2
wait_long 8 gone "$(be vif 2)" && ok "vif 2 removed" || fail "vif 2 backend left"
gone "$(fe vif 2)" && gone /libxl/5/device/vif/2 && ok "vif 2 frontend + /libxl gone" \
	|| fail "vif 2 frontend or /libxl left"
wd_finish
