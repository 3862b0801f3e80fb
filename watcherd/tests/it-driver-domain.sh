#!/usr/bin/env bash
# it-driver-domain.sh proves watcherd in a driver domain (seed 004): it
# runs as unprivileged domain 7 (through the world's dom7.sock, --domid 7),
# serves /local/domain/7/backend for guest 5 with hotplugd and no lockd or
# broker: attach (script through the proxy, writing as domain 7), removal
# (backend dir removed, the toolstack's frontend left alone), and guest
# death seen without XS_IS_DOMAIN_INTRODUCED (privileged: EACCES) through
# the guest's frontend dir vanishing.
. "$(dirname "$0")/wdlib.sh"
new_world
chmod 755 "$W"
mkdir -p "$W/run"
write_scripts
write_conf
"$XW" domain create "$W" 7 >/dev/null || fail "create 7"
"$XW" domain create "$W" 5 >/dev/null || fail "create 5"
start_hotplugd
"$B/actor-backend" -v -d "$W" --backend-domid 7 --shutdown-done >>"$W/be.log" 2>&1 &
BE=$!; PIDS+=($BE)
wait_for grep -q ready "$W/be.log" || fail "backend ready"
XENSTORED_PATH=$W/dom7.sock "$BIN/devsep-watcherd" -F -d --domid 7 \
	-c "$W/devsep.conf" --rundir "$W/run" >>"$W/watcherd.log" 2>&1 &
WD=$!; PIDS+=($WD)
wait_for grep -q "started" "$W/watcherd.log" || fail "watcherd start"
grep -q "self domid=7, watching /local/domain/7/backend" "$W/watcherd.log" \
	&& ok "watching the driver domain's backend dir" || fail "self"

DBE=/local/domain/7/backend/vif/5
ts() { "$B/actor-toolstack" "$1" --backend-domid 7 --domid 5 --kind vif \
	--devid "$2" "${@:3}"; }
ts add 0 --script test-hp || fail "add 0"
ts add 1 --script test-hp || fail "add 1"
wait_long 6 node_is $DBE/0/hotplug-status connected && ok "attached as domain 7" \
	|| fail "attach"
wait_long 6 node_is $DBE/1/hotplug-status connected || fail "attach 1"
ts remove 0 || fail "remove 0"
wait_long 8 gone $DBE/0 && ok "backend dir removed by the driver domain" \
	|| fail "remove"
expect_eq "offline ran" "$(calls offline backend/vif/5/0)" 1
"$XW" domain destroy "$W" 5 >/dev/null || fail "destroy 5"
wait_long 8 gone $DBE/1 && ok "guest death handled unprivileged" || fail "death"
expect_eq "offline on death" "$(calls offline backend/vif/5/1)" 1
grep -q "not privileged" "$W/watcherd.log" && ok "fallback logged" || fail "fallback"
wd_finish
