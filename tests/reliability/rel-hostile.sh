#!/usr/bin/env bash
# rel-hostile.sh proves that hostile guests, each acting through its own
# unprivileged xenstore connection (DIR/dom<N>.sock), cannot break the
# daemons or other guests' devices:
#  - a canary guest (7) attaches and detaches a vif in a loop the whole
#    time: every cycle succeeds and none takes longer than 10 s;
#  - watcherd's and hotplugd's RSS (VmRSS/VmHWM sampled every 0.2 s) grows
#    by less than 8 MB over the whole run; neither restarts;
# while guest 5 does, to its own devices (each then removed by the
# toolstack: the device's dirs and its bridge port must be gone):
#  - flips its frontend state 4,1,4,5 as fast as it can for REL_FLIP_S s
#    (5; torture 30) (XSA-350);
#  - writes malformed values (non-numeric, negative, huge, empty, embedded
#    NUL and control bytes, ~4 KiB) to state and other frontend nodes;
#  - writes its watched frontend `state` at REL_SPAM_RATE/s (10000) for
#    REL_SPAM_S s (3; torture 30) (XSA-349), achieved rate printed;
#  - creates and deletes 1000 nodes one by one below its watched `state`
#    node and below its device dir (XSA-326);
#  - nests directories below its frontend until xenstored refuses
#    (protocol limits, XSA-418): the device stays Connected;
#  - deletes its whole frontend dir while the add script runs and
#    recreates it: the device ends connected or in error, never stuck;
#  - never closes (ignores the backend's Closing): it cannot hold up the
#    removal (the simulated backend does not wait for its frontend, so
#    the force path itself is watcherd/tests/it-remove-paths.sh's);
# and:
#  - guest 8 is destroyed while its add script runs: its device is
#    cleaned up, the remove script frees the bridge port;
#  - guests 5 and 6 attach the same devid at once: both connect; guest 6
#    cannot write or delete guest 5's frontend or backend nodes (EACCES).
. "$(dirname "$0")/rlib.sh"
need_root
FLIP_S=${REL_FLIP_S:-5}
SPAM_S=${REL_SPAM_S:-3}
SPAM_RATE=${REL_SPAM_RATE:-10000}
RG=$B/rel-guest
rel_world "destroy_timeout = 2s" "hotplug_timeout = 5s"
cat >"$W/scripts/rel-vif-slow" <<S
#!/bin/sh
dev=\$(echo "\$XENBUS_PATH" | awk -F/ '{print "rv" \$(NF-1) "." \$NF}')
echo "\$(date +%s.%N) rel-vif-slow \$1 \$XENBUS_PATH start" >>$W/calls.log
case \$1 in
online)
	ip link add "\$dev" type veth peer name "p\$dev" 2>/dev/null
	ip link set "\$dev" master $BR up
	sleep 1.5
	xenstore-write "\$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
offline) ip link del "\$dev" 2>/dev/null ;;
esac
exit 0
S
chmod 755 "$W/scripts/rel-vif-slow"
rel_start hotplugd watcherd
for g in 5 6 7 8; do "$XW" domain create "$W" "$g" >/dev/null || fail "create $g"; done
start_rss_sampler hotplugd watcherd

addv() {	# dom devid script
	"$B/actor-toolstack" add --backend-domid 0 --domid "$1" --kind vif \
		--devid "$2" --script "$3" >/dev/null || fail "toolstack add $1/$2"
}
rmv() {
	"$B/actor-toolstack" remove --backend-domid 0 --domid "$1" --kind vif \
		--devid "$2" >/dev/null || fail "toolstack remove $1/$2"
}
conn() {	# dom devid [timeout ms]
	"$B/actor-frontend" -d "$W" --domid "$1" --kind vif --devid "$2" \
		--mode connect --timeout-ms "${3:-10000}" >/dev/null 2>&1
}
bev() { echo "/local/domain/0/backend/vif/$1/$2"; }
fev() { echo "/local/domain/$1/device/vif/$2"; }
phase() {	# dom devid
	"$CTL" --rundir "$W/run" --json devices --domid "$1" 2>/dev/null | python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    if d["kind"] == "vif" and d["devid"] == int(sys.argv[1]): print(d["phase"])' "$2"
}
# removed_clean DOM DEVID: toolstack removal ends with no dirs, no port.
removed_clean() {
	rmv "$1" "$2"
	if wait_long 15 gone "$(bev "$1" "$2")"; then
		wait_long 3 gone "$(fev "$1" "$2")" || fail "$1/$2: frontend dir left"
		sleep 0.2
		bridge_ports | grep -qx "rv$1.$2" && fail "$1/$2: bridge port leaked" \
			|| ok "$1/$2 removed cleanly"
	else
		local ph st
		ph=$(phase "$1" "$2"); st=$(xenstore-read "$(bev "$1" "$2")/state" 2>&1)
		fail "$1/$2 not removed (phase $ph, backend state $st)"
	fi
}
attach() {	# dom devid script
	addv "$1" "$2" "$3"
	conn "$1" "$2" || fail "$1/$2 did not connect"
}

# ---- the canary: guest 7 attaches/detaches continuously
canary() {
	local n=0 t0 t1
	while [ ! -e "$W/stop.canary" ]; do
		t0=$(date +%s%N)
		"$B/actor-toolstack" add --backend-domid 0 --domid 7 --kind vif \
			--devid "$n" --script rel-vif >/dev/null 2>&1 &&
		conn 7 "$n" 10000 &&
		"$B/actor-toolstack" remove --backend-domid 0 --domid 7 --kind vif \
			--devid "$n" >/dev/null 2>&1 &&
		wait_long 10 gone "$(bev 7 "$n")" && r=ok || r=FAILED
		t1=$(date +%s%N)
		echo "$n $r $(( (t1 - t0) / 1000000 ))" >>"$W/canary.log"
		n=$((n + 1))
	done
}
: >"$W/canary.log"
canary & CANARY=$!; PIDS+=($CANARY)

# ---- XSA-350: state flips
attach 5 0 rel-vif
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode flip \
	--seconds "$FLIP_S" >"$W/flip.out" 2>&1 || fail "flip actor"
echo "flip: $(cat "$W/flip.out") for $FLIP_S s"
alive watcherd || fail "watcherd died during flips"
removed_clean 5 0

# ---- malformed values
attach 5 1 rel-vif
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 1 --mode garbage \
	--seconds 2 >"$W/garbage.out" 2>&1 || fail "garbage actor"
echo "garbage: $(cat "$W/garbage.out")"
removed_clean 5 1

# ---- XSA-349: a watched node written at SPAM_RATE/s
attach 5 2 rel-vif
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 2 --mode spam \
	--node state --rate "$SPAM_RATE" --seconds "$SPAM_S" >"$W/spam.out" 2>&1 || fail "spam actor"
w=$(sed -n 's/.*writes=\([0-9]*\).*/\1/p' "$W/spam.out")
echo "spam: $(cat "$W/spam.out") = $(( ${w:-0} / SPAM_S )) writes/s achieved"
[ "${w:-0}" -gt 0 ] || fail "no spam writes"
removed_clean 5 2

# ---- XSA-326: 1000 deletions below watched paths; XSA-418: deep paths
attach 5 3 rel-vif
for p in state/junk junk; do
	md=$("$RG" "$W" 5 mass-delete "$(fev 5 3)/$p" 1000)
	echo "mass-delete below $p: $md"
	case $md in *deleted=1000*) ;; *) fail "1000 deletions below $p: $md" ;; esac
done
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 3 --mode deep >"$W/deep.out" 2>&1
echo "$(cat "$W/deep.out")"
sleep 0.5
expect_eq "device after mass deletions and deep paths: phase" "$(phase 5 3)" connected
node_is "$(bev 5 3)/state" 4 && ok "backend still Connected" || fail "backend left Connected"
removed_clean 5 3

# ---- frontend dir deleted and recreated mid-attach
addv 5 4 rel-vif-slow
wait_for grep -q "rel-vif-slow online backend/vif/5/4 start" "$W/calls.log" || fail "slow add 4"
expect_eq "guest deletes its frontend dir" "$("$RG" "$W" 5 rm "$(fev 5 4)")" OK
sleep 0.3
"$RG" "$W" 5 write "$(fev 5 4)/backend" "$(bev 5 4)" >/dev/null
"$RG" "$W" 5 write "$(fev 5 4)/backend-id" 0 >/dev/null
"$RG" "$W" 5 write "$(fev 5 4)/state" 1 >/dev/null
conn 5 4 8000
settled() { case $(phase 5 4) in connected|error) return 0 ;; esac; return 1; }
wait_long 10 settled && ok "recreated frontend: device settled ($(phase 5 4))" \
	|| fail "device stuck in '$(phase 5 4)' after frontend delete+recreate"
removed_clean 5 4

# ---- a frontend that never closes: forced removal
addv 5 5 rel-vif
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 5 --mode never-close \
	--seconds 30 >/dev/null 2>&1 & NC=$!
wait_long 10 node_is "$(bev 5 5)/state" 4 || fail "never-close device connected"
t0=$(date +%s)
removed_clean 5 5
echo "never-close: removed after $(( $(date +%s) - t0 )) s (destroy_timeout 2 s)"
kill "$NC" 2>/dev/null

# ---- a guest destroyed while its add script runs
addv 8 0 rel-vif-slow
wait_for grep -q "rel-vif-slow online backend/vif/8/0 start" "$W/calls.log" || fail "slow add 8"
"$XW" domain destroy "$W" 8 >/dev/null || fail "destroy 8"
wait_long 15 gone "$(bev 8 0)" && ok "dead guest's device cleaned up" || fail "8/0 not cleaned"
sleep 2
bridge_ports | grep -qx "rv8.0" && fail "dead guest's bridge port leaked" || ok "no port left for guest 8"
n8=$("$CTL" --rundir "$W/run" --json devices --domid 8 | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
expect_eq "watcherd forgot guest 8's devices" "$n8" 0

# ---- two guests racing on one devid
addv 5 7 rel-vif & a5=$!; addv 6 7 rel-vif & a6=$!; wait $a5 $a6
conn 5 7 & c5=$!; conn 6 7 & c6=$!
wait $c5 && ok "guest 5 devid 7 connected" || fail "5/7"
wait $c6 && ok "guest 6 devid 7 connected" || fail "6/7"
expect_eq "guest 6 writes guest 5's frontend" "$("$RG" "$W" 6 write "$(fev 5 7)/state" 5)" "ERR EACCES"
expect_eq "guest 6 deletes guest 5's frontend" "$("$RG" "$W" 6 rm "$(fev 5 7)")" "ERR EACCES"
expect_eq "guest 6 writes guest 5's backend" "$("$RG" "$W" 6 write "$(bev 5 7)/hotplug-status" error)" "ERR EACCES"
"$RG" "$W" 6 write "$(fev 6 7)/backend" "$(bev 5 7)" >/dev/null
sleep 0.5
node_is "$(bev 5 7)/state" 4 && node_is "$(bev 6 7)/state" 4 \
	&& ok "both still Connected after guest 6 re-pointed its backend node" || fail "race: states"
removed_clean 5 7
removed_clean 6 7

# ---- the canary and the daemons
touch "$W/stop.canary"; wait "$CANARY" 2>/dev/null
stop_rss_sampler
nc=$(wc -l <"$W/canary.log")
nf=$(grep -c FAILED "$W/canary.log")
mx=$(awk '$3 > m {m = $3} END{print m + 0}' "$W/canary.log")
echo "canary: $nc cycles, $nf failed, slowest $mx ms"
[ "$nc" -ge 3 ] && [ "$nf" = 0 ] && ok "the other guest's devices kept working" \
	|| fail "canary: $nc cycles, $nf failed"
[ "$mx" -lt 10000 ] && ok "canary cycles < 10 s" || fail "slowest canary cycle $mx ms"
for d in watcherd hotplugd; do
	f=$(rss_first "$d"); m=$(rss_max "$d")
	h=$(awk -v n="$d" '$1 == n {h = $3} END{print h + 0}' "$W/rss.log")
	echo "$d RSS: first ${f} kB, max ${m} kB, VmHWM ${h} kB"
	[ $((m - f)) -lt 8192 ] && ok "$d RSS bounded" || fail "$d RSS grew $((m - f)) kB"
done
expect_eq "daemon restarts" "$(( $(restarts hotplugd) + $(restarts watcherd) ))" 0
expect_eq "bridge ports left" "$(bridge_ports | grep -c '^rv')" 0
sleep 0.5
expect_eq "no script process left" "$(pgrep -f "$W/scripts/" | wc -l)" 0
rel_finish
