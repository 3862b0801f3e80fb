#!/usr/bin/env bash
# it-guest-destroy.sh proves guest death handling (@releaseDomain): when
# domain 5 is destroyed every one of its devices is cleaned up - the
# remove/offline script runs once for each and the backend dirs are gone -
# while a device of another guest (domain 6) is left alone.
. "$(dirname "$0")/wdlib.sh"
setup
"$XW" domain create "$W" 6 >/dev/null || fail "create 6"
add_dev vif 0 test-hp
add_dev vif 1 test-hp
add_dev vbd 51712 test-hp --params /dev/loop7
"$B/actor-toolstack" add --backend-domid 0 --domid 6 --kind vif --devid 0 \
	--script test-hp || fail "add dom6 vif"
for p in "$(be vif 0)" "$(be vif 1)" "$(be vbd 51712)" \
	/local/domain/0/backend/vif/6/0; do
	wait_for node_is "$p/hotplug-status" connected || fail "$p attached"
done
"$XW" domain destroy "$W" 5 || fail "destroy 5"
for p in "$(be vif 0)" "$(be vif 1)" "$(be vbd 51712)"; do
	wait_long 8 gone "$p" || fail "$p removed"
done
expect_eq "offline vif 0" "$(calls offline backend/vif/5/0)" 1
expect_eq "offline vif 1" "$(calls offline backend/vif/5/1)" 1
expect_eq "remove vbd" "$(calls remove backend/vbd/5/51712)" 1
expect_eq "dom6 device untouched" \
	"$(xenstore-read /local/domain/0/backend/vif/6/0/hotplug-status)" connected
expect_eq "no script for dom6" "$(calls offline backend/vif/6/0)" 0
grep -q "domid=5 guest is gone" "$W/watcherd.log" && ok "death logged" \
	|| fail "death log"
wd_finish
