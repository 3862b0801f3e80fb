#!/usr/bin/env bash
# it-guest-pending.sh proves that guest death needs positive evidence
# (issue 13, dom0 watcherd).  Guests 7 and 8 exist (hypervisor,
# /local/domain/N) but are not introduced to xenstored yet, as on a
# migration's receiving side (xenopsd plugs the VIFs before VM_restore
# introduces the domain), and have connected devices:
#  - a watcherd restart adopts 7's devices (vif 0, vbd 51712; start-up
#    scan): no state 5, no remove script, no "gone" log;
#  - another guest's death (@releaseDomain of guest 9) removes 9's device
#    and leaves those of 7 and of 8 (vif 0, added after the restart) alone;
#  - once 7 is introduced and then destroyed, its devices are removed,
#    each remove script once (seen introduced, then released);
#  - guest 11, never introduced, with a device: its domain dir removed (as
#    libxl's destroy does) is evidence of death, found at the next
#    @releaseDomain (guest 12's).
# The first two fail on a watcherd that takes "not introduced" for dead
# (each on its own: 8's device is added after the restart).
. "$(dirname "$0")/wdlib.sh"
setup
ts() {	# domid kind devid [args]
	"$B/actor-toolstack" add --backend-domid 0 --domid "$1" --kind "$2" \
		--devid "$3" --script test-hp "${@:4}" || fail "add $1 $2 $3"
}
BE0=/local/domain/0/backend
B7V=$BE0/vif/7/0
B7B=$BE0/vbd/7/51712
B8V=$BE0/vif/8/0
B9V=$BE0/vif/9/0
"$XW" domain create "$W" 9 >/dev/null || fail "create 9"
"$XW" domain create-many "$W" 7 2 --no-introduce >/dev/null || fail "create 7 8"
ts 7 vif 0
ts 7 vbd 51712 --params /dev/loop7
ts 9 vif 0
for p in $B7V $B7B $B9V; do
	wait_for node_is "$p/hotplug-status" connected || fail "$p attached"
done

declare -A ST	# backend state once attached (2: no frontend actor here)
for p in $B7V $B7B; do ST[$p]=$(xenstore-read "$p/state"); done
kept() {	# what domid backend-paths...: the devices are untouched
	local what=$1 id=$2 p; shift 2
	for p in "$@"; do
		expect_eq "$what: $p state" "$(xenstore-read "$p/state")" \
			"${ST[$p]}"
		expect_eq "$what: $p online" "$(xenstore-read "$p/online")" 1
		expect_eq "$what: $p hotplug-status" \
			"$(xenstore-read "$p/hotplug-status")" connected
		expect_eq "$what: no remove script for ${p#$BE0/}" \
			"$(grep -c " \(offline\|remove\) backend/${p#$BE0/} " \
			"$W/calls.log")" 0
	done
	grep -q "domid=$id guest is gone" "$W/watcherd.log" \
		&& fail "$what: $id taken for dead" \
		|| ok "$what: $id not taken for dead"
}

# watcherd restarts
n=$(wc -l <"$W/watcherd.log")
stop_watcherd
start_watcherd
adopted() { tail -n +"$((n + 1))" "$W/watcherd.log" | grep -q "$1"; }
for d in "kind=vif devid=0" "kind=vbd devid=51712"; do
	wait_for adopted "domid=7 $d already connected: adopted" \
		&& ok "restart: 7 $d adopted" || fail "restart: 7 $d not adopted"
done
kept "restart" 7 $B7V $B7B

# another guest dies
ts 8 vif 0
wait_for node_is "$B8V/hotplug-status" connected || fail "8 attached"
ST[$B8V]=$(xenstore-read "$B8V/state")
"$XW" domain destroy "$W" 9 >/dev/null || fail "destroy 9"
wait_long 8 gone $B9V && ok "9's device removed" || fail "9's device"
expect_eq "offline for 9" "$(calls offline backend/vif/9/0)" 1
kept "9 died" 7 $B7V $B7B
kept "9 died" 8 $B8V

# 7 introduced, then destroyed: now it is dead
"$XW" domain introduce "$W" 7 || fail "introduce 7"
wait_for grep -q "domid=7 introduced" "$W/watcherd.log" \
	&& ok "introduction seen" || fail "introduction not seen"
"$XW" domain destroy "$W" 7 >/dev/null || fail "destroy 7"
for p in $B7V $B7B; do
	wait_long 8 gone "$p" && ok "$p removed" || fail "$p not removed"
done
expect_eq "offline for 7" "$(calls offline backend/vif/7/0)" 1
expect_eq "remove for 7" "$(calls remove backend/vbd/7/51712)" 1

# never introduced: its domain dir gone is the evidence
"$XW" domain create-many "$W" 11 1 --no-introduce >/dev/null || fail "create 11"
"$XW" domain create "$W" 12 >/dev/null || fail "create 12"
ts 11 vif 0
wait_for node_is /local/domain/0/backend/vif/11/0/hotplug-status connected \
	|| fail "11 attached"
"$XW" domain destroy "$W" 11 >/dev/null || fail "destroy 11"
"$XW" domain destroy "$W" 12 >/dev/null || fail "destroy 12"
wait_long 8 gone /local/domain/0/backend/vif/11/0 \
	&& ok "11's device removed (domain dir gone)" || fail "11's device kept"
expect_eq "offline for 11" "$(calls offline backend/vif/11/0)" 1
wd_finish
