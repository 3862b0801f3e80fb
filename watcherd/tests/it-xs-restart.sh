#!/usr/bin/env bash
# it-xs-restart.sh proves reconnection after xenstored restarts: watcherd
# notices the loss, retries with backoff, re-registers its watches and
# reconciles (a device that vanished with the old store is forgotten, its
# frontend cleaned; a device added after the restart is attached).
# The restarted world's socket is root-only; it is made 0666 here because
# watcherd has dropped to devsep-watcherd (a deployment must grant that
# access, see docs/WATCHERD.md).
. "$(dirname "$0")/wdlib.sh"
C=$B/wd-client
setup
add_dev vif 0 test-hp
wait_for node_is "$(be vif 0)/hotplug-status" connected || fail "attached"
kill "$BE"; wait "$BE" 2>/dev/null
"$XW" stop "$W" >/dev/null
wait_long 5 grep -q "xenstore: connection lost" "$W/watcherd.log" \
	&& ok "loss noticed" || fail "loss not noticed"
eval "$("$XW" start "$W")" || fail "restart xenstored"
chmod 666 "$W/socket"
"$XW" domain create "$W" 5 >/dev/null || fail "recreate 5"
reconnected() { [ "$(grep -c 'xenstore: connected' "$W/watcherd.log")" -ge 2 ]; }
wait_long 8 reconnected && ok "reconnected" || fail "no reconnect"
start_backend
add_dev vif 1 test-hp
wait_long 8 node_is "$(be vif 1)/hotplug-status" connected \
	&& ok "new device after reconnect attached" || fail "vif 1"
n=$("$C" "$W/run/watcherd.sock" devices | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
expect_eq "old device forgotten" "$n" 1
"$C" "$W/run/watcherd.sock" stats | grep -q '"xs_reconnects":1' && ok "counted" \
	|| fail "xs_reconnects"
wd_finish
