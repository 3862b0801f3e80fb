#!/usr/bin/env bash
# it-remove-paths.sh proves the other paths of seed 000's removal diagram:
#  - timeout -> force: the backend never reaches 6 (kernel backend
#    frozen); after destroy_timeout the script runs anyway, then the
#    backend is nuked;
#  - backend already gone: the backend dir vanishes under us; watcherd
#    cleans the frontend (dom0) and runs no script;
#  - qdisk: without devsep-qemu-broker it is marked unsupported
#    (hotplug-status=error + hotplug-error), not lost; when its guest dies
#    the qemu bodge waits qemu_bodge_timeout, sets state 6 itself and
#    removes the backend (no script: QEMU's backends have none).
. "$(dirname "$0")/wdlib.sh"
setup

# --- timeout -> force
add_dev vif 1 test-hp
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 1 --mode connect \
	|| fail "vif 1 connect"
wait_for node_is "$(be vif 1)/state" 4 || fail "vif 1 backend 4"
kill -STOP "$BE"		# the kernel backend hangs: never reaches 6
t0=$(date +%s.%N)
remove_dev vif 1
wait_long 8 gone "$(be vif 1)" || fail "forced removal nuked the backend"
t1=$(date +%s.%N)
kill -CONT "$BE"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1.9) }' \
	&& ok "force only after destroy_timeout" || fail "forced too early"
grep -q "kind=vif devid=1 backend did not close within destroy_timeout" \
	"$W/watcherd.log" && ok "force logged" || fail "force log"
expect_eq "offline ran anyway" "$(calls offline backend/vif/5/1)" 1

# --- backend already gone
add_dev vif 2 test-hp
wait_for node_is "$(be vif 2)/hotplug-status" connected || fail "vif 2 attached"
xenstore-rm "$(be vif 2)"
wait_for gone "$(fe vif 2)" || fail "frontend cleaned"
wait_for grep -q "kind=vif devid=2 backend already gone: frontend cleaned" \
	"$W/watcherd.log" && ok "frontend-only cleanup logged" || fail "log"
expect_eq "no offline script" "$(calls offline backend/vif/5/2)" 0

# --- qdisk without broker, then the qemu bodge on guest death
add_dev qdisk 51728 "" --params /tmp/none.img --type qdisk
wait_for node_is "$(be qdisk 51728)/hotplug-status" error || fail "qdisk error"
expect_eq "qdisk hotplug-error" "$(xenstore-read "$(be qdisk 51728)/hotplug-error")" \
	"qdisk needs devsep-qemu-broker, not running"
kill -STOP "$BE"		# nobody else moves the qdisk backend
"$XW" domain destroy "$W" 5 || fail "destroy 5"
wait_long 6 gone "$(be qdisk 51728)" || fail "qdisk backend removed"
kill -CONT "$BE"
grep -q "kind=qdisk devid=51728 qemu bodge: guest dead, setting state 6" \
	"$W/watcherd.log" && ok "qemu bodge" || fail "bodge log"
expect_eq "no script for qdisk" "$(grep -c 'qdisk' "$W/calls.log")" 0
wd_finish
