#!/usr/bin/env bash
# rel-scripts.sh proves, end to end (toolstack -> watcherd -> hotplugd ->
# script -> scoped xenstore -> device state), that misbehaving hotplug
# scripts are bounded and leave the device in error and the daemons fine.
# (watcherd/tests/it-script-errors.sh already covers a plain hang and a
# script that reports its own hotplug-error; hotplugd's own test covers
# the runner's view.  This adds the rest, seen from the device.)
#  - exit 1 without hotplug-error: device in error, hotplug-status=error,
#    watcherd writes a hotplug-error naming the exit;
#  - garbage in hotplug-status ("CONNECTED", 4 KiB, embedded control
#    bytes, "busy\n") then exit 0: never Connected, the device ends in
#    error (or retries busy, bounded), frontend never sees 4;
#  - hangs after forking grandchildren (a subshell, a background sleep, a
#    nohup'ed one, all in the script's process group): at hotplug_timeout
#    every one of them is gone, device in error;
#  - ignores SIGTERM and hangs: SIGKILLed after script_kill_grace;
#  - 100 MB of output, then hangs: killed at the timeout, hotplugd's RSS
#    stays small, the daemons' logs grow by < 1 MB;
#  - 100 MB of output, then reports connected: the device attaches;
#  - remove script that hangs: killed at the timeout, the device is
#    removed anyway (its dirs are gone);
#  - meanwhile and afterwards a well-behaved device attaches and detaches;
#    neither daemon restarted, no script process left.
# Printed, not asserted: whether a grandchild that escapes with setsid()
# survives the group kill (a process-group kill cannot reach it).
. "$(dirname "$0")/rlib.sh"
need_root
rel_world "hotplug_timeout = 5s" "script_kill_grace = 300ms" "max_jobs = 16"
S=$W/scripts
mk() { cat >"$S/$1"; chmod 755 "$S/$1"; }
mk rs-exit1 <<'E'
#!/bin/sh
echo "about to fail"
exit 1
E
mk rs-garbage <<'E'
#!/bin/sh
case $1 in add|online)
	n=${XENBUS_PATH##*/}
	case $n in
	1) v=CONNECTED ;;
	2) v=$(head -c 4096 /dev/zero | tr '\0' c) ;;
	3) v=$(printf 'conn\033ected\001') ;;
	*) v=$(printf 'busy\n') ;;
	esac
	xenstore-write "$XENBUS_PATH/hotplug-status" "$v" ;;
esac
exit 0
E
mk rs-grandkids <<E
#!/bin/sh
case \$1 in add|online)
	( sleep 777 ) &
	sleep 778 &
	nohup sleep 779 >/dev/null 2>&1 &
	sh -c 'sleep 780' &
	setsid sleep 781 &
	sleep 1000 ;;
esac
exit 0
E
mk rs-noterm <<'E'
#!/bin/sh
trap '' TERM
case $1 in add|online) while :; do sleep 1; done ;; esac
exit 0
E
mk rs-flood-hang <<'E'
#!/bin/sh
case $1 in add|online) head -c 100000000 /dev/zero | tr '\0' x; sleep 1000 ;; esac
exit 0
E
mk rs-flood-ok <<'E'
#!/bin/sh
case $1 in add|online)
	head -c 100000000 /dev/zero | tr '\0' y
	xenstore-write "$XENBUS_PATH/physical-device" 7:0 \
		"$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
esac
exit 0
E
mk rs-rmhang <<'E'
#!/bin/sh
case $1 in
add|online) xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
*) sleep 1000 ;;
esac
exit 0
E
rel_start hotplugd watcherd
"$XW" domain create "$W" 5 >/dev/null || fail "create 5"
"$XW" domain create "$W" 6 >/dev/null || fail "create 6"
start_rss_sampler hotplugd watcherd
logsz0=$(cat "$W/watcherd.log" "$W/hotplugd.log" | wc -c)
phase() {	# kind devid -> watcherd's phase
	"$CTL" --rundir "$W/run" --json devices --domid 5 | python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    if d["kind"] == sys.argv[1] and d["devid"] == int(sys.argv[2]): print(d["phase"])' "$1" "$2"
}
in_error() { node_is "$(be "$1" "$2")/hotplug-status" error && [ "$(phase "$1" "$2")" = error ]; }
good_cycle() {	# a well-behaved device on guest 6 attaches and detaches
	local b=/local/domain/0/backend/vif/6/$1
	"$B/actor-toolstack" add --backend-domid 0 --domid 6 --kind vif --devid "$1" \
		--script test-hp >/dev/null || return 1
	"$B/actor-frontend" -d "$W" --domid 6 --kind vif --devid "$1" --mode connect \
		--timeout-ms 8000 >/dev/null 2>&1 || return 1
	"$B/actor-toolstack" remove --backend-domid 0 --domid 6 --kind vif --devid "$1" >/dev/null
	wait_long 8 gone "$b"
}

add_dev vif 0 rs-exit1
for i in 1 2 3 4; do add_dev vif "$i" rs-garbage; done
add_dev vif 10 rs-grandkids
add_dev vif 11 rs-noterm
add_dev vif 12 rs-flood-hang
add_dev vbd 13 rs-flood-ok --params marker
add_dev vif 14 rs-rmhang
good_cycle 0 && ok "a good device attaches/detaches while they misbehave" || fail "good cycle 0"

wait_long 12 in_error vif 0 && ok "exit 1: device in error" || fail "exit 1 -> error"
he=$(xenstore-read "$(be vif 0)/hotplug-error" 2>/dev/null)
echo "exit 1 hotplug-error: '$he'"
[ -n "$he" ] && ok "watcherd wrote a hotplug-error" || fail "no hotplug-error for exit 1"

for i in 1 2 3 4; do
	wait_long 12 in_error vif "$i" && ok "garbage hotplug-status $i: device in error" \
		|| fail "garbage $i: phase '$(phase vif "$i")' status '$(xenstore-read "$(be vif "$i")/hotplug-status" 2>&1 | head -c 40)'"
	node_is "$(be vif "$i")/state" 4 && fail "garbage $i: backend Connected"
done

wait_long 12 in_error vif 10 && ok "hung with grandchildren: in error" || fail "grandkids -> error"
sleep 0.5
left=$(pgrep -f 'sleep 7(77|78|79|80)' | wc -l)
expect_eq "grandchildren in the group killed" "$left" 0
if pgrep -f 'sleep 781' >/dev/null; then
	echo "measured: a setsid() grandchild escapes the process-group kill (still running)"
	pkill -f 'sleep 781'
else echo "measured: the setsid() grandchild did not survive"; fi

wait_long 12 in_error vif 11 && ok "TERM-ignoring script: in error" || fail "noterm -> error"
grep -q "kind=vif devid=11 .*signal 9\|kind=vif devid=11 .*SIGKILL\|kind=vif devid=11 .*killed" "$W/hotplugd.log" \
	&& ok "SIGKILLed after the grace" || echo "note: hotplugd's log does not name the SIGKILL"
wait_long 12 in_error vif 12 && ok "100 MB then hang: in error" || fail "flood-hang -> error"
"$B/actor-frontend" -d "$W" --domid 5 --kind vbd --devid 13 --mode connect \
	--timeout-ms 15000 >/dev/null 2>&1 && node_is "$(be vbd 13)/hotplug-status" connected \
	&& ok "100 MB then connected: attached" || fail "flood-ok not attached ($(phase vbd 13))"
stop_rss_sampler
hp=$(rss_max hotplugd); wdm=$(rss_max watcherd)
echo "max RSS: hotplugd ${hp} kB, watcherd ${wdm} kB (200 MB of script output)"
[ "$hp" -lt 32768 ] && ok "hotplugd RSS bounded (< 32 MB)" || fail "hotplugd RSS $hp kB"
[ "$wdm" -lt 32768 ] && ok "watcherd RSS bounded (< 32 MB)" || fail "watcherd RSS $wdm kB"
grow=$(( $(cat "$W/watcherd.log" "$W/hotplugd.log" | wc -c) - logsz0 ))
echo "daemon logs grew by $grow bytes"
[ "$grow" -lt 1048576 ] && ok "logs bounded" || fail "logs grew $grow bytes"

"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 14 --mode connect \
	--timeout-ms 8000 >/dev/null 2>&1 || fail "vif 14 connect"
t0=$(date +%s)
remove_dev vif 14
wait_long 15 gone "$(be vif 14)" && ok "hung remove script: device removed anyway after $(( $(date +%s) - t0 )) s" \
	|| fail "vif 14 not removed (phase $(phase vif 14))"

for i in 0 1 2 3 4 10 11 12; do remove_dev vif "$i"; done
remove_dev vbd 13
for i in 0 1 2 3 4 10 11 12; do wait_long 10 gone "$(be vif "$i")" || fail "vif $i not removed"; done
wait_long 10 gone "$(be vbd 13)" || fail "vbd 13 not removed"
good_cycle 1 && ok "a good device attaches/detaches afterwards" || fail "good cycle 1"
sleep 0.5
expect_eq "no script process left" "$(pgrep -f "$W/scripts/" | wc -l)" 0
expect_eq "daemon restarts" "$(( $(restarts hotplugd) + $(restarts watcherd) ))" 0
rel_finish
