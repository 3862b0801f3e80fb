#!/usr/bin/env bash
# it-hs-from-job.sh proves attach takes hotplug-status from the script's
# own write through the scoped proxy (issue 8: the write's watch event is
# used up without reading the node back; STATS hs_from_job counts those)
# and falls back to reading xenstore when in doubt:
#  - vif 1, test-hp (xenstore-write, in a transaction as the xenstore
#    client does): attached, STATS hs_from_job counts it;
#  - vif 2, a script that writes hotplug-status=connected and then removes
#    it, exit 0: the proxy saw a removal, so watcherd reads the node back,
#    finds none and marks the device in error (fsm row 31: exit 0 without
#    hotplug-status) - using the remembered "connected" would have attached
#    it with no hotplug-status in xenstore.  (Its write's own event may
#    or may not be used up before the removal; the removal makes the
#    value doubtful either way.)
#  - vif 3, a script writing hotplug-status twice in ONE transaction
#    (xenstore-write with two pairs): xenstored fires one event for it, so
#    counting two own writes would swallow the next real event; the proxy
#    reports doubt instead.  After the attach, a write by someone else
#    (busy) must show in watcherd's device listing.
. "$(dirname "$0")/wdlib.sh"
C=$B/wd-client
setup
S=$W/run/watcherd.sock
cat >"$W/scripts/test-rmhs" <<'S'
#!/bin/sh
case $1 in
online)	xenstore-write "$XENBUS_PATH/hotplug-status" connected || exit 1
	xenstore-rm "$XENBUS_PATH/hotplug-status" || exit 1 ;;
esac
exit 0
S
chmod 755 "$W/scripts/test-rmhs"
cat >"$W/scripts/test-hs2" <<'S'
#!/bin/sh
case $1 in
online)	xenstore-write "$XENBUS_PATH/hotplug-status" busy \
	    "$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
esac
exit 0
S
chmod 755 "$W/scripts/test-hs2"
hs_count() { "$C" "$S" stats | sed -n 's/.*"hs_from_job":\([0-9]*\).*/\1/p'; }
add_dev vif 1 test-hp
wait_for node_is "$(be vif 1)/hotplug-status" connected || fail "vif 1 attached"
wait_for grep -q "kind=vif devid=1 attached" "$W/watcherd.log" \
	&& ok "vif 1 attached (logged)" || fail "vif 1 attach log"
n1=$(hs_count)
[ -n "$n1" ] && [ "$n1" -ge 1 ] && ok "hotplug-status taken from the job ($n1)" \
	|| fail "hs_from_job: '$n1'"
add_dev vif 2 test-rmhs
wait_for node_is "$(be vif 2)/hotplug-status" error \
	&& ok "vif 2: status read back, absent: error" || fail "vif 2 not in error"
grep -q "kind=vif devid=2 attached" "$W/watcherd.log" \
	&& fail "vif 2 attached on a stale value" || ok "vif 2 not attached"
add_dev vif 3 test-hs2
wait_for grep -q "kind=vif devid=3 attached" "$W/watcherd.log" \
	&& ok "vif 3 attached (two writes in one transaction)" \
	|| fail "vif 3 attach"
hs_of3() { "$C" "$S" devices 5 | tr '{' '\n' | grep '"devid":3' |
	sed -n 's/.*"hotplug_status":"\([a-z]*\)".*/\1/p'; }
hs3_is() { [ "$(hs_of3)" = "$1" ]; }
expect_eq "vif 3 listed connected" "$(hs_of3)" connected
xenstore-write "$(be vif 3)/hotplug-status" busy
wait_for hs3_is busy && ok "vif 3: a later write by someone else is seen" \
	|| fail "vif 3: later write not seen (listed: $(hs_of3))"
wd_finish
