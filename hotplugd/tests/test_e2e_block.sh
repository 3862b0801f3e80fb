#!/usr/bin/env bash
# test_e2e_block.sh proves the whole product path with the unmodified Xen
# block script: real xenstored (test world), devsep-watcherd, sandboxed
# devsep-hotplugd with script_dir=/etc/xen/scripts, the job's scoped
# xenstore proxy, a simulated blkback and guest frontend:
#  - attach: the toolstack adds a file-backed vbd, backend InitWait ->
#    watcherd's job -> hotplugd runs `block add` whose xenstore-* calls go
#    through the proxy -> a loop device backs the image, node /
#    physical-device / hotplug-status=connected are written -> frontend and
#    backend reach Connected (4); no proxy denial, no script error;
#  - detach: toolstack remove -> backend 5 -> 6 -> `block remove` detaches
#    the loop device -> the device's xenstore dirs are gone.
. "$(dirname "$0")/../../watcherd/tests/wdlib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (loop devices)"; exit 77; }
[ -x /etc/xen/scripts/block ] || { echo "SKIP: no /etc/xen/scripts/block"; exit 77; }

setup "script_dir = /etc/xen/scripts" "hotplug_timeout = 20s"
IMG=$W/disk.img
truncate -s 8M "$IMG"
# hotplug scripts run as per-job uids of group devsep-script (hotplugd/launch.h)
chgrp devsep-script "$IMG" && chmod 0660 "$IMG"
add_dev vbd 51712 block --params "$IMG"
"$B/actor-frontend" -d "$W" --domid 5 --kind vbd --devid 51712 --mode connect \
	|| fail "vbd frontend connect"
BEP=$(be vbd 51712)
expect_eq "hotplug-status (written by block via the proxy)" \
	"$(xenstore-read "$BEP/hotplug-status" 2>&1)" connected
LOOP=$(xenstore-read "$BEP/node" 2>/dev/null)
losetup "$LOOP" 2>/dev/null | grep -q "$IMG" && ok "loop device $LOOP backs the image" \
	|| fail "no loop device for $IMG (node '$LOOP')"
expect_eq "physical-device" "$(xenstore-read "$BEP/physical-device" 2>&1)" \
	"$(stat -L -c '%t:%T' "$LOOP" 2>/dev/null)"
wait_for node_is "$BEP/state" 4 || fail "backend Connected"
grep -q ": denied " "$W/watcherd.log" && fail "proxy denial: $(grep ': denied ' "$W/watcherd.log")"
wait_for grep -q "job=.*exited code=0" "$W/hotplugd.log" && ok "hotplugd: block add exited 0" \
	|| fail "hotplugd did not run block add successfully"

"$B/actor-frontend" -d "$W" --domid 5 --kind vbd --devid 51712 --mode normal & FE=$!
remove_dev vbd 51712	# online=0, state=5: watcherd does the rest (seed 000)
wait $FE || fail "frontend close"
wait_long 15 gone "$BEP" || fail "backend dir removed"
wait_long 5 sh -c "! losetup '$LOOP' 2>/dev/null | grep -q '$IMG'" \
	&& ok "block remove detached $LOOP" \
	|| { fail "loop device still attached"; losetup -d "$LOOP"; }
expect_eq "two block runs, both exited 0" \
	"$(grep -c 'exited code=0' "$W/hotplugd.log")" 2
wd_finish
