#!/usr/bin/env bash
# it-xl-dom0.sh proves dom0 mode with Debian's real xl (libxl 4.17,
# tests/world/xl.sh): backends in dom0, the device's script named
# devsep-<script> (a symlink to devsep-relay), devsep-watcherd with
# backend_mode auto (libxl in domain 0) and devsep-hotplugd running the
# real, unmodified vif-bridge (in a network namespace with a bridge) and
# block (loop device) scripts.  Checks, per xl command: xl exits 0, each
# script ran exactly once per action and only inside hotplugd (libxl runs
# the relay, watcherd nothing of its own), the bridge port / loop device
# come and go, libxl removes the dirs (watcherd removes nothing), a script
# cannot write outside its backend, and `xl destroy` of a guest with a
# relayed vif works.
. "$(dirname "$0")/../../watcherd/tests/wdlib.sh"
. "$ROOT/tests/world/xl.sh"
xl_need_real_scripts
NS=dsxl$$
ip netns add "$NS" || { echo "FAIL: cannot create a network namespace"; exit 1; }
xl_cleanup() {
	[ -n "${IMG:-}" ] && losetup -j "$IMG" | cut -d: -f1 | xargs -r losetup -d
	ip netns del "$NS" 2>/dev/null; wd_cleanup
}
trap xl_cleanup EXIT
ip -n "$NS" link set lo up
ip -n "$NS" link add xenbr0 type bridge && ip -n "$NS" link set xenbr0 up ||
	fail "bridge in the namespace"
# netback would create vif5.N; veths stand in for them.
for n in 0 1 2; do
	ip -n "$NS" link add "vif5.$n" type veth peer name "gst5.$n" ||
		fail "veth vif5.$n"
done
# HVM guest 6: netback's vif6.0 and the device model's tap vif6.0-emu
ip -n "$NS" link add vif6.0 type veth peer name gst6.0 || fail "veth vif6.0"
ip -n "$NS" link add vif6.0-emu type veth peer name gst6.0e || fail "veth vif6.0-emu"
port() { ip -n "$NS" -br link show master xenbr0 | grep -q "^$1[ @]"; }

new_world
chmod 755 "$W"
mkdir -p "$W/run"
xl_world_setup || exit 1
# hotplugd's script_dir: an unmodified copy of the real scripts (they find
# their helpers next to themselves), plus test-escape.
cp -a /etc/xen/scripts "$W/hpscripts"
cat >"$W/hpscripts/test-escape" <<'E'
#!/bin/sh
for p in /local/domain/5/evil /local/domain/0/evil \
	/local/domain/0/backend/vif/5/0/evil /libxl/5/evil; do
	xenstore-write "$p" x 2>/dev/null && echo "escaped: $p"
done
case $1 in online) xenstore-write "$XENBUS_PATH/hotplug-status" connected ;; esac
E
chmod 755 "$W/hpscripts/test-escape"
for s in vif-bridge block test-escape; do
	ln -s "$BIN/devsep-relay" "$XL_ROOT/etc/scripts/devsep-$s"
done
write_conf "backend_mode = auto" "script_dir = $W/hpscripts" \
	"hotplug_timeout = 30s" "run_dir = $W/run"
export DEVSEP_CONF=$W/devsep.conf	# xl's env reaches the relay
xl_guest_create 5 || fail "guest 5"
xl_guest_create 6 hvm || fail "guest 6 (hvm)"
ip netns exec "$NS" "$BIN/devsep-hotplugd" -F -c "$W/devsep.conf" \
	--rundir "$W/run" >>"$W/hotplugd.log" 2>&1 &
HP=$!; PIDS+=($HP)
wait_for test -S "$W/run/hotplugd.sock" || fail "hotplugd socket"
"$B/actor-backend" -v -d "$W" --backend-domid 0 >>"$W/be.log" 2>&1 &
BE=$!; PIDS+=($BE)
wait_for grep -q ready "$W/be.log" || fail "backend ready"
start_watcherd
grep -q "backend_mode=libxl (auto" "$W/watcherd.log" &&
	ok "watcherd in domain 0: backend_mode libxl" || fail "mode not libxl"

xl_ok() { if run_xl "$@"; then ok "xl $* ($XL_MS ms)"; else fail "xl $*: rc $? $(cat "$XL_ERR")"; fi; }
ran() { grep -c "pid=[0-9]*: $W/hpscripts/$1 $2 (/local/domain/0/backend/$3)" "$W/hotplugd.log"; }
expect_gone() { if gone "$1"; then ok "$1 gone"; else fail "$1 left"; fi; }

# ---- vif: real vif-bridge through the relay
xl_ok network-attach 5 bridge=xenbr0 script=devsep-vif-bridge mac=00:16:3e:00:05:00
P=/local/domain/0/backend/vif/5/0
node_is "$P/hotplug-status" connected && ok "vif 0 hotplug-status connected" ||
	fail "vif 0 hotplug-status: $(xenstore-read "$P/hotplug-status" 2>&1)"
port vif5.0 && ok "vif5.0 is a port of xenbr0" || fail "vif5.0 not in the bridge"
expect_eq "vif-bridge online ran once" "$(ran vif-bridge online vif/5/0)" 1
xl_ok network-detach 5 0
port vif5.0 && fail "vif5.0 still in the bridge" || ok "vif-bridge offline took vif5.0 out"
expect_eq "vif-bridge offline ran once" "$(ran vif-bridge offline vif/5/0)" 1
for p in "$P" /local/domain/5/device/vif/0 /libxl/5/device/vif/0; do
	expect_gone "$p"
done

# ---- vbd: real block through the relay, a loop device
IMG=$W/disk.img
truncate -s 4M "$IMG"
# hotplug scripts run as per-job uids of group devsep-script (hotplugd/launch.h)
chgrp devsep-script "$IMG" && chmod 0660 "$IMG"
xl_ok block-attach 5 "format=raw,vdev=xvdb,access=rw,backendtype=phy,script=devsep-block,target=$IMG"
P=/local/domain/0/backend/vbd/5/51728
node_is "$P/hotplug-status" connected && ok "vbd hotplug-status connected" ||
	fail "vbd hotplug-status: $(xenstore-read "$P/hotplug-status" 2>&1)"
losetup -j "$IMG" | grep -q . && ok "loop device attached to the image" ||
	fail "no loop device for the image"
expect_eq "block add ran once" "$(ran block add vbd/5/51728)" 1
xl_ok block-detach 5 xvdb
losetup -j "$IMG" | grep -q . && fail "loop device left" ||
	ok "block remove detached the loop device"
expect_eq "block remove ran once" "$(ran block remove vbd/5/51728)" 1
for p in "$P" /local/domain/5/device/vbd/51728 /libxl/5/device/vbd/51728; do
	expect_gone "$p"
done

# ---- the scoped xenstore holds under xl
xl_ok network-attach 5 bridge=xenbr0 script=devsep-test-escape mac=00:16:3e:00:05:01 devid=1
grep -q "escaped:" "$W/hotplugd.log" &&
	fail "a write outside the backend got through: $(grep escaped: "$W/hotplugd.log")"
for p in /local/domain/5/evil /local/domain/0/evil /libxl/5/evil; do
	xenstore-exists "$p" && fail "$p written"
done
node_is /local/domain/0/backend/vif/5/1/hotplug-status connected &&
	ok "test-escape: writes outside its backend refused, its own allowed" ||
	fail "test-escape's own write"
xl_ok network-detach 5 1

# ---- a plain script (no relay): libxl runs it itself, once; watcherd
# keeps out (issue 13: it ran every script a second time and removed the
# backend under libxl, so xl network-detach exited 1)
cat >"$XL_ROOT/etc/scripts/test-count" <<E
#!/bin/sh
echo "\$1 \$XENBUS_PATH" >>$W/libxl-calls.log
case \$1 in online) xenstore-write "\$XENBUS_PATH/hotplug-status" connected ;; esac
E
chmod 755 "$XL_ROOT/etc/scripts/test-count"
: >"$W/libxl-calls.log"
xl_ok network-attach 5 script=test-count mac=00:16:3e:00:05:03 devid=3
xl_ok network-detach 5 3
expect_eq "plain script: online once, offline once (libxl's runs)" \
	"$(sort "$W/libxl-calls.log" | tr '\n' ' ')" \
	"offline backend/vif/5/3 online backend/vif/5/3 "
expect_gone /local/domain/0/backend/vif/5/3

# ---- xl destroy of a guest with a relayed vif
xl_ok network-attach 5 bridge=xenbr0 script=devsep-vif-bridge mac=00:16:3e:00:05:02 devid=2
port vif5.2 && ok "vif5.2 in the bridge" || fail "vif5.2 not in the bridge"
xl_ok destroy 5
port vif5.2 && fail "vif5.2 left in the bridge" || ok "destroy: vif-bridge offline ran"
expect_eq "vif 2 online once" "$(ran vif-bridge online vif/5/2)" 1
expect_eq "vif 2 offline once" "$(ran vif-bridge offline vif/5/2)" 1
expect_gone /local/domain/0/backend/vif/5

# ---- HVM: for an emulated NIC (type=ioemu, what `xl create` gives an
# HVM guest's nics) libxl runs the script twice, for the vif and for the
# device model's tap (online type_if=vif, then add type_if=tap, env
# INTERFACE=vif6.0-emu)
xl_ok network-attach 6 bridge=xenbr0 script=devsep-vif-bridge mac=00:16:3e:00:06:00 type=ioemu
port vif6.0 && ok "hvm: vif6.0 in the bridge" || fail "hvm: vif6.0 not in the bridge"
port vif6.0-emu && ok "hvm: the tap vif6.0-emu in the bridge" ||
	fail "hvm: tap not in the bridge"
expect_eq "hvm: vif online once" "$(ran vif-bridge online vif/6/0)" 1
expect_eq "hvm: tap add once" "$(ran vif-bridge add vif/6/0)" 1
xl_ok network-detach 6 0
port vif6.0 || port vif6.0-emu && fail "hvm: a port left in the bridge" ||
	ok "hvm: offline and tap remove took both out"
expect_eq "hvm: vif offline once" "$(ran vif-bridge offline vif/6/0)" 1
expect_eq "hvm: tap remove once" "$(ran vif-bridge remove vif/6/0)" 1

# ---- nothing ran but what the relay asked for, watcherd wrote nothing
expect_eq "jobs run by hotplugd" "$(grep -c 'pid=[0-9]*: /' "$W/hotplugd.log")" 12
expect_eq "relay jobs in watcherd" "$(grep -c 'relay: .*: exited 0' "$W/watcherd.log")" 12
grep -q "device in error\|removed$\|attached$" "$W/watcherd.log" &&
	fail "watcherd acted on a libxl backend: $(grep 'device in error\|removed$\|attached$' "$W/watcherd.log" | head -3)"
wd_finish
