#!/usr/bin/env bash
# it-xl-driverdom.sh proves driver-domain mode with Debian's real xl
# (libxl 4.17, tests/world/xl.sh) as the toolstack in dom0: driver domain 7
# runs devsep-watcherd (--domid 7, through dom7.sock) and devsep-hotplugd
# (in its own network namespace with a bridge, and its own /etc/xen whose
# vif-bridge and block are counting wrappers around the real scripts),
# the kernel backend is actor-backend as domain 7 in its Linux mode (no
# `shutdown-done`; --close-with-frontend: Closed only once the frontend
# closed or vanished), the guest's frontends are actor-frontend as domain
# 5.  `xl network-attach
# /-detach` and `xl block-attach/-detach` with backend=7, a re-attach of
# the same vdev, a detach whose frontend hangs (libxl forces after its
# LIBXL_DESTROY_TIMEOUT, 10 s, by removing the frontend), and `xl destroy`
# of the guest with both devices: xl exits 0, each script runs exactly
# once per action, nothing is left behind (backend, frontend,
# /libxl/5/device entries, loop devices, bridge ports), and a vbd detach
# takes less than 1 s plus the remove script's own time.  ~14 s.
. "$(dirname "$0")/wdlib.sh"
. "$ROOT/tests/world/xl.sh"
xl_need_real_scripts
NS=dsxl$$
ip netns add "$NS" || { echo "FAIL: cannot create a network namespace"; exit 1; }
IMG=
xl_cleanup() {	# loop devices first: wd_cleanup removes the image
	[ -n "$IMG" ] && losetup -j "$IMG" | cut -d: -f1 | xargs -r -n1 losetup -d
	wd_cleanup
	ip netns del "$NS" 2>/dev/null
}
trap xl_cleanup EXIT
ip -n "$NS" link set lo up
ip -n "$NS" link add xenbr0 type bridge && ip -n "$NS" link set xenbr0 up ||
	fail "bridge in the namespace"
# netback would create vif5.0; a veth stands in for it.
ip -n "$NS" link add vif5.0 type veth peer name gst5.0 || fail "veth vif5.0"
ports() { ip -n "$NS" -br link show master xenbr0 | awk '{sub(/@.*/, "", $1); print $1}' | tr '\n' ' '; }

new_world
chmod 755 "$W"
mkdir -p "$W/run"
xl_world_setup || exit 1
IMG=$W/disk.img
truncate -s 4M "$IMG"
# The driver domain's /etc/xen: the real scripts behind counting wrappers.
cp -a /etc/xen "$W/dd-etc"
for s in vif-bridge block; do
	mv "$W/dd-etc/scripts/$s" "$W/dd-etc/scripts/$s.real"
	cat >"$W/dd-etc/scripts/$s" <<S
#!/bin/sh
echo "\$(date +%s%3N) start $s \$1 \$XENBUS_PATH" >>$W/calls.log
"\$0.real" "\$@"; rc=\$?
echo "\$(date +%s%3N) end $s \$1 \$XENBUS_PATH \$rc" >>$W/calls.log
exit \$rc
S
	chmod 755 "$W/dd-etc/scripts/$s"
done
: >"$W/calls.log"
chmod 666 "$W/calls.log"
# io_drain_timeout as shipped (10 s): the Linux-like backend must not wait.
# destroy_timeout 6 s, under libxl's 10 s: a watcherd that forced a
# toolstack's removal after one window would do it before libxl removes a
# hung frontend (with 10 s the two timers race).
write_conf "script_dir = /etc/xen/scripts" "hotplug_timeout = 20s" \
	"destroy_timeout = 6s" "io_drain_timeout = 10s"
"$XW" domain create "$W" 7 >/dev/null || fail "create 7"
xl_guest_create 5 || fail "create 5"
ip netns exec "$NS" unshare -m --propagation private sh -c \
	'mount --bind "$1" /etc/xen && shift && exec "$@"' sh "$W/dd-etc" \
	"$BIN/devsep-hotplugd" -F -c "$W/devsep.conf" --rundir "$W/run" \
	>>"$W/hotplugd.log" 2>&1 &
HP=$!; PIDS+=($HP)
wait_for test -S "$W/run/hotplugd.sock" || fail "hotplugd socket"
XENSTORED_PATH=$W/dom7.sock "$B/actor-backend" -v --backend-domid 7 --close-with-frontend \
	>>"$W/be.log" 2>&1 &
BE=$!; PIDS+=($BE)
wait_for grep -q ready "$W/be.log" || fail "backend ready"
XENSTORED_PATH=$W/dom7.sock "$BIN/devsep-watcherd" -F -d --domid 7 \
	-c "$W/devsep.conf" --rundir "$W/run" >>"$W/watcherd.log" 2>&1 &
WD=$!; PIDS+=($WD)
wait_for grep -q "started" "$W/watcherd.log" || fail "watcherd start"

VIF=/local/domain/7/backend/vif/5/0
VBD=/local/domain/7/backend/vbd/5/51728
runs() { grep -c " start $1 $2 backend/$3\$" "$W/calls.log"; }	# script action dev
# script_ms SCRIPT ACTION DEV: duration of its last run
script_ms() {
	awk -v s="$1" -v a="$2" -v d="backend/$3" '$3 == s && $4 == a && $5 == d {
		if ($2 == "start") t = $1; else if ($2 == "end") ms = $1 - t }
		END { printf "%d\n", ms }' "$W/calls.log"
}
xl_ok() { if run_xl "$@"; then ok "xl $* ($XL_MS ms)"; else fail "xl $*: rc $? after $XL_MS ms: $(tail -3 "$XL_ERR")"; fi; }
expect_gone() { if gone "$1"; then ok "$1 gone"; else fail "$1 left"; fi; }
loops() { losetup -j "$IMG" | wc -l; }
# frontend KIND DEVID: the guest's driver connects, closes when asked.
frontend() {
	"$B/actor-frontend" -d "$W" --domid 5 --kind "$1" --devid "$2" \
		--mode normal --timeout-ms 60000 >>"$W/fe.log" 2>&1 &
	PIDS+=($!)
}
attach_vif() {	# [hung]: no frontend driver (it never closes)
	xl_ok network-attach 5 backend=7 bridge=xenbr0 mac=00:16:3e:00:00:05
	[ "${1:-}" = hung ] || frontend vif 0
	wait_long 20 node_is $VIF/hotplug-status connected || fail "vif connected"
}
attach_vbd() {
	xl_ok block-attach 5 "format=raw,vdev=xvdb,access=rw,backend=7,target=$IMG"
	frontend vbd 51728
	wait_long 20 node_is $VBD/hotplug-status connected || fail "vbd connected"
	wait_long 5 node_is $VBD/state 4 || fail "vbd connected to its frontend"
}
nothing_left() {	# kind devid vdev
	expect_gone "/local/domain/7/backend/$1/5/$2"
	expect_gone "/local/domain/5/device/$1/$2"
	expect_gone "/libxl/5/device/$1/$2"
}

attach_vif
expect_eq "vif-bridge online ran once" "$(runs vif-bridge online vif/5/0)" 1
expect_eq "vif5.0 a port of xenbr0" "$(ports)" "vif5.0 "
attach_vbd
expect_eq "block add ran once" "$(runs block add vbd/5/51728)" 1
expect_eq "one loop device" "$(loops)" 1

xl_ok network-detach 5 0
expect_eq "vif-bridge offline ran once" "$(runs vif-bridge offline vif/5/0)" 1
expect_eq "no bridge port left" "$(ports)" ""
nothing_left vif 0

xl_ok block-detach 5 xvdb
expect_eq "block remove ran once" "$(runs block remove vbd/5/51728)" 1
sms=$(script_ms block remove vbd/5/51728)
[ "$XL_MS" -lt $(( 1000 + sms )) ] &&
	ok "block-detach in $XL_MS ms (remove script $sms ms)" ||
	fail "block-detach took $XL_MS ms, remove script $sms ms: more than 1 s waited"
expect_eq "no loop device left" "$(loops)" 0
nothing_left vbd 51728

# A frontend that never closes: libxl waits LIBXL_DESTROY_TIMEOUT, then
# removes the frontend and waits again; the backend closes, the driver
# domain removes it: xl exits 0 after ~10 s.
attach_vif hung
expect_eq "vif-bridge online ran once more" "$(runs vif-bridge online vif/5/0)" 2
xl_ok network-detach 5 0
[ "$XL_MS" -ge 10000 ] && [ "$XL_MS" -lt 12000 ] &&
	ok "hung frontend: detach after libxl's forced removal ($XL_MS ms)" ||
	fail "hung frontend: detach took $XL_MS ms"
expect_eq "offline ran once (hung frontend)" "$(runs vif-bridge offline vif/5/0)" 2
expect_eq "no bridge port left (hung frontend)" "$(ports)" ""
nothing_left vif 0
grep -q "forcing removal" "$W/watcherd.log" &&
	fail "watcherd forced a removal libxl was still waiting for" ||
	ok "no forced removal: the backend closed when libxl removed the frontend"

# Re-attach of the same vdev, then destroy the guest with both devices.
attach_vbd
expect_eq "block add ran once more" "$(runs block add vbd/5/51728)" 2
attach_vif
expect_eq "vif-bridge online ran thrice" "$(runs vif-bridge online vif/5/0)" 3
xl_ok destroy 5
expect_eq "offline on destroy ran once" "$(runs vif-bridge offline vif/5/0)" 3
expect_eq "remove on destroy ran once" "$(runs block remove vbd/5/51728)" 2
expect_eq "no loop device left after destroy" "$(loops)" 0
expect_eq "no bridge port left after destroy" "$(ports)" ""
wait_long 3 gone /local/domain/7/backend/vif/5 || true
expect_gone /local/domain/7/backend/vif/5
expect_gone /local/domain/7/backend/vbd/5
expect_gone /local/domain/5
expect_gone /libxl/5
expect_eq "scripts run in all" "$(grep -c ' start ' "$W/calls.log")" 10
[ "$FAILS" -eq 0 ] || { echo "--- xl.log"; tail -n 40 "$XL_ROOT/xl.log"; }
wd_finish
