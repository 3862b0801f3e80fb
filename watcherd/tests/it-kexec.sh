#!/usr/bin/env bash
# it-kexec.sh proves seed 001: a frontend that goes back to Initialising
# after Connected (kexec hand-over) gets its device reset, not torn down:
# the backend returns to InitWait and reconnects, watcherd counts one
# hand-over, runs no remove script and does not re-run the add script
# (hotplug-status stays connected); the device is still listed connected.
. "$(dirname "$0")/wdlib.sh"
setup
add_dev vif 0 test-hp
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode connect \
	|| fail "connect"
wait_for node_is "$(be vif 0)/state" 4 || fail "backend 4"
sleep 0.3			# let watcherd see state 4
out=$("$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode kexec)
expect_eq "frontend reconnected" "$out" reconnected
grep -q "state vif/5/0 4->2" "$W/be.log" && ok "backend back to InitWait" \
	|| fail "backend 4->2"
wait_for grep -q "kind=vif devid=0 frontend hand-over (kexec)" "$W/watcherd.log" \
	&& ok "hand-over counted" || fail "hand-over log"
sleep 0.3
expect_eq "online ran once" "$(calls online backend/vif/5/0)" 1
expect_eq "no offline" "$(calls offline backend/vif/5/0)" 0
expect_eq "still connected" "$(xenstore-read "$(be vif 0)/hotplug-status")" connected
expect_eq "backend dir kept" "$(xenstore-read "$(be vif 0)/online")" 1
wd_finish
