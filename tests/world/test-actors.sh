#!/usr/bin/env bash
# test-actors.sh proves the actors drive the real xenstored like libxl,
# blkback/netback and a guest kernel do:
#  - vif attach: toolstack add -> backend 2 -> (hotplug-status=connected,
#    as the hotplug script writes) -> frontend 3 -> backend 4 -> frontend 4;
#  - vif detach: toolstack remove (online=0, state=5) -> backend 6, frontend 6,
#    dirs removed;
#  - vbd attach needs physical-device too; detach with --io-drain-ms writes
#    shutdown-done before 6 (seed 003);
#  - kexec hand-over (frontend 4 -> 1) sends the backend back to 2 (seed 001)
#    and reconnects;
#  - the backend refuses to advance on a garbage frontend state and survives.
. "$(dirname "$0")/lib.sh"

new_world
"$XW" domain create "$W" 5 || fail "create 5"
"$B/actor-backend" -v -d "$W" --backend-domid 0 --io-drain-ms 200 --shutdown-done >"$W/be.log" 2>&1 &
BE=$!; JOBS_TO_KILL=$BE
wait_for grep -q ready "$W/be.log" || fail "backend ready"

VIF=/local/domain/0/backend/vif/5/0
FVIF=/local/domain/5/device/vif/0
"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind vif --devid 0 --bridge br0 || fail "add vif"
expect_eq "vif frontend link" "$(xenstore-read $VIF/frontend)" $FVIF
expect_eq "vif backend link" "$(xenstore-read $FVIF/backend)" $VIF
expect_eq "vif bridge" "$(xenstore-read $VIF/bridge)" br0
wait_for node_is $VIF/state 2 || fail "vif backend InitWait"
expect_eq "vif backend 2" "$(xenstore-read $VIF/state)" 2
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode connect --timeout-ms 300 \
	&& fail "frontend connected without hotplug-status"
expect_eq "vif waits for hotplug" "$(xenstore-read $VIF/state)" 2
xenstore-write $VIF/hotplug-status connected
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode connect || fail "frontend connect"
wait_for node_is $VIF/state 4 || true
expect_eq "vif backend connected" "$(xenstore-read $VIF/state)" 4
expect_eq "vif frontend connected" "$(xenstore-read $FVIF/state)" 4

# kexec hand-over.
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode kexec >"$W/kexec.out" || fail "kexec"
expect_eq "kexec reconnected" "$(cat "$W/kexec.out")" reconnected
grep -q "state vif/5/0 4->2" "$W/be.log" && ok "backend went back to InitWait" || { cat "$W/be.log"; fail "backend 4->2 on kexec"; }

# Detach: frontend follows the backend's Closing.
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode normal & FE=$!
"$B/actor-toolstack" remove --backend-domid 0 --domid 5 --kind vif --devid 0 --wait-ms 5000 || fail "remove vif"
wait $FE || fail "frontend close"
expect_eq "vif backend dir removed" "$("$B/check-xs" read $VIF)" "ERR ENOENT"
expect_eq "vif frontend dir removed" "$("$B/check-xs" read $FVIF)" "ERR ENOENT"

# vbd: physical-device is part of "hotplug done"; I/O drain before 6.
VBD=/local/domain/0/backend/vbd/5/51712
FVBD=/local/domain/5/device/vbd/51712
"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind vbd --devid 51712 --params /dev/loop7 || fail "add vbd"
expect_eq "vbd params" "$(xenstore-read $VBD/params)" /dev/loop7
expect_eq "vbd frontend virtual-device" "$(xenstore-read $FVBD/virtual-device)" 51712
wait_for node_is $VBD/state 2 || fail "vbd backend InitWait"
"$B/actor-frontend" -d "$W" --domid 5 --kind vbd --devid 51712 --mode never-close --seconds 20 & FE=$!
xenstore-write $VBD/hotplug-status connected
wait_for node_is $FVBD/state 3 || fail "vbd frontend Initialised"
sleep 0.1
expect_eq "vbd waits for physical-device" "$(xenstore-read $VBD/state)" 2
xenstore-write $VBD/physical-device 7:7
wait_for node_is $FVBD/state 4 || fail "vbd frontend connected"
expect_eq "vbd backend connected" "$(xenstore-read $VBD/state)" 4
expect_eq "vbd sectors" "$(xenstore-read $VBD/sectors)" 2097152
"$B/actor-toolstack" remove --backend-domid 0 --domid 5 --kind vbd --devid 51712 || fail "remove vbd"
expect_eq "vbd closing" "$(xenstore-read $VBD/state)" 5
expect_eq "vbd online=0" "$(xenstore-read $VBD/online)" 0
expect_eq "no shutdown-done before drain" "$("$B/check-xs" read $VBD/shutdown-done)" "ERR ENOENT"
wait_for node_is $VBD/state 6 || fail "vbd closed after drain"
expect_eq "vbd shutdown-done" "$("$B/check-xs" read $VBD/shutdown-done)" ""
kill $FE 2>/dev/null; wait $FE 2>/dev/null
"$B/actor-toolstack" remove --backend-domid 0 --domid 5 --kind vbd --devid 51712 --force || fail "force remove"
expect_eq "vbd gone" "$("$B/check-xs" read $VBD)" "ERR ENOENT"

# Hostile frontend: garbage state never advances the backend.
"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind vif --devid 1 || fail "add vif 1"
wait_for node_is /local/domain/0/backend/vif/5/1/state 2 || fail "vif1 InitWait"
xenstore-write /local/domain/0/backend/vif/5/1/hotplug-status connected
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 1 --mode garbage >"$W/g.out" || fail "garbage"
grep -q "garbage accepted=" "$W/g.out" && ok "$(cat "$W/g.out")" || fail "garbage output"
sleep 0.2
expect_eq "garbage leaves backend at 2" "$(xenstore-read /local/domain/0/backend/vif/5/1/state)" 2
kill -0 $BE 2>/dev/null && ok "backend survived" || fail "backend died"
finish
