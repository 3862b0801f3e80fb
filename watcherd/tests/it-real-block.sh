#!/usr/bin/env bash
# it-real-block.sh proves the whole chain with the real, unmodified
# /etc/xen/scripts/block: watcherd sees the vbd at InitWait, hotplugd runs
# `block add` whose xenstore-read/-write go through watcherd's scoped proxy,
# a loop device is attached to the image and physical-device +
# hotplug-status=connected are written; on removal `block remove` detaches
# the loop device and watcherd removes the backend.
. "$(dirname "$0")/wdlib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /etc/xen/scripts/block ] || { echo "SKIP: no /etc/xen/scripts/block"; exit 77; }
losetup -f >/dev/null 2>&1 || { echo "SKIP: no loop devices"; exit 77; }
setup "script_dir = /etc/xen/scripts" "hotplug_timeout = 20s"
IMG=$W/disk.img
truncate -s 4M "$IMG"
# hotplug scripts run as per-job uids of group devsep-script (hotplugd/launch.h)
chgrp devsep-script "$IMG" && chmod 0660 "$IMG"
add_dev vbd 51712 block --params "$IMG"
P=$(be vbd 51712)
wait_long 20 node_is "$P/hotplug-status" connected || fail "block add connected"
pd=$(xenstore-read "$P/physical-device" 2>/dev/null)
node=$(xenstore-read "$P/node" 2>/dev/null)
echo "physical-device=$pd node=$node"
[ -n "$node" ] && losetup "$node" 2>/dev/null | grep -q "$IMG" \
	&& ok "loop device attached to the image" || fail "loop device"
remove_dev vbd 51712
wait_long 20 gone "$P" || fail "backend removed"
losetup -j "$IMG" | grep -q . && fail "loop device still attached" \
	|| ok "loop device detached by block remove"
grep -q "denied" "$W/watcherd.log" && echo "note: proxy denials: $(grep -c denied "$W/watcherd.log")"
wd_finish
