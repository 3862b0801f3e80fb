#!/usr/bin/env bash
# it-hostile.sh proves hostile-input handling:
#  - malformed backend `state` values (4 KiB, binary, signed, padded,
#    leading zero, out of range) are "invalid": no script starts, nothing
#    crashes, the counter moves; a valid InitWait afterwards attaches;
#  - bogus names under the backend dir (non-numeric domid/devid, deep
#    trees under a device, kinds that are not ours such as console) are
#    ignored or mapped to their device: no device is invented, no
#    recursion;
#  - an event storm (1000 node writes in one burst) is coalesced: far fewer
#    evaluations than events;
#  - rapid frontend state flips (4,1,4,5 as fast as possible) during a
#    removal never restart the add: online ran once, offline ran once.
. "$(dirname "$0")/wdlib.sh"
C=$B/wd-client
setup
S=$W/run/watcherd.sock
stat() { "$C" "$S" stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# malformed state values on a device whose backend is not driven
P=$(be vbd 1)
kill -STOP "$BE"
add_dev vbd 1 test-hp --params /dev/loop1
big=$(head -c 4000 /dev/zero | tr '\0' 7)
for v in "$big" "-1" "2 " " 2" "02" "9" "2x" "" "4294967298"; do
	xenstore-write "$P/state" "$v"; sleep 0.05
done
"$B/check-xs" write "$P/state" "$(printf '2\001')" >/dev/null 2>&1
sleep 0.3
expect_eq "no script on invalid states" "$(calls add backend/vbd/5/1)" 0
[ "$(stat invalid_values)" -ge 8 ] && ok "invalid values counted" || fail "counter"
xenstore-write "$P/state" 2
wait_for node_is "$P/hotplug-status" connected || fail "valid state attaches"
kill -CONT "$BE"

# bogus names and deep trees
xenstore-write /local/domain/0/backend/vif/abc/0/state 2
xenstore-write /local/domain/0/backend/vif/5/xyz/state 2
xenstore-write /local/domain/0/backend/Bad-Kind/5/0/state 2
xenstore-write /local/domain/0/backend/console/5/0/state 2	# QEMU's, not ours
d=$(be vif 7)
for i in $(seq 30); do d=$d/a; done
xenstore-write "$d" deep
sleep 0.5
n=$("$C" "$S" devices | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
expect_eq "no invented devices (vbd 1 only; vif 7 has no state)" "$n" 1
xenstore-rm "$(be vif 7)"

# event storm, coalesced
add_dev vif 0 test-hp
wait_for node_is "$(be vif 0)/hotplug-status" connected || fail "vif 0"
e0=$(stat evals); w0=$(stat watch_events)
args=(); for i in $(seq 1000); do args+=("$(be vif 0)/spam$i" x); done
xenstore-write "${args[@]}"
sleep 1
e1=$(stat evals); w1=$(stat watch_events)
echo "storm: $((w1 - w0)) events, $((e1 - e0)) evaluations"
[ $((w1 - w0)) -ge 1000 ] && ok "events arrived" || fail "events $((w1 - w0))"
[ $((e1 - e0)) -lt 500 ] && ok "coalesced" || fail "evals $((e1 - e0))"

# flips during removal
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode flip \
	--seconds 3 >/dev/null 2>&1 & PIDS+=($!)
sleep 0.5
remove_dev vif 0
wait_long 8 gone "$(be vif 0)" || fail "removed despite flips"
sleep 0.5
expect_eq "online ran once" "$(calls online backend/vif/5/0)" 1
expect_eq "offline ran once" "$(calls offline backend/vif/5/0)" 1
wd_finish
