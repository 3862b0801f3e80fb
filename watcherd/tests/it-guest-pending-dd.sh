#!/usr/bin/env bash
# it-guest-pending-dd.sh proves the guest-death rule in a driver domain
# (issue 13): watcherd runs as unprivileged domain 3 (dom3.sock, --domid 3),
# where XS_IS_DOMAIN_INTRODUCED is refused, @releaseDomain is not
# delivered, and every other guest's /local/domain/<id> reads EACCES
# whether it exists or not (checked below against the real xenstored).
# Its evidence is the frontend dirs of its devices (readable to it):
#  - guest 7, not introduced, with a device, keeps it across a watcherd
#    restart and across guest 9's death, while 9's device is removed;
#  - guest 5, seen alive by the restarted watcherd, is destroyed: its
#    device is removed (remove script once);
#  - guest 6 with two devices, the frontend dir of one removed by the
#    toolstack (as libxl does when its own wait times out): 6 is not taken
#    for dead, its other device stays.
. "$(dirname "$0")/wdlib.sh"
new_world
chmod 755 "$W"
mkdir -p "$W/run"
write_scripts
write_conf
D=3
for g in $D 5 6 9; do
	"$XW" domain create "$W" $g >/dev/null || fail "create $g"
done
"$XW" domain create-many "$W" 7 1 --no-introduce >/dev/null || fail "create 7"
start_hotplugd
"$B/actor-backend" -v -d "$W" --backend-domid $D >>"$W/be.log" 2>&1 &
BE=$!; PIDS+=($BE)
wait_for grep -q ready "$W/be.log" || fail "backend ready"
start_dd() {
	XENSTORED_PATH=$W/dom$D.sock "$BIN/devsep-watcherd" -F -d --domid $D \
		-c "$W/devsep.conf" --rundir "$W/run" >>"$W/watcherd.log" 2>&1 &
	WD=$!; PIDS+=($WD)
	wait_for grep -q "started" "$W/watcherd.log" || fail "watcherd start"
}
start_dd
dd_read() { XENSTORED_PATH=$W/dom$D.sock "$B/check-xs" read "$1"; }
expect_eq "driver domain: existing /local/domain/7" \
	"$(dd_read /local/domain/7)" "ERR EACCES"
expect_eq "driver domain: missing /local/domain/77" \
	"$(dd_read /local/domain/77)" "ERR EACCES"

ts() { "$B/actor-toolstack" add --backend-domid $D --domid "$1" --kind vif \
	--devid "$2" --script test-hp || fail "add $1 $2"; }
be() { echo "/local/domain/$D/backend/vif/$1/$2"; }
for gd in "7 0" "9 0" "5 0" "6 0" "6 1"; do
	ts $gd
	wait_long 6 node_is "$(be $gd)/hotplug-status" connected \
		|| fail "vif $gd attached"
done
kept() {	# what domid devid
	expect_eq "$1: vif $2/$3 hotplug-status" \
		"$(xenstore-read "$(be "$2" "$3")/hotplug-status")" connected
	expect_eq "$1: vif $2/$3 online" \
		"$(xenstore-read "$(be "$2" "$3")/online")" 1
	expect_eq "$1: no offline for $2/$3" "$(calls offline "backend/vif/$2/$3")" 0
	grep -q "domid=$2 guest is gone" "$W/watcherd.log" \
		&& fail "$1: $2 taken for dead" || ok "$1: $2 not taken for dead"
}

# restart
n=$(wc -l <"$W/watcherd.log")
stop_watcherd
start_dd
adopted() { tail -n +"$((n + 1))" "$W/watcherd.log" | grep -q "$1"; }
wait_for adopted "domid=7 kind=vif devid=0 already connected: adopted" \
	&& ok "restart: 7's vif adopted" || fail "restart: 7's vif not adopted"
kept "restart" 7 0

# 6 loses one frontend dir; 9 dies
xenstore-rm /local/domain/6/device/vif/0 || fail "rm 6's frontend 0"
"$XW" domain destroy "$W" 9 >/dev/null || fail "destroy 9"
wait_long 8 gone "$(be 9 0)" && ok "9's device removed" || fail "9's device"
expect_eq "offline for 9" "$(calls offline backend/vif/9/0)" 1
# (the poll that found 9 dead came after 6's change: it judged 6 too)
kept "9 died" 7 0
kept "6 lost a frontend" 6 1

# 5 dies (seen alive by this watcherd: its frontend was readable)
"$XW" domain destroy "$W" 5 >/dev/null || fail "destroy 5"
wait_long 8 gone "$(be 5 0)" && ok "5's device removed" || fail "5's device"
expect_eq "offline for 5" "$(calls offline backend/vif/5/0)" 1
grep -q "domid=5 guest is gone (frontends no longer readable)" \
	"$W/watcherd.log" && ok "5's death logged" || fail "5's death log"
wd_finish
