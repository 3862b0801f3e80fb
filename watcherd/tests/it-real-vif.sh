#!/usr/bin/env bash
# it-real-vif.sh proves the whole chain with the real, unmodified
# /etc/xen/scripts/vif-bridge inside a private network namespace: watcherd
# sees the vif at InitWait, hotplugd (running in the namespace, as a driver
# domain's would in its own network stack) runs `vif-bridge online
# type_if=vif`, whose xenstore-read/-write go through watcherd's scoped
# proxy; the veth standing in for netback's vif5.0 becomes a port of the
# bridge and hotplug-status=connected is written; on removal `vif-bridge
# offline` takes it out of the bridge and watcherd removes the backend.
. "$(dirname "$0")/wdlib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /etc/xen/scripts/vif-bridge ] || { echo "SKIP: no vif-bridge"; exit 77; }
NS=dsvif$$
ip netns add "$NS" || { echo "SKIP: cannot create a network namespace"; exit 77; }
netns_cleanup() { ip netns del "$NS" 2>/dev/null; wd_cleanup; }
trap netns_cleanup EXIT
ip -n "$NS" link set lo up
ip -n "$NS" link add xenbr0 type bridge && ip -n "$NS" link set xenbr0 up ||
	fail "bridge in the namespace"
# netback would create vif5.0; a veth stands in for it.
ip -n "$NS" link add vif5.0 type veth peer name gst5.0 || fail "veth vif5.0"
# the flag list (<...,UP,...>) says whether the interface was set up
vif_up() { ip -n "$NS" -o link show vif5.0 | grep -qE '<([^>]*,)?UP[,>]'; }
vif_up && fail "vif5.0 up before any script ran"

new_world
chmod 755 "$W"
mkdir -p "$W/run"
write_scripts
write_conf "script_dir = /etc/xen/scripts" "hotplug_timeout = 20s"
"$XW" domain create "$W" 5 >/dev/null || fail "create domain 5"
ip netns exec "$NS" "$BIN/devsep-hotplugd" -F -c "$W/devsep.conf" \
	--rundir "$W/run" >>"$W/hotplugd.log" 2>&1 &
HP=$!; PIDS+=($HP)
wait_for test -S "$W/run/hotplugd.sock" || fail "hotplugd socket"
start_backend
start_watcherd

add_dev vif 0 /etc/xen/scripts/vif-bridge --bridge xenbr0
P=$(be vif 0)
wait_long 20 node_is "$P/hotplug-status" connected || fail "vif-bridge online connected"
ip -n "$NS" -br link show master xenbr0 | grep -q '^vif5\.0' &&
	ok "vif5.0 is a port of xenbr0" || fail "vif5.0 not in the bridge"
vif_up && ok "vif5.0 brought up by the script" || fail "vif5.0 not up"

remove_dev vif 0
wait_long 20 gone "$P" || fail "backend removed"
ip -n "$NS" -br link show master xenbr0 | grep -q '^vif5\.0' &&
	fail "vif5.0 still in the bridge after offline" ||
	ok "vif-bridge offline took vif5.0 out of the bridge"
[ "$(grep -c 'vif-bridge' "$W/hotplugd.log")" -gt 0 ] || fail "hotplugd ran no vif-bridge"
wd_finish
