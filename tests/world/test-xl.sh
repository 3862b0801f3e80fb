#!/usr/bin/env bash
# test-xl.sh - the real xl (Debian's libxl 4.17) runs in a test world
# (tests/world/xl.sh): private /var/lib/xen, /run/xen, /var/log/xen and
# /etc/xen in a mount namespace, the shim as its hypervisor, the world's
# xenstored.  Backends in dom0 (libxl runs a logging script itself), served
# by actor-backend in its Linux mode (no shutdown-done; with
# --close-with-frontend, Closed only once the frontend - actor-frontend -
# closed or vanished).  Checks: vif and
# vbd attach/detach exit 0 with the script run once per action and nothing
# left; pause/unpause through the shim's domctls; `xl destroy` of a guest
# with a device (dying, then gone: @releaseDomain fires, the domain's
# nodes and userdata go); the hvm flag; the host's dirs untouched.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/world/xl.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (mount namespace)"; exit 1; }

host_before=$(ls -A /var/lib/xen /var/log/xen 2>&1; ls -d /run/xen 2>&1)
new_world
xl_world_setup || exit 1
xl_guest_create 5 || fail "guest 5"
xl_guest_create 6 hvm || fail "guest 6 (hvm)"
"$B/actor-backend" -v -d "$W" --backend-domid 0 --close-with-frontend \
	>"$W/be.log" 2>&1 &
JOBS_TO_KILL=$!
wait_for grep -q ready "$W/be.log" || fail "backend ready"
cat >"$XL_ROOT/etc/scripts/test-hp" <<S
#!/bin/sh
echo "\$1 \$XENBUS_PATH" >>$W/calls.log
case \$1 in add|online)
	xenstore-write "\$XENBUS_PATH/physical-device" 7:0 \\
		"\$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
esac
exit 0
S
chmod 755 "$XL_ROOT/etc/scripts/test-hp"
: >"$W/calls.log"
calls() { grep -c "^$1 $2\$" "$W/calls.log"; }
dominfo() { LD_PRELOAD=$XENSHIM "$B/check-dominfo" "$1"; }
xl_ok() { if run_xl "$@"; then ok "xl $* ($XL_MS ms)"; else fail "xl $*: rc $? $(cat "$XL_ERR")"; fi; }
gone() { [ "$("$B/check-xs" read "$1")" = "ERR ENOENT" ]; }
expect_gone() { if gone "$1"; then ok "$1 gone"; else fail "$1 left"; fi; }

expect_eq "hvm flag" "$(dominfo 6)" \
	"domid=6 dying=0 shutdown=0 crashed=0 reason=0 running=1 paused=0 hvm=1"
# libxl__domain_type reads /libxl/6/type for an HVM guest (disk defaults)
xl_ok block-attach 6 format=raw,vdev=hdb,access=rw,backendtype=phy,script=test-hp,target=/dev/null
grep -q "unable to get domain type" "$XL_ERR" &&
	fail "libxl could not tell guest 6's type: $(cat "$XL_ERR")" ||
	ok "libxl reads guest 6's type"
# The guest's frontend drivers: connect, close when the backend closes
# (the Linux-like backend waits for them before it reaches Closed).
frontend() {
	"$B/actor-frontend" -d "$W" --domid 5 --kind "$1" --devid "$2" \
		--mode normal --timeout-ms 30000 >>"$W/fe.log" 2>&1 &
	JOBS_TO_KILL="$JOBS_TO_KILL $!"
}
xl_ok network-attach 5 script=test-hp mac=00:16:3e:00:00:01
frontend vif 0
xl_ok block-attach 5 format=raw,vdev=xvdb,access=rw,backendtype=phy,script=test-hp,target=/dev/null
frontend vbd 51728
wait_for node_is /local/domain/0/backend/vbd/5/51728/state 4 || fail "vbd connected"
wait_for node_is /local/domain/0/backend/vif/5/0/state 4 || fail "vif connected"
expect_eq "vif online ran once" "$(calls online backend/vif/5/0)" 1
expect_eq "vbd add ran once" "$(calls add backend/vbd/5/51728)" 1
node_is /libxl/5/device/vbd/51728/backend /local/domain/0/backend/vbd/5/51728 &&
	ok "libxl's /libxl/5/device entry" || fail "no /libxl/5/device/vbd/51728"

xl_ok pause 5
expect_eq "paused" "$(dominfo 5)" \
	"domid=5 dying=0 shutdown=0 crashed=0 reason=0 running=0 paused=1 hvm=0"
xl_ok unpause 5
expect_eq "unpaused" "$(dominfo 5)" \
	"domid=5 dying=0 shutdown=0 crashed=0 reason=0 running=1 paused=0 hvm=0"
run_xl unpause 5	# xl exits 0 whatever libxl says: read its error
grep -q "Unpausing domain: Invalid argument" "$XL_ERR" &&
	ok "unpause without pause refused (Xen: EINVAL)" ||
	fail "unpause without pause accepted"

xl_ok network-detach 5 0
xl_ok block-detach 5 xvdb
expect_eq "vif offline ran once" "$(calls offline backend/vif/5/0)" 1
expect_eq "vbd remove ran once" "$(calls remove backend/vbd/5/51728)" 1
for p in /local/domain/0/backend/vif/5/0 /local/domain/0/backend/vbd/5/51728 \
	/local/domain/5/device/vif/0 /local/domain/5/device/vbd/51728 \
	/libxl/5/device/vif/0 /libxl/5/device/vbd/51728; do
	expect_gone "$p"
done

# xl destroy of a guest with a device: removal (script once), then the
# domain dies through the shim (dying -> gone) and libxl cleans up.
xl_ok network-attach 5 script=test-hp mac=00:16:3e:00:00:02
"$B/check-xs" watch @releaseDomain 5000 >"$W/rel.out" & relw=$!
wait_for grep -q armed "$W/rel.out" || fail "release watch armed"
xl_ok destroy 5
wait $relw
expect_eq "@releaseDomain fired" "$(tail -1 "$W/rel.out")" @releaseDomain
expect_eq "offline on destroy ran once" "$(calls offline backend/vif/5/0)" 2
expect_eq "domain gone" "$(dominfo 5)" "domid=5 absent"
expect_gone /local/domain/5
expect_gone /libxl/5
expect_gone /local/domain/0/backend/vif/5
[ -e "$(xl_userdata_path 5)" ] && fail "userdata of 5 left" || ok "userdata of 5 removed"
[ -e "$(xl_userdata_path 6)" ] && ok "userdata of 6 kept" || fail "userdata of 6 lost"
run_xl destroy 5 && fail "destroy of a gone domain exited 0" ||
	ok "destroy of a gone domain fails"
expect_eq "host's dirs untouched" \
	"$(ls -A /var/lib/xen /var/log/xen 2>&1; ls -d /run/xen 2>&1)" "$host_before"
[ "$FAILS" -eq 0 ] || { echo "--- xl.log"; tail -n 60 "$XL_ROOT/xl.log"; cat "$W/calls.log"; }
finish
