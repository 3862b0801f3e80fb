#!/usr/bin/env bash
# it-xl-switchover.sh proves docs/DEPLOY.md's driver-domain switch-over and
# rollback with Debian's real xl 4.17 on both sides: dom0's xl attaches
# and detaches vifs with backend=7, and driver domain 7 runs first the
# stock `xl devd` (xendriverdomain.service's daemon), then devsep
# (watcherd + hotplugd), then `xl devd` again.  The real vif-bridge (in a
# network namespace with a bridge) runs behind a counting wrapper that both
# daemons use.  Checks:
#  - switch-over: a vif that xl devd connected is adopted by watcherd (no
#    script run again) and its later `xl network-detach` runs vif-bridge
#    offline once, xl rc 0;
#  - rollback: vifs detached before devsep stops, then the restarted xl
#    devd attaches and detaches as before; a vif devsep attached and left
#    is removed by xl devd (xl rc 0) but xl devd runs its add script
#    (online) again during that removal - the measured reason why
#    DEPLOY.md says to detach devsep's devices before rolling back.
. "$(dirname "$0")/wdlib.sh"
. "$ROOT/tests/world/xl.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root"; exit 1; }
[ -x /etc/xen/scripts/vif-bridge ] || { echo "FAIL: no vif-bridge"; exit 1; }
NS=dssw$$
ip netns add "$NS" || { echo "FAIL: cannot create a network namespace"; exit 1; }
DEVD=
sw_cleanup() {
	[ -n "$DEVD" ] && kill "$DEVD" 2>/dev/null && wait "$DEVD" 2>/dev/null
	wd_cleanup
	ip netns del "$NS" 2>/dev/null
}
trap sw_cleanup EXIT
ip -n "$NS" link set lo up
ip -n "$NS" link add xenbr0 type bridge && ip -n "$NS" link set xenbr0 up ||
	fail "bridge in the namespace"
for n in 0 1 2 3 4; do
	ip -n "$NS" link add "vif5.$n" type veth peer name "gst5.$n" ||
		fail "veth vif5.$n"
done
port() { ip -n "$NS" -br link show master xenbr0 | grep -q "^$1[ @]"; }

new_world
chmod 755 "$W"
mkdir -p "$W/run"
xl_world_setup || exit 1
# One /etc/xen for xl devd and hotplugd: the real vif-bridge, counted.
S=$XL_ROOT/etc/scripts
mv "$S/vif-bridge" "$S/vif-bridge.real"
cat >"$S/vif-bridge" <<E
#!/bin/sh
echo "\$1 \$XENBUS_PATH" >>$W/calls.log
exec "\$0.real" "\$@"
E
chmod 755 "$S/vif-bridge"
: >"$W/calls.log"
chmod 666 "$W/calls.log"
write_conf "script_dir = /etc/xen/scripts" "hotplug_timeout = 20s"
"$XW" domain create "$W" 7 >/dev/null || fail "create 7"
xl_guest_create 5 || fail "create 5"
# Closing -> Closed after 300 ms, as a backend whose guest takes a moment
# to close: xl devd then reads state 5, not 6, at a removal's first event
# (which of the two decides what it does with a device it does not know).
XENSTORED_PATH=$W/dom7.sock "$B/actor-backend" -v --backend-domid 7 \
	--io-drain-ms 300 >>"$W/be.log" 2>&1 &
BE=$!; PIDS+=($BE)
wait_for grep -q ready "$W/be.log" || fail "backend ready"

# xl devd as domain 7, in the namespace, with xl's private dirs
devd_start() {
	ip netns exec "$NS" unshare -m --propagation private sh -c \
		"$XL_NS_BODY" sh env LD_PRELOAD="$XENSHIM" \
		XENSTORED_RUNDIR="$W" XENSTORED_PATH="$W/dom7.sock" \
		"$XL" -vvv devd -F >>"$W/devd.log" 2>&1 &
	DEVD=$!
	wait_for grep -q "backend" "$W/devd.log" || sleep 0.5
}
devd_stop() { kill "$DEVD"; wait "$DEVD" 2>/dev/null; DEVD=; }
devsep_start() {
	ip netns exec "$NS" unshare -m --propagation private sh -c \
		'mount --bind "$1" /etc/xen && shift && exec "$@"' sh \
		"$XL_ROOT/etc" "$BIN/devsep-hotplugd" -F -c "$W/devsep.conf" \
		--rundir "$W/run" >>"$W/hotplugd.log" 2>&1 &
	HP=$!; PIDS+=($HP)
	wait_for test -S "$W/run/hotplugd.sock" || fail "hotplugd socket"
	XENSTORED_PATH=$W/dom7.sock "$BIN/devsep-watcherd" -F -d --domid 7 \
		-c "$W/devsep.conf" --rundir "$W/run" >>"$W/watcherd.log" 2>&1 &
	WD=$!; PIDS+=($WD)
	wait_for grep -q "started" "$W/watcherd.log" || fail "watcherd start"
}
devsep_stop() {
	kill "$WD" "$HP"; wait "$WD" "$HP" 2>/dev/null
	rm -f "$W/run/hotplugd.sock" "$W/run/watcherd.sock"
}
xl_ok() { if run_xl "$@"; then ok "xl $* ($XL_MS ms)"; else fail "xl $*: rc $? $(tail -3 "$XL_ERR")"; fi; }
runs() { grep -c "^$1 backend/vif/5/$2\$" "$W/calls.log"; }
hs() { node_is "/local/domain/7/backend/vif/5/$1/hotplug-status" connected; }
attach() {
	xl_ok network-attach 5 backend=7 bridge=xenbr0 devid="$1" \
		mac="00:16:3e:00:05:0$1"
	wait_long 20 hs "$1" || fail "vif $1 connected"
}

# ---- stock: xl devd connects vif 0
devd_start
attach 0
port vif5.0 && ok "xl devd: vif5.0 in the bridge" || fail "xl devd: vif5.0 not in the bridge"
expect_eq "xl devd: online once" "$(runs online 0)" 1

# ---- switch-over (DEPLOY.md): stop xl devd, start devsep
devd_stop
devsep_start
wait_for grep -q "domid=5 kind=vif devid=0 already connected: adopted" \
	"$W/watcherd.log" && ok "watcherd adopted vif 0" || fail "vif 0 not adopted"
expect_eq "adopted: no script run again" "$(runs online 0)" 1
attach 1
expect_eq "devsep: vif 1 online once" "$(runs online 1)" 1
xl_ok network-detach 5 0
expect_eq "devsep: vif 0 (xl devd's) offline once" "$(runs offline 0)" 1
port vif5.0 && fail "vif5.0 left in the bridge" || ok "vif5.0 out of the bridge"
gone /local/domain/7/backend/vif/5/0 && ok "vif 0 backend removed" ||
	fail "vif 0 backend left"

# ---- vifname=: libxl passes vif=vif<D>.<N> (the name netback gives the
# interface) whatever the vifname, and vif-bridge renames it to the
# vifname (libxl_linux.c get_hotplug_env, vif-common.sh rename_vif).
# watcherd passed the vifname as vif: the rename failed ("ip link set
# gvif4 name gvif4 failed").  (Debian 4.17's vif-bridge then still fails
# in a driver domain, under xl devd too: set_mtu derives the frontend path
# from the new name, /local/domain/gvif4/..., which domain 7 may not write.
# So only the rename is checked, and that the device goes away cleanly.)
xl_ok network-attach 5 backend=7 bridge=xenbr0 devid=4 vifname=gvif4 \
	mac=00:16:3e:00:05:04
wait_long 20 xenstore-exists /local/domain/7/backend/vif/5/4/hotplug-error ||
	wait_long 1 hs 4
ip -n "$NS" link show gvif4 >/dev/null 2>&1 &&
	! ip -n "$NS" link show vif5.4 >/dev/null 2>&1 &&
	ok "vifname: vif-bridge renamed vif5.4 to gvif4, as under xl devd" ||
	fail "vifname: not renamed: $(xenstore-read /local/domain/7/backend/vif/5/4/hotplug-error 2>&1)"
xl_ok network-detach 5 4
gone /local/domain/7/backend/vif/5/4 && ok "vifname: vif 4 removed" ||
	fail "vifname: vif 4 backend left"

# ---- rollback (DEPLOY.md): detach what devsep attached, stop devsep,
# start xl devd again
attach 2
xl_ok network-detach 5 1
expect_eq "devsep: vif 1 offline once" "$(runs offline 1)" 1
port vif5.1 && fail "vif5.1 left in the bridge" || ok "vif5.1 out of the bridge"
devsep_stop
devd_start
attach 3
expect_eq "xl devd again: vif 3 online once" "$(runs online 3)" 1
xl_ok network-detach 5 3
expect_eq "xl devd again: vif 3 offline once" "$(runs offline 3)" 1
# Why DEPLOY.md says to detach first: xl devd learns of devsep's vif 2
# only from its removal's state-5 event, takes it for a new device and
# runs its add script (online) again during the removal
# (libxl_device.c backend_watch_callback -> add_device), next to offline.
xl_ok network-detach 5 2
wait_long 10 gone /local/domain/7/backend/vif/5/2 ||
	fail "xl devd did not remove devsep's vif 2"
expect_eq "xl devd: devsep's vif 2 offline once" "$(runs offline 2)" 1
expect_eq "xl devd ran vif 2's online again during its removal" \
	"$(runs online 2)" 2
wd_finish_noproc() {
	[ "$FAILS" -eq 0 ] || { show_logs; echo "--- devd.log"; tail -30 "$W/devd.log"; }
	sanitizer_report "$W/watcherd.log" && fail "sanitizer"
	finish
}
[ -n "${KEEP:-}" ] && cp -r "$W" /tmp/wd-keep
wd_finish_noproc
