#!/usr/bin/env bash
# rel-driverdom.sh proves watcherd + hotplugd in a driver domain (domain 9:
# watcherd --domid 9 connected unprivileged through the world's dom9.sock,
# the simulated kernel backend also as domain 9, hotplugd with the real
# Xen scripts copied into script_dir) refuse the toolstack's bad backend
# nodes without running anything they should not:
#  - script: path escape ("../../../bin/sh", "../scripts/rel-vif"),
#    absolute ("/bin/sh"), non-existent, not executable (0644),
#    world-writable (0777), a directory, 4 KiB long, with a newline
#    (an empty `script` means "no script", libxl's case: see
#    watcherd/tests/it-noscript.sh): each device ends in error with a hotplug-error, the
#    backend never reaches Connected, and no program ran (the bait
#    scripts' marker files are absent);
#  - params of the real `block` script: non-existent file, a directory,
#    4 KiB long, empty, with a newline, "../" into /etc: each device ends
#    in error, no loop device is left behind;
#  - meanwhile a good vif and a good file-backed vbd (real block, loop
#    device) attach; all devices are then removed (dirs gone, loop device
#    detached); a guest destroyed in the driver domain's view (it polls the
#    frontend dirs: not privileged for @releaseDomain) is cleaned up;
#    neither daemon restarted.
. "$(dirname "$0")/rlib.sh"
need_root
[ -x /etc/xen/scripts/block ] || { echo "SKIP: no /etc/xen/scripts/block"; exit 77; }
DD=9
rel_world "hotplug_timeout = 10s"
cp -rn /etc/xen/scripts/. "$W/scripts/"
S=$W/scripts
for n in bait-noexec bait-ww; do
	printf '#!/bin/sh\ntouch %s/ran.%s\nexit 0\n' "$W" "$n" >"$S/$n"
done
chmod 644 "$S/bait-noexec"; chmod 777 "$S/bait-ww"
mkdir -p "$S/bait-dir"
for g in $DD 5 6; do "$XW" domain create "$W" "$g" >/dev/null || fail "create $g"; done
chmod 666 "$W/dom$DD.sock"	# watcherd runs as devsep-watcherd
sv_hotplugd
supervise watcherd env XENSTORED_PATH="$W/dom$DD.sock" "$BIN/devsep-watcherd" \
	-F -d -c "$W/devsep.conf" --rundir "$W/run" --domid "$DD"
wait_long 10 test -S "$W/run/watcherd.sock" || fail "watcherd socket"
XENSTORED_PATH="$W/dom$DD.sock" "$B/actor-backend" -v --backend-domid "$DD" --shutdown-done \
	>>"$W/be.log" 2>&1 & BE=$!; PIDS+=($BE)
wait_for grep -q ready "$W/be.log" || fail "backend (as domain $DD) ready"

bep() { echo "/local/domain/$DD/backend/$1/$2/$3"; }
add() {	# dom kind devid script [args]
	local d=$1 k=$2 n=$3 s=$4; shift 4
	"$B/actor-toolstack" add --backend-domid "$DD" --domid "$d" --kind "$k" \
		--devid "$n" --script "$s" "$@" >/dev/null || fail "toolstack add $d/$k/$n"
}
del() {
	"$B/actor-toolstack" remove --backend-domid "$DD" --domid "$1" --kind "$2" \
		--devid "$3" >/dev/null || fail "toolstack remove $1/$2/$3"
}
errored() { node_is "$(bep "$1" "$2" "$3")/hotplug-status" error; }	# kind dom devid

long=$(head -c 4000 /dev/zero | tr '\0' a)
BAD_SCRIPTS=("../../../bin/sh" "../scripts/rel-vif" "/bin/sh" "no-such-script"
	"bait-noexec" "bait-ww" "bait-dir" "$long" "$(printf 'rel-vif\nx')")
i=0
for s in "${BAD_SCRIPTS[@]}"; do add 5 vif $((10 + i)) "$s"; i=$((i + 1)); done
add 5 vif 0 rel-vif
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 0 --mode connect \
	--timeout-ms 10000 >/dev/null 2>&1 && ok "good vif connected in the driver domain" \
	|| fail "good vif in the driver domain"
for ((j = 0; j < i; j++)); do
	d=$((10 + j)); s=${BAD_SCRIPTS[$j]}
	if wait_long 8 errored vif 5 "$d"; then
		ok "script '${s:0:24}': error ($(xenstore-read "$(bep vif 5 "$d")/hotplug-error" 2>&1 | head -c 70))"
	else
		fail "script '${s:0:24}': hotplug-status '$(xenstore-read "$(bep vif 5 "$d")/hotplug-status" 2>&1)'"
	fi
	node_is "$(bep vif 5 "$d")/state" 4 && fail "script '${s:0:24}': backend Connected"
done
ls "$W"/ran.* >/dev/null 2>&1 && fail "a refused script ran: $(ls "$W"/ran.*)" || ok "no refused script ran"
expect_eq "rel-vif ran only for the good vif" "$(grep -c 'rel-vif online' "$W/calls.log")" 1

# bad params for the real block script (+ one good file-backed vbd)
truncate -s 4M "$W/img/good.img"
# hotplug scripts run as per-job uids of group devsep-script (hotplugd/launch.h)
chgrp devsep-script "$W/img/good.img" && chmod 0660 "$W/img/good.img"
chmod o+x "$W/img"	# (the broker's 2750 image dir: the scripts pass through)
mkdir -p "$W/img/adir"
BAD_PARAMS=("$W/img/no-such.img" "$W/img/adir" "/$long" "" "$(printf '%s\nx' "$W/img/good.img")"
	"$W/img/../../../../etc/passwd-no-such")
i=0
for p in "${BAD_PARAMS[@]}"; do add 5 vbd $((100 + i)) block --params "$p"; i=$((i + 1)); done
add 5 vbd 51712 block --params "$W/img/good.img"
"$B/actor-frontend" -d "$W" --domid 5 --kind vbd --devid 51712 --mode connect \
	--timeout-ms 20000 >/dev/null 2>&1 && ok "good vbd (real block, loop) connected" \
	|| fail "good vbd: $(xenstore-read "$(bep vbd 5 51712)/hotplug-error" 2>&1)"
expect_eq "one loop device (the good vbd's)" "$(losetup -j "$W/img/good.img" | wc -l)" 1
for ((j = 0; j < i; j++)); do
	d=$((100 + j)); p=${BAD_PARAMS[$j]}
	if wait_long 15 errored vbd 5 "$d"; then
		ok "params '${p:0:30}': error ($(xenstore-read "$(bep vbd 5 "$d")/hotplug-error" 2>&1 | head -c 60))"
	else
		fail "params '${p:0:30}': hotplug-status '$(xenstore-read "$(bep vbd 5 "$d")/hotplug-status" 2>&1)'"
	fi
done
expect_eq "no other loop device" "$(world_loops | wc -l)" 1

# removal of everything; then a guest destroyed (seen by polling)
for ((j = 0; j < ${#BAD_SCRIPTS[@]}; j++)); do del 5 vif $((10 + j)); done
for ((j = 0; j < ${#BAD_PARAMS[@]}; j++)); do del 5 vbd $((100 + j)); done
del 5 vbd 51712
for ((j = 0; j < ${#BAD_SCRIPTS[@]}; j++)); do
	wait_long 10 gone "$(bep vif 5 $((10 + j)))" || fail "vif $((10 + j)) not removed"
done
for ((j = 0; j < ${#BAD_PARAMS[@]}; j++)); do
	wait_long 10 gone "$(bep vbd 5 $((100 + j)))" || fail "vbd $((100 + j)) not removed"
done
wait_long 15 gone "$(bep vbd 5 51712)" || fail "good vbd not removed"
expect_eq "loop device detached" "$(world_loops | wc -l)" 0
add 6 vif 0 rel-vif
"$B/actor-frontend" -d "$W" --domid 6 --kind vif --devid 0 --mode connect \
	--timeout-ms 10000 >/dev/null 2>&1 || fail "guest 6 vif"
"$XW" domain destroy "$W" 6 >/dev/null || fail "destroy 6"
wait_long 15 gone "$(bep vif 6 0)" && ok "dead guest's device removed by the driver domain" \
	|| fail "guest 6's device left behind"
sleep 0.5
bridge_ports | grep -qx rv6.0 && fail "guest 6's bridge port leaked" || ok "guest 6's port freed"
expect_eq "daemon restarts" "$(( $(restarts hotplugd) + $(restarts watcherd) ))" 0
del 5 vif 0
wait_long 10 gone "$(bep vif 5 0)" || fail "vif 0 not removed"
rel_finish
