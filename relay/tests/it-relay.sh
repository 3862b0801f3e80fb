#!/usr/bin/env bash
# it-relay.sh proves devsep-relay and backend_mode libxl against a real
# xenstored, with the relay exec'd exactly as libxl 4.17 execs a hotplug
# script (libxl_linux.c: argv "<script node> online type_if=vif", env
# script XENBUS_TYPE XENBUS_PATH XENBUS_BASE_PATH netdev vif):
#  - watcherd in domain 0 with backend_mode auto resolves to libxl (status);
#    it runs no script, writes nothing, removes nothing of a backend libxl
#    drives; it forgets the device once libxl removed it;
#  - the relay has the real script run exactly once by hotplugd, through
#    the backend's scoped xenstore socket; its exit status reaches libxl;
#  - the scoped xenstore holds: the script cannot write outside its backend;
#  - libxl killing the relay (SIGKILL at its timeout) kills the script's
#    whole process group;
#  - refused: a script node that does not name that relay, a non-root
#    sender, watcherd down (clear message, exit 1, script never run).
. "$(dirname "$0")/../../watcherd/tests/wdlib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

setup "backend_mode = auto" "hotplug_timeout = 20s"
echo "run_dir = $W/run" >>"$W/devsep.conf"	# for the relay (DEVSEP_CONF)
CTL() { "$B/wd-client" "$W/run/watcherd.sock" "$@"; }
S=$W/scripts
ln -s "$BIN/devsep-relay" "$S/devsep-test-hp"
ln -s "$BIN/devsep-relay" "$S/devsep-test-fail"
ln -s "$BIN/devsep-relay" "$S/devsep-test-escape"
ln -s "$BIN/devsep-relay" "$S/devsep-test-hang"
cat >"$S/test-escape" <<'E'
#!/bin/sh
# Tries to write outside its backend; reports what got through.
echo "$(date +%s.%N) test-escape $1 $XENBUS_PATH" >>"$(dirname "$0")/../calls.log"
for p in /local/domain/5/evil backend/vif/5/1/evil /local/domain/0/evil; do
	xenstore-write "$p" x 2>/dev/null && echo "escaped: $p"
done
xenstore-write "$XENBUS_PATH/hotplug-status" connected || exit 1
exit 0
E
cat >"$S/test-hang" <<'E'
#!/bin/sh
echo "$(date +%s.%N) test-hang $1 $XENBUS_PATH" >>"$(dirname "$0")/../calls.log"
sleep 987 &
wait
E
chmod 755 "$S/test-escape" "$S/test-hang"

st=$(CTL status)
grep -q '"backend_mode":"libxl"' <<<"$st" &&
	ok "auto in domain 0 resolves to backend_mode libxl" ||
	fail "status: $st"
grep -q 'backend_mode=libxl (auto: domain 0' "$W/watcherd.log" &&
	ok "the mode and its reason are logged" || fail "mode not logged"
st=$("$BIN/devsepctl" --rundir "$W/run" status watcherd 2>&1)
grep -q '^watcherd backend_mode: libxl (auto: domain 0' <<<"$st" &&
	ok "devsepctl status shows it" || fail "devsepctl status: $st"

# relay N SCRIPT ACTION [TYPE_IF]: exec the relay of vif N as libxl does.
relay() {
	local n=$1 s=$2 a=$3 t=${4:-type_if=vif}
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEVSEP_CONF="$W/devsep.conf" \
		script="$S/devsep-$s" XENBUS_TYPE=vif \
		XENBUS_PATH="backend/vif/5/$n" XENBUS_BASE_PATH=backend \
		netdev= vif="vif5.$n" "$S/devsep-$s" "$a" $t
}

# ---- attach: the script runs once, through the relay only
add_dev vif 0 "$S/devsep-test-hp"
P=$(be vif 0)
wait_for node_is "$P/state" 2 || fail "backend InitWait"
sleep 0.3	# watcherd had every chance to act on its own
expect_eq "no script before libxl's call" "$(wc -l <"$W/calls.log")" 0
xenstore-exists "$P/hotplug-status" && [ -n "$(xenstore-read "$P/hotplug-status")" ] &&
	fail "watcherd wrote hotplug-status of a libxl backend"
relay 0 test-hp online >"$W/r.out" 2>&1; rc=$?
expect_eq "relay exit status (script ok)" "$rc" 0
expect_eq "test-hp online ran once" "$(calls online backend/vif/5/0)" 1
node_is "$P/hotplug-status" connected &&
	ok "the script wrote hotplug-status through the scoped socket" ||
	fail "hotplug-status: $(xenstore-read "$P/hotplug-status" 2>&1)"
grep -q 'relay: test-hp online' "$W/watcherd.log" || fail "relay job not logged"
dev=$(CTL devices 5)
grep -q '"phase":"libxl"' <<<"$dev" && grep -q '"outcome":"exited"' <<<"$dev" &&
	ok "devices lists it as libxl's, with the relay's last script" ||
	fail "devices: $dev"

# ---- a qdisk backend (libxl's device model serves it): left alone
"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind qdisk \
	--devid 51712 --type qdisk --params "$W/q.img" || fail "toolstack qdisk"
Q=$(be qdisk 51712)
wait_for sh -c "'$B/wd-client' '$W/run/watcherd.sock' devices 5 | grep -q '\"kind\":\"qdisk\"'" ||
	fail "qdisk not tracked"
sleep 0.3
[ -z "$(xenstore-read "$Q/hotplug-status" 2>/dev/null)" ] &&
	! xenstore-exists "$Q/hotplug-error" &&
	ok "qdisk: no hotplug-status/-error written (libxl's QEMU serves it)" ||
	fail "watcherd wrote into libxl's qdisk: $(xenstore-read "$Q/hotplug-error" 2>&1)"
grep -q "kind=qdisk" "$W/watcherd.log" && fail "watcherd acted on the qdisk"

# ---- exit status and output reach libxl
add_dev vif 1 "$S/devsep-test-fail"
wait_for node_is "$(be vif 1)/state" 2 || fail "vif 1 InitWait"
relay 1 test-fail online >"$W/r.out" 2>&1; rc=$?
expect_eq "relay exit status (script exit 1)" "$rc" 1
grep -q "exited 1" "$W/r.out" && ok "the outcome is on stderr" ||
	fail "relay output: $(cat "$W/r.out")"

# ---- the scoped xenstore holds for a script run by the relay
add_dev vif 2 "$S/devsep-test-escape"
wait_for node_is "$(be vif 2)/state" 2 || fail "vif 2 InitWait"
relay 2 test-escape online >"$W/r.out" 2>&1; rc=$?
expect_eq "test-escape exit status" "$rc" 0
grep -q escaped "$W/r.out" "$W/hotplugd.log" &&
	fail "a write outside the backend got through: $(grep escaped "$W/hotplugd.log")"
for p in /local/domain/5/evil "$(be vif 1)/evil" /local/domain/0/evil; do
	xenstore-exists "$p" && fail "$p written"
done
node_is "$(be vif 2)/hotplug-status" connected &&
	ok "writes outside the backend refused, inside allowed" ||
	fail "test-escape's own write"

# ---- the script node must name that relay
relay 0 test-fail online >"$W/r.out" 2>&1; rc=$?
expect_eq "relay whose name is not the backend's script" "$rc" 1
grep -q "does not name this relay" "$W/r.out" &&
	ok "refused: script node names another relay" || fail "$(cat "$W/r.out")"
expect_eq "test-fail not run on vif 0" "$(calls online backend/vif/5/0)" 1
# a type_if that does not go with the action: usage, nothing sent
relay 0 test-hp online type_if=tap >"$W/r.out" 2>&1; rc=$?
expect_eq "type_if=tap with online" "$rc" 2

# ---- bad requests: refused with a reason, nothing runs, watcherd lives
# bad_relay WHY-PATTERN NAME ACTION XENBUS_PATH
bad_relay() {
	local why=$1 name=$2 a=$3 xb=$4 rc
	ln -sf "$BIN/devsep-relay" "$S/$name"
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEVSEP_CONF="$W/devsep.conf" \
		XENBUS_TYPE=vif XENBUS_PATH="$xb" vif=vif5.0 netdev= \
		"$S/$name" "$a" >"$W/r.out" 2>&1; rc=$?
	if [ "$rc" = 1 ] && grep -q "$why" "$W/r.out"; then
		ok "refused: $name $a $xb"
	else
		fail "$name $a $xb: rc $rc: $(cat "$W/r.out")"
	fi
}
n0=$(wc -l <"$W/calls.log")
bad_relay "no such backend" devsep-test-hp online backend/vif/5/9
bad_relay "XENBUS_PATH is not" devsep-test-hp online backend/vif/5/0/../../1
bad_relay "XENBUS_PATH is not" devsep-test-hp online /local/domain/0/backend/vif/5/0
bad_relay "XENBUS_PATH is not" devsep-test-hp add backend/console/5/0
bad_relay "not a relay" devsep-devsep-test-hp online backend/vif/5/0
bad_relay "action is not" devsep-test-hp attach backend/vif/5/0
expect_eq "no script ran for a bad request" "$(wc -l <"$W/calls.log")" "$n0"
kill -0 "$WD" && ok "watcherd alive" || fail "watcherd died"

# ---- only root may ask (the scripts run as devsep-hotplugd)
"$B/wd-client" --as devsep-hotplugd "$W/run/watcherd.sock" raw 403 \
	>"$W/r.out" 2>&1; rc=$?
expect_eq "RELAY_RUN from devsep-hotplugd: dropped" "$rc" 3

# ---- libxl kills the relay at its timeout: the whole group dies
add_dev vif 3 "$S/devsep-test-hang"
wait_for node_is "$(be vif 3)/state" 2 || fail "vif 3 InitWait"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEVSEP_CONF="$W/devsep.conf" \
	script="$S/devsep-test-hang" XENBUS_TYPE=vif XENBUS_PATH=backend/vif/5/3 \
	XENBUS_BASE_PATH=backend netdev= vif=vif5.3 \
	"$S/devsep-test-hang" online type_if=vif >"$W/r.out" 2>&1 &
RP=$!	# the relay itself (env execs it), as libxl's child
wait_for grep -q "test-hang online" "$W/calls.log" || fail "test-hang started"
wait_for pgrep -f "^sleep 987$" || fail "test-hang's child started"
# the waiting relay: still uid 0, no capability left, NO_NEW_PRIVS
st=$(grep -E '^(Uid|CapEff|CapPrm|CapBnd|NoNewPrivs):' "/proc/$RP/status" | tr -s '\t ' ' ')
grep -q '^Uid: 0 ' <<<"$st" && grep -q '^CapEff: 0000000000000000' <<<"$st" &&
	grep -q '^CapPrm: 0000000000000000' <<<"$st" &&
	grep -q '^CapBnd: 0000000000000000' <<<"$st" &&
	grep -q '^NoNewPrivs: 1' <<<"$st" &&
	ok "the relay waits as uid 0 without any capability, NO_NEW_PRIVS" ||
	fail "relay's rights: $st"
kill -9 "$RP"; wait "$RP" 2>/dev/null
wait_for sh -c '! pgrep -f "^sleep 987$"' &&
	ok "relay killed: the script's process group was killed" ||
	fail "sleep 987 survived the relay"
grep -q "relay hung up" "$W/watcherd.log" || fail "relay_gone not logged"

# ---- hotplugd gone during a relayed job: the relay fails at once (never
# re-sent: libxl waits); the restarted hotplugd kills the orphaned group
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEVSEP_CONF="$W/devsep.conf" \
	script="$S/devsep-test-hang" XENBUS_TYPE=vif XENBUS_PATH=backend/vif/5/3 \
	XENBUS_BASE_PATH=backend netdev= vif=vif5.3 \
	"$S/devsep-test-hang" online type_if=vif >"$W/r.out" 2>&1 &
RP=$!
wait_for pgrep -f "^sleep 987$" || fail "test-hang's child started again"
kill -9 "$HP"; wait "$HP" 2>/dev/null
wait "$RP"; rc=$?
expect_eq "relay when hotplugd dies mid-job" "$rc" 1
grep -q "devsep-hotplugd went away" "$W/r.out" &&
	ok "says devsep-hotplugd went away" || fail "$(cat "$W/r.out")"
relay 0 test-hp online >"$W/r.out" 2>&1; rc=$?
expect_eq "relay with hotplugd down" "$rc" 1
grep -q "devsep-hotplugd is not running" "$W/r.out" &&
	ok "refused: devsep-hotplugd is not running" || fail "$(cat "$W/r.out")"
rm -f "$W/run/hotplugd.sock"
start_hotplugd
wait_for sh -c '! pgrep -f "^sleep 987$"' &&
	ok "restarted hotplugd killed the orphaned script group" ||
	fail "sleep 987 survived hotplugd's restart"
wait_for sh -c "[ \$(grep -c 'hotplugd: connected' '$W/watcherd.log') -ge 2 ]" ||
	fail "watcherd did not reconnect to hotplugd"

# ---- libxl's removal: offline via the relay, then libxl removes the dirs
relay 0 test-hp offline >"$W/r.out" 2>&1; rc=$?
expect_eq "relay offline" "$rc" 0
expect_eq "test-hp offline ran once" "$(calls offline backend/vif/5/0)" 1
"$B/actor-toolstack" remove --backend-domid 0 --domid 5 --kind vif \
	--devid 0 --wait-ms 3000 || fail "toolstack remove (libxl's part)"
gone "$P" && ok "backend removed by the toolstack" || fail "backend left"
wait_for sh -c "! '$B/wd-client' '$W/run/watcherd.sock' devices 5 | grep -q '\"devid\":0,'" &&
	ok "watcherd forgot the removed device" || fail "device 0 still listed"
expect_eq "no script ran but the relay's" \
	"$(grep -c 'test-hp' "$W/calls.log")" 2

# ---- watcherd down: a clear failure, the script is not run
stop_watcherd
relay 0 test-hp online >"$W/r.out" 2>&1; rc=$?
expect_eq "relay with watcherd down" "$rc" 1
grep -q "devsep-watcherd is not running" "$W/r.out" &&
	ok "says devsep-watcherd is not running" || fail "$(cat "$W/r.out")"
expect_eq "nothing ran" "$(grep -c 'test-hp' "$W/calls.log")" 2
start_watcherd
wd_finish
