#!/usr/bin/env bash
# rel-xs-restart.sh proves watcherd survives xenstored going away under it
# with work in flight, end to end (watcherd/tests/it-xs-restart.sh covers
# the plain reconnect; this adds the in-flight script, the backoff
# schedule, a flapping store and the resource ledger):
#  - 4 vifs connected (real bridge ports) and a 5th whose 1 s script is
#    running when xenstored is killed; xenstored stays down ~3 s;
#  - watcherd notices the loss, retries with exponential backoff (the
#    intervals between its failed xs_open attempts grow: 100, 200, 400 ...
#    ms, never above 5 s), and neither it nor hotplugd dies;
#  - the store comes back empty (as a real restart without live update);
#    the toolstack re-creates guest 5 and its five vifs: watcherd rescans,
#    each vif attaches again (frontend and backend Connected), watcherd
#    tracks exactly 5, the idempotent script reuses the bridge ports (5,
#    not 10) and no script process is left;
#  - xenstored flapping (killed again as soon as watcherd is back, twice):
#    watcherd reconnects each time (xs_reconnects counts 3 losses) and a
#    device added after the last restart attaches.
# Measured (printed, not asserted): how many bridge ports are left behind
# by devices that vanished with the old store and were never re-created.
. "$(dirname "$0")/rlib.sh"
need_root
C=$B/wd-client
rel_world "peer_retry = 100ms"
rel_start hotplugd watcherd
S=$W/run/watcherd.sock
fe_connect() {	# devid
	"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid "$1" \
		--mode connect --timeout-ms 20000 >/dev/null 2>&1
}
restart_store() {
	eval "$("$XW" start "$W")" || fail "restart xenstored"
	chmod 666 "$W/socket"	# watcherd runs as devsep-watcherd
	"$XW" domain create "$W" 5 >/dev/null || fail "recreate 5"
}
stat_n() { "$C" "$S" stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

"$XW" domain create "$W" 5 >/dev/null || fail "create 5"
for i in 0 1 2 3; do add_dev vif "$i" rel-vif; fe_connect "$i" || fail "vif $i"; done
add_dev vif 6 rel-vif; fe_connect 6 || fail "vif 6"	# never re-created
add_dev vif 4 test-slow
wait_for grep -q "test-slow online backend/vif/5/4 start" "$W/calls.log" \
	|| fail "slow script started"
expect_eq "bridge ports before" "$(bridge_ports | grep -c '^rv')" 5

# ---- xenstored killed with a script in flight, down for 3 s
kill -9 "$(cat "$W/xenstored.pid")"
"$XW" stop "$W" >/dev/null
kill "$BE" 2>/dev/null
wait_long 5 grep -q "xenstore: connection lost" "$W/watcherd.log" \
	&& ok "loss noticed" || fail "loss not noticed"
sleep 3
lost_at=$(grep -m1 "xenstore: connection lost" "$W/watcherd.log" | cut -d' ' -f1)
restart_store
reconnected() { grep -A100000 "connection lost" "$W/watcherd.log" | grep -q "xenstore: connected"; }
wait_long 8 reconnected && ok "reconnected" || fail "no reconnect"
# backoff: failed attempts after the loss, intervals in ms
iv=$(awk -v t="$lost_at" '$1 >= t && /xenstore: xs_open/ {
	if (p) printf "%d ", ($1 - p) * 1000; p = $1 }' "$W/watcherd.log")
echo "xs_open retry intervals (ms): $iv"
set -- $iv
[ $# -ge 3 ] && ok "retried $(( $# + 1 )) times while down" || fail "too few retries: $iv"
mono=1; prev=0
for v in "$@"; do
	[ "$v" -ge $((prev * 3 / 2)) ] && [ "$v" -le 5200 ] || mono=0; prev=$v
done
[ $mono = 1 ] && ok "exponential backoff (each interval >= 1.5x the last, <= 5 s)" \
	|| fail "backoff intervals $iv"
alive watcherd && alive hotplugd && ok "daemons alive" || fail "a daemon died"

start_backend
for i in 0 1 2 3 4; do add_dev vif "$i" rel-vif; done
for i in 0 1 2 3 4; do fe_connect "$i" || fail "vif $i after restart"; done
for i in 0 1 2 3 4; do
	node_is "$(be vif "$i")/state" 4 && node_is "$(be vif "$i")/hotplug-status" connected \
		|| fail "vif $i not connected after the restart"
done
n=$("$C" "$S" devices | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
expect_eq "watcherd tracks exactly the re-created devices" "$n" 5
[ "$FAILS" -eq 0 ] || "$CTL" --rundir "$W/run" devices
for i in 0 1 2 3 4; do
	bridge_ports | grep -qx "rv5.$i" || fail "no bridge port rv5.$i"
done
stale=$(bridge_ports | grep '^rv' | grep -vcx 'rv5\.[0-4]')
echo "measured: $stale bridge port(s) left by devices that vanished with the old store"
expect_eq "no duplicate ports (idempotent online)" "$(bridge_ports | grep -c '^rv5\.[0-4]$')" 5
sleep 1.5
expect_eq "no script process left" "$(pgrep -f "$W/scripts/" | wc -l)" 0

# ---- flapping store: killed 0.3 s after each of two restarts
nconn() { grep -c "xenstore: connected" "$W/watcherd.log"; }
more_conn() { [ "$(nconn)" -gt "$1" ]; }
for k in 1 2; do
	c0=$(nconn)
	kill "$BE" 2>/dev/null
	"$XW" stop "$W" >/dev/null
	sleep 0.3
	restart_store
	wait_long 10 more_conn "$c0" || fail "no reconnect after flap $k"
done
start_backend
add_dev vif 9 rel-vif
fe_connect 9 && node_is "$(be vif 9)/hotplug-status" connected \
	&& ok "device attaches after the flapping" || fail "vif 9 after flapping"
expect_eq "xs_reconnects" "$(stat_n xs_reconnects)" 3
alive watcherd && alive hotplugd && ok "daemons alive at the end" || fail "a daemon died"
nr=$(( $(restarts watcherd) + $(restarts hotplugd) ))
expect_eq "no restarts of the daemons" "$nr" 0
[ "$nr" = 0 ] || { tail -n 3 "$W"/*.exits; grep -h -B2 -A3 -i "fatal\|error" "$W"/watcherd.log "$W"/hotplugd.log | head -20; }
rel_finish
