# Sourced by the reliability scenarios (tests/reliability/rel-*.sh), run
# from the repo root.  Builds on watcherd's helpers (a test world with the
# real xenstored, the simulated kernel backend, the real daemons) and adds:
#   - supervised daemons: each runs in a restart loop, as systemd's
#     Restart=always would, with its current pid in $W/<name>.pid, so a
#     scenario can kill -9 it at any moment and it comes back;
#   - all four daemons on one world (lockd, broker with a real QEMU);
#   - a network namespace with a bridge (hotplugd and its scripts run
#     there) so bridge ports are real kernel objects that can leak;
#   - resource ledgers (bridge ports, loop devices, marker files), RSS
#     sampling, invariant checks.
. "$(dirname "${BASH_SOURCE[0]}")/../../watcherd/tests/wdlib.sh"
CTL=$BIN/devsepctl
LT=$B/lockd-tool
NS=devsep-rel-$$
BR=relbr0
SUPERVISED=()

rel_cleanup() {
	local n p
	for n in "${SUPERVISED[@]}"; do touch "$W/stop.$n" 2>/dev/null; done
	for n in "${SUPERVISED[@]}"; do
		p=$(cat "$W/$n.pid" 2>/dev/null) && kill "$p" 2>/dev/null
	done
	sleep 0.3
	for n in "${SUPERVISED[@]}"; do
		p=$(cat "$W/$n.pid" 2>/dev/null) && kill -9 "$p" 2>/dev/null
	done
	if [ -n "${W:-}" ] && [ -d "$W/img" ]; then
		for f in "$W"/img/*; do
			for l in $(losetup -j "$f" 2>/dev/null | cut -d: -f1); do
				losetup -d "$l" 2>/dev/null
			done
		done
	fi
	ip netns del "$NS" 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	wd_cleanup
}
trap rel_cleanup EXIT

need_root() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
}

# supervise NAME CMD...: runs CMD in a restart loop (restart after
# RESTART_SEC, default 0.2 s) until $W/stop.NAME exists.  Each exit is
# appended to $W/NAME.exits as "<status>".
supervise() {
	local name=$1; shift
	rm -f "$W/stop.$name"
	SUPERVISED+=("$name")
	(
		while [ ! -e "$W/stop.$name" ]; do
			"$@" >>"$W/$name.log" 2>&1 &
			echo $! >"$W/$name.pid"
			wait $!
			echo $? >>"$W/$name.exits"
			[ -e "$W/stop.$name" ] && break
			sleep "${RESTART_SEC:-0.2}"
		done
	) 2>/dev/null &
	PIDS+=($!)
}

# wait_secs SECONDS CMD...: retries CMD (every 0.2 s) until it succeeds or
# SECONDS have passed, however long each try takes (wait_long counts tries).
wait_secs() {
	local end=$((SECONDS + $1)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

dpid() { cat "$W/$1.pid" 2>/dev/null; }
alive() { local p; p=$(dpid "$1") && kill -0 "$p" 2>/dev/null; }
restarts() { [ -f "$W/$1.exits" ] && wc -l <"$W/$1.exits" || echo 0; }

# kill9 NAME: SIGKILL the supervised daemon's current process.
kill9() { local p; p=$(dpid "$1") && kill -9 "$p" 2>/dev/null; }

# Waits until the supervised daemon answers devsepctl status.
wait_up() {
	local n=$1 d=$1
	[ "$n" = broker ] && d=broker
	wait_long "${2:-10}" "$CTL" --rundir "$W/run" status "$d"
}

start_netns() {
	ip netns add "$NS" && ip -n "$NS" link set lo up &&
	ip -n "$NS" link add "$BR" type bridge && ip -n "$NS" link set "$BR" up
}

bridge_ports() { ip -n "$NS" -br link show master "$BR" 2>/dev/null | awk '{print $1}' | sed 's/@.*//'; }

# Every loop device backing an image of this world.
world_loops() {
	local f
	for f in "$W"/img/*; do losetup -j "$f" 2>/dev/null; done | cut -d: -f1
}

# The test scripts of the campaign (script_dir = $W/scripts):
#   rel-vif  online: a dummy link rv<dom>.<devid> in bridge $BR (idempotent);
#            offline: deletes it.  A bridge port is the leakable resource.
#   rel-vbd  add: params names an image -> a loop device (reused if one
#            already backs the image: idempotent across a re-run after a
#            crash); params "marker" -> a file $W/res/<dom>.<devid>;
#            remove: detaches every loop of the image / deletes the file.
# Both sleep 0..190 ms (random) before reporting, so kills land mid-script.
write_rel_scripts() {
	mkdir -p "$W/scripts" "$W/res"
	# the scripts run as per-job uids (hotplugd/launch.h), group
	# devsep-script, umask 002: a marker made by one job's uid is removed
	# by another's (no sticky bit)
	chgrp devsep-script "$W/res" && chmod 2770 "$W/res"
	cat >"$W/scripts/rel-vif" <<S
#!/bin/sh
dev=\$(echo "\$XENBUS_PATH" | awk -F/ '{print "rv" \$(NF-1) "." \$NF}')
r=\$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
echo "\$(date +%s.%N) rel-vif \$1 \$XENBUS_PATH" >>$W/calls.log
case \$1 in
online)
	ip link show "\$dev" >/dev/null 2>&1 || ip link add "\$dev" type veth peer name "p\$dev" || exit 1
	ip link set "\$dev" master $BR up || exit 1
	sleep 0.\$(printf %02d \$((r % 20)))
	xenstore-write "\$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
offline)
	sleep 0.\$(printf %02d \$((r % 20)))
	ip link del "\$dev" 2>/dev/null ;;
esac
exit 0
S
	cat >"$W/scripts/rel-vbd" <<S
#!/bin/sh
r=\$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
echo "\$(date +%s.%N) rel-vbd \$1 \$XENBUS_PATH" >>$W/calls.log
p=\$(xenstore-read "\$XENBUS_PATH/params") || exit 1
key=\$(echo "\$XENBUS_PATH" | awk -F/ '{print \$(NF-1) "." \$NF}')
case \$1 in
add)
	if [ "\$p" = marker ]; then
		: >"$W/res/\$key"; pd=7:0; node=marker
	else
		node=\$(losetup -j "\$p" | cut -d: -f1 | head -n1)
		[ -n "\$node" ] || node=\$(losetup -f --show "\$p") || exit 1
		pd=\$(stat -L -c '%t:%T' "\$node") || exit 1
	fi
	sleep 0.\$(printf %02d \$((r % 20)))
	xenstore-write "\$XENBUS_PATH/node" "\$node" \
		"\$XENBUS_PATH/physical-device" "\$pd" \
		"\$XENBUS_PATH/hotplug-status" connected || exit 1 ;;
remove)
	sleep 0.\$(printf %02d \$((r % 20)))
	if [ "\$p" = marker ]; then rm -f "$W/res/\$key"
	else for l in \$(losetup -j "\$p" | cut -d: -f1); do losetup -d "\$l"; done
	fi ;;
esac
exit 0
S
	chmod 755 "$W"/scripts/rel-*
}

# rel_world [conf lines...]: world, netns, config; nothing started yet.
rel_world() {
	new_world
	chmod 755 "$W"
	mkdir -p "$W/run" "$W/state" "$W/img"
	chgrp devsep-broker "$W/img" && chmod 2750 "$W/img"
	chmod o+x "$W/img"	# the hotplug scripts (job uids) reach their images
	: >"$W/calls.log"; chmod 666 "$W/calls.log"
	write_scripts
	write_rel_scripts
	write_conf "image_dirs = $W/img" "state_dir = $W/state" \
		"run_dir = $W/run" "qmp_cmd_timeout = 3s" "lock_timeout = 5s" "$@"
	start_netns || fail "network namespace"
}

sv_hotplugd() {
	supervise hotplugd ip netns exec "$NS" "$BIN/devsep-hotplugd" -F \
		-c "$W/devsep.conf" --rundir "$W/run"
}
sv_lockd() {
	supervise lockd "$BIN/devsep-lockd" -F -c "$W/devsep.conf" \
		--rundir "$W/run" --statedir "$W/state" --libxl-dir "$W/xenlib"
}
sv_watcherd() {	# [--domid N] ...
	supervise watcherd "$BIN/devsep-watcherd" -F -d -c "$W/devsep.conf" \
		--rundir "$W/run" "$@"
}
sv_broker() {
	supervise broker "$BIN/devsep-qemu-broker" -F -d -c "$W/devsep.conf" \
		--rundir "$W/run"
}

# rel_start [daemons...]: supervised daemons (default all four) + backend.
rel_start() {
	local d list=("$@")
	[ ${#list[@]} -gt 0 ] || list=(hotplugd lockd watcherd broker)
	for d in "${list[@]}"; do
		"sv_$d"
		wait_long 10 test -S "$W/run/$([ "$d" = broker ] && echo broker || echo "$d").sock" \
			|| fail "$d socket"
	done
	start_backend --io-drain-ms "${IO_DRAIN_MS:-0}"
	WD=$(dpid watcherd)
}

# RSS sampler: every 0.2 s appends "<name> <VmRSS kB> <VmHWM kB>" for each
# supervised daemon to $W/rss.log until $W/stop.rss exists.
start_rss_sampler() {
	rm -f "$W/stop.rss"
	(
		while [ ! -e "$W/stop.rss" ]; do
			for n in "$@"; do
				p=$(dpid "$n") || continue
				awk -v n="$n" '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{if (r) print n, r, h}' \
					"/proc/$p/status" 2>/dev/null
			done >>"$W/rss.log"
			sleep 0.2
		done
	) &
	PIDS+=($!)
}
stop_rss_sampler() { touch "$W/stop.rss"; sleep 0.3; }
# rss_max NAME: the highest VmRSS sampled (kB).
rss_max() { awk -v n="$1" '$1 == n && $2 > m {m = $2} END{print m + 0}' "$W/rss.log"; }
rss_first() { awk -v n="$1" '$1 == n {print $2; exit}' "$W/rss.log"; }

# json_devices DOMID: "kind:devid" lines of the domain's JSON config.
json_devices() {
	"$LT" "$W/run" read "$1" 2>/dev/null | python3 -c '
import json, sys
t = sys.stdin.read()
try:
    d = json.loads(t[t.index("{"):])
except Exception:
    sys.exit(1)
for k, v in sorted(d.get("devices", {}).items()):
    for e in v:
        print("%s:%d" % (k, e["devid"]))'
}

# held_locks: lines "domid kind holder" of every held lock (lockd LIST).
held_locks() {
	"$CTL" --rundir "$W/run" --json locks 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
n = 0
def walk(o, path):
    global n
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("holder", "holders") and v not in (None, [], 0, ""):
                print(path, k, v)
            walk(v, path + "/" + str(k))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            walk(v, path + "/" + str(i))
walk(d, "")'
}

sanitizer_clean() {
	local n
	for n in "${SUPERVISED[@]}"; do
		if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$W/$n.log"; then
			fail "sanitizer report in $n.log"
			grep -E -A12 "AddressSanitizer|LeakSanitizer|runtime error" "$W/$n.log" | head -40
		fi
	done
}

rel_show_logs() {
	local n
	for n in "${SUPERVISED[@]}"; do
		echo "--- $n.log (last 25)"; tail -n 25 "$W/$n.log"
	done
	echo "--- be.log"; tail -n 10 "$W/be.log"
}

# Exit statuses of the supervised daemons other than 137 (our SIGKILL) and
# 143 (our SIGTERM at cleanup): a daemon that died by itself.
unexpected_exits() {
	local n
	for n in "${SUPERVISED[@]}"; do
		[ -f "$W/$n.exits" ] || continue
		grep -vxE '137|143' "$W/$n.exits" | sed "s/^/$n exited with status /"
	done
}

# On failure the world's logs are kept in $BUILD/test-logs/reliability/.
save_logs() {
	local d
	d=$ROOT/${BUILD:-build}/test-logs/reliability/$(basename "$0" .sh).$(date +%H%M%S)
	case ${BUILD:-build} in /*) d=$BUILD/test-logs/reliability/$(basename "$0" .sh).$(date +%H%M%S) ;; esac
	mkdir -p "$d" && cp "$W"/*.log "$W"/*.exits "$d"/ 2>/dev/null
	echo "logs kept in $d"
}

rel_finish() {
	local u
	u=$(unexpected_exits)
	[ -z "$u" ] || { fail "a daemon exited by itself:"; echo "$u" | head; }
	sanitizer_clean
	[ "$FAILS" -eq 0 ] || { rel_show_logs; save_logs; }
	[ -n "${KEEP:-}" ] && cp -r "$W" "/tmp/rel-keep.$$" && echo "kept /tmp/rel-keep.$$"
	finish
}
