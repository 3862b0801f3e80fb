#!/usr/bin/env bash
# it-attach.sh proves, against the real xenstored and the real hotplugd:
#  - vif and vbd attach: backend InitWait -> watcherd runs `online`
#    (vif, type_if=vif) / `add` (vbd) once through the job's scoped
#    xenstore socket -> hotplug-status=connected -> frontend connects (4);
#  - normal removal (seed 000, backend 5 -> 6): toolstack online=0 +
#    state 5, frontend closes, backend reaches 6, `offline` / `remove`
#    runs once, then the backend, frontend and /libxl dirs are gone;
#  - scripts of different devices run in parallel: two 1 s scripts
#    (attach of one, detach of another) overlap in time.
. "$(dirname "$0")/wdlib.sh"
setup

add_dev vif 0 test-hp
add_dev vbd 51712 test-hp --params /dev/loop7
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode connect \
	|| fail "vif frontend connect"
"$B/actor-frontend" -d "$W" --domid 5 --kind vbd --devid 51712 --mode connect \
	|| fail "vbd frontend connect"
expect_eq "vif hotplug-status" "$(xenstore-read "$(be vif 0)/hotplug-status")" connected
expect_eq "vbd hotplug-status" "$(xenstore-read "$(be vbd 51712)/hotplug-status")" connected
wait_for node_is "$(be vif 0)/state" 4 || fail "vif backend 4"
wait_for node_is "$(be vbd 51712)/state" 4 || fail "vbd backend 4"
expect_eq "vif online ran once" "$(calls online backend/vif/5/0)" 1
expect_eq "vbd add ran once" "$(calls add backend/vbd/5/51712)" 1
wait_for grep -q "kind=vbd devid=51712 attached" "$W/watcherd.log" || fail "attached log"

# devsepctl's view (if devsepctl is built): watcherd answers over its socket.
if [ -x "$BIN/devsepctl" ]; then
	out=$("$BIN/devsepctl" --rundir "$W/run" --json devices 2>&1 || true)
	echo "$out" | grep -q '"phase":"connected"' && ok "devices listing" \
		|| echo "note: devsepctl devices said: $out"
fi

# Remove both: the frontends follow Closing; the backend goes 5 -> 6.
for d in "vif 0" "vbd 51712"; do
	set -- $d
	"$B/actor-frontend" -d "$W" --domid 5 --kind "$1" --devid "$2" --mode normal \
		>/dev/null 2>&1 & PIDS+=($!)
done
sleep 0.2
remove_dev vif 0
remove_dev vbd 51712
wait_long 8 gone "$(be vif 0)" || fail "vif backend dir removed"
wait_long 8 gone "$(be vbd 51712)" || fail "vbd backend dir removed"
expect_eq "vif frontend dir removed" "$("$B/check-xs" read "$(fe vif 0)")" "ERR ENOENT"
expect_eq "vbd frontend dir removed" "$("$B/check-xs" read "$(fe vbd 51712)")" "ERR ENOENT"
expect_eq "libxl vif entry removed" "$("$B/check-xs" read /libxl/5/device/vif/0)" "ERR ENOENT"
expect_eq "vif offline ran once" "$(calls offline backend/vif/5/0)" 1
expect_eq "vbd remove ran once" "$(calls remove backend/vbd/5/51712)" 1
grep -q "state vbd/5/51712 5->6" "$W/be.log" && ok "vbd closed normally (5->6)" \
	|| fail "vbd backend 5->6"
grep -q "forcing removal" "$W/watcherd.log" && fail "a removal was forced"

# no head-of-line blocking: a slow detach and a slow attach overlap
add_dev vif 8 test-slow
wait_long 5 node_is "$(be vif 8)/hotplug-status" connected || fail "vif 8"
remove_dev vif 8
add_dev vif 9 test-slow
wait_long 8 gone "$(be vif 8)" || fail "vif 8 removed"
wait_long 8 node_is "$(be vif 9)/hotplug-status" connected || fail "vif 9"
s8=$(grep "test-slow offline backend/vif/5/8 start" "$W/calls.log" | cut -d' ' -f1)
e8=$(grep "test-slow offline backend/vif/5/8 end" "$W/calls.log" | cut -d' ' -f1)
s9=$(grep "test-slow online backend/vif/5/9 start" "$W/calls.log" | cut -d' ' -f1)
awk -v s8="$s8" -v e8="$e8" -v s9="$s9" 'BEGIN { exit !(s9 < e8 && s8 < s9 + 1) }' \
	&& ok "detach and attach scripts overlapped" || fail "scripts serialized"
wd_finish
