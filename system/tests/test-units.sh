#!/usr/bin/env bash
# Proves the systemd units (system/systemd/) are what docs and issue 15 ask,
# and that the daemons really run under them:
#  - exposure (`systemd-analyze security --offline=yes`, lower is better):
#    watcherd, lockd and qemu-broker at most 2.0, hotplugd at most 4.0;
#    the checker is checked (a bare unit scores above 9);
#  - every daemon: Type=notify + NotifyAccess=main, the Xen conditions
#    (/proc/xen, /dev/xen/xenbus or a Xen guest), ordered after
#    xenstored.service and xen-init-dom0.service, before
#    xendomains.service;
#  - devsep-watcherd.service and devsep-driverdomain.target conflict with
#    (and order after) xendriverdomain.service, xl devd;
#  - no restart cascade: hotplugd KillMode=mixed with a TimeoutStopSec
#    above the longest default script run (hotplug_timeout +
#    script_kill_grace), the broker KillMode=process and not PartOf
#    devsep.target;
#  - lockd's xl mode works under its unit without CAP_SYS_ADMIN: the
#    unit's BindPaths= puts libxl_dir into the state dir (done here in a
#    private mount namespace) and lockd uses it;
#  - at run time, each daemon under its unit's CapabilityBoundingSet,
#    NoNewPrivileges, SystemCallFilter deny list, MemoryDenyWriteExecute
#    and ProcSubset=pid (rebuilt by
#    build/tests/unit-run; systemd is not PID 1 here, so mount namespacing,
#    device ACLs and address-family/namespace restrictions of the units are
#    NOT exercised; Delegate=yes is: hotplugd starts in a root 0755 cgroup
#    of its own, the same one when it starts again, as systemd does it)
#    starts and sends READY=1 through $NOTIFY_SOCKET (hotplugd twice, with
#    no CAP_DAC_OVERRIDE), and
#    with the same wrappers as $BIN, a real job runs end to end: the real
#    `block` and `vif-bridge` scripts through hotplugd under hotplugd's
#    unit (it-real-block.sh, it-real-vif.sh) and a real QEMU started by the broker's launcher
#    under the broker's unit, a CD-ROM inserted and ejected over QMP
#    (unit-broker-qemu.sh).
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
T=$(mktemp -d /tmp/devsep-units.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$(dirname "$0")/../../tests/lib/qmp-reap" "$T/run"	# QEMUs outlive the broker
	# the units' cgroups (Delegate=yes), deepest first, once empty
	[ -n "${CG:-}" ] && [ -d "$CG" ] &&
		find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
command -v systemd-analyze >/dev/null || fail "no systemd-analyze"
[ -x "$BUILD/tests/unit-run" ] || fail "no $BUILD/tests/unit-run"

U=$T/units
mkdir -p "$U"
for u in system/systemd/*.service system/systemd/*.target; do
	sed "s|@SBINDIR@|/usr/sbin|g" "$u" >"$U/$(basename "$u")"
done

exposure() {
	systemd-analyze security --offline=yes "$1" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
printf '[Service]\nExecStart=/bin/true\n' >"$U/bare.service"
e=$(exposure "$U/bare.service")
awk -v e="$e" 'BEGIN { exit !(e > 9) }' || fail "checker: bare unit scored '$e'"
rm "$U/bare.service"
for pair in watcherd:2.0 lockd:2.0 qemu-broker:2.0 hotplugd:4.0; do
	d=${pair%%:*} max=${pair#*:}
	e=$(exposure "$U/devsep-$d.service")
	[ -n "$e" ] || fail "$d: no exposure"
	awk -v e="$e" -v m="$max" 'BEGIN { exit !(e <= m) }' ||
		fail "devsep-$d.service exposure $e > $max"
	ok "devsep-$d.service exposure $e (at most $max)"
done

for d in watcherd hotplugd lockd qemu-broker; do
	f=$U/devsep-$d.service
	for l in Type=notify NotifyAccess=main \
	    'ConditionPathExists=|/proc/xen' \
	    'ConditionPathExists=|/dev/xen/xenbus' \
	    'ConditionVirtualization=|xen' \
	    'After=xenstored.service xen-init-dom0.service proc-xen.mount' \
	    'Before=xendomains.service'; do
		grep -qxF "$l" "$f" || fail "$d: no '$l'"
	done
done
grep -qx KillMode=mixed "$U/devsep-hotplugd.service" || fail "hotplugd KillMode"
# the defaults: hotplug_timeout 40 s (libxl's) + script_kill_grace 2 s,
# and watcherd waits 1 s more
for u in hotplugd watcherd; do
	s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$U/devsep-$u.service")
	[ "${s:-0}" -gt 43 ] || fail "$u TimeoutStopSec '$s' <= 40 s + 2 s + 1 s"
done
grep -qx KillMode=process "$U/devsep-qemu-broker.service" || fail "broker KillMode"
grep -q '^PartOf=' "$U/devsep-qemu-broker.service" && fail "broker PartOf"
ok "notify, Xen conditions and ordering, no restart cascade"
# xl devd and watcherd never run together (docs/DEPLOY.md)
for f in devsep-watcherd.service devsep-driverdomain.target; do
	grep -qx 'Conflicts=.*xendriverdomain.service' "$U/$f" &&
		grep -qx 'After=.*xendriverdomain.service' "$U/$f" ||
		fail "$f does not conflict with xendriverdomain.service"
done
ok "watcherd and the driver-domain target conflict with xl devd"

# --- run time ---------------------------------------------------------
scripts/create-users
# unit_cmd UNIT: the unit-run prefix rebuilding UNIT's bounding set, NNP
# and SystemCallFilter deny list (groups expanded by systemd-analyze).
unit_cmd() {
	local f=$1 caps groups sc
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$f")
	groups=$(sed -n 's/^SystemCallFilter=~//p' "$f")
	[ -n "$caps" ] && [ -n "$groups" ] || fail "$f: no caps or filter"
	grep -qx NoNewPrivileges=yes "$f" || fail "$f: no NoNewPrivileges"
	# ProcSubset=pid: a /proc of pid dirs only, in the daemon's own mount
	# namespace, as systemd mounts it
	grep -qx ProcSubset=pid "$f" &&
		printf '%s' "unshare -m --propagation private sh -c 'mount -t proc -o subset=pid proc /proc && exec \"\$0\" \"\$@\"' "
	printf '%s' "$BUILD/tests/unit-run -n -c '$caps'"
	grep -qx MemoryDenyWriteExecute=yes "$f" && printf ' -m'
	# shellcheck disable=SC2086
	for sc in $(systemd-analyze syscall-filter $groups 2>/dev/null |
	    grep -E '^    [a-z0-9_]+$'); do
		printf ' -s %s' "$sc"
	done
}
W=$T/bin
mkdir -p "$W"
# Delegate=yes (hotplugd): systemd starts the daemon in the unit's own
# cgroup, root 0755 (the hierarchy's root is 0555 here: without
# CAP_DAC_OVERRIDE root cannot mkdir there); the wrapper does that, below
# $CG.  Under `ip netns exec` (it-real-vif.sh: a fresh /sys, no cgroup2
# visible) it mounts cgroup2 in that command's own mount namespace.
CGM=$(findmnt -t cgroup2 -no TARGET | head -1)
[ -n "$CGM" ] || fail "no cgroup2 hierarchy"
CGN=devsep-units.${T##*.}
CG=$CGM/$CGN
mkdir -p "$CG" "$T/cg2"
delegate() {
	grep -qx Delegate=yes "$1" || return 0
	cat <<EOS
m=\$(findmnt -t cgroup2 -no TARGET | head -1)
[ -n "\$m" ] || { m=$T/cg2; mount -t cgroup2 cgroup2 "\$m" || exit 1; }
cg=\$m/$CGN/$(basename "$1")
mkdir -p -m 0755 "\$cg" && echo \$\$ >"\$cg/cgroup.procs" || exit 1
EOS
}
for d in watcherd hotplugd lockd qemu-broker; do
	{
		echo '#!/bin/sh'
		delegate "$U/devsep-$d.service"
		echo "exec $(unit_cmd "$U/devsep-$d.service") -- $BIN/devsep-$d \"\$@\""
	} >"$W/devsep-$d"
	chmod 0755 "$W/devsep-$d"
done
for p in "$BIN"/*; do
	[ -e "$W/$(basename "$p")" ] || ln -s "$p" "$W/"
done
# The filter bites (the checker is checked): clock_settime is in @clock.
( "$BUILD/tests/unit-run" -s clock_settime -- date -s @0 >/dev/null 2>&1 ) \
	2>/dev/null
[ $? -eq 159 ] || fail "unit-run: a denied syscall did not kill (SIGSYS)"

mkdir -p "$T/run" "$T/state/libxl" "$T/scripts" "$T/images" "$T/libxl"
chmod 0755 "$T" "$T/run"
# what tmpfiles.d makes for the broker (its unit has no CAP_CHOWN)
install -d -m 0700 -o devsep-broker -g devsep-broker "$T/run/qmp"
chown devsep-lockd: "$T/state"
cat >"$T/devsep.conf" <<EOF
run_dir = $T/run
state_dir = $T/state
script_dir = $T/scripts
image_dirs = $T/images
libxl_dir = $T/libxl
EOF
notify_listener() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace").replace("\n", "|") + "\n")
PY
	PIDS+=($!)
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.02; done
	fail "notify listener"
}
# lockd's xl mode: the unit binds libxl_dir into the state dir
# (BindPaths=), done here in a private mount namespace as systemd does.
bind_libxl() {
	local line
	line=$(sed -n 's/^BindPaths=-//p' "$U/devsep-lockd.service")
	[ "$line" = /var/lib/xen:/var/lib/devsep/libxl ] ||
		fail "lockd BindPaths: '$line'"
	echo "mount --bind $T/libxl $T/state/libxl &&"
}
# The broker's launcher hides xenstore from QEMU with the unit's
# InaccessiblePaths= (no namespace of its own): its hide list is the
# unit's, and a xenstored socket (XENSTORED_PATH) is covered the way
# systemd does it, by a mode-0000 node mounted on it.
hide=$(sed -n 's/^hide\t\([^@][^\t]*\)\t.*/-\1/p' policy/launcher.policy | tr '\n' ' ')
[ "InaccessiblePaths=${hide% }" = \
    "$(grep '^InaccessiblePaths=' "$U/devsep-qemu-broker.service")" ] ||
	fail "broker InaccessiblePaths differs from launcher.policy's hide list"
python3 -c 'import socket,sys
for p in sys.argv[1:]: socket.socket(socket.AF_UNIX).bind(p)' \
    "$T/xs.sock" "$T/inaccessible.sock"
chmod 0000 "$T/inaccessible.sock"
hide_xs() { echo "mount --bind $T/inaccessible.sock $T/xs.sock &&"; }
# The broker twice: a restart finds the QMP dir its predecessor left.
# hotplugd twice: a restart finds its predecessor's job cgroups (the unit's
# cgroup is the same, as under systemd) and needs no CAP_DAC_OVERRIDE.
for d in lockd hotplugd hotplugd qemu-broker qemu-broker watcherd; do
	rm -f "$T/n.$d" "$T/n-$d.sock"
	notify_listener "$T/n-$d.sock" "$T/n.$d"
	pre= xs=$T/none
	[ $d = lockd ] && pre=$(bind_libxl)
	[ $d = qemu-broker ] && pre=$(hide_xs) xs=$T/xs.sock
	NOTIFY_SOCKET=$T/n-$d.sock XENSTORED_PATH=$xs \
	    unshare -m --propagation private sh -c "$pre exec \"\$0\" \"\$@\"" \
	    "$W/devsep-$d" -F -c "$T/devsep.conf" >"$T/$d.log" 2>&1 &
	p=$!
	PIDS+=($p)
	for _ in $(seq 100); do
		grep -q READY=1 "$T/n.$d" 2>/dev/null && break
		kill -0 $p 2>/dev/null || break
		sleep 0.05
	done
	grep -q READY=1 "$T/n.$d" 2>/dev/null ||
		{ cat "$T/$d.log"; fail "$d under its unit: no READY=1"; }
	kill -TERM $p
	wait $p
	r=$?
	[ $r -eq 0 ] || { cat "$T/$d.log"; fail "$d under its unit: exit $r"; }
	ok "$d under its unit's caps + syscall filter: READY=1, clean exit"
done
grep -q "every path to hide is already inaccessible" "$T/qemu-broker.log" ||
	fail "broker: launcher did not rely on the unit's hiding"
# ... and refuses to run when the xenstored socket is not hidden.
XENSTORED_PATH=$T/xs.sock timeout 5 "$W/devsep-qemu-broker" -F \
    -c "$T/devsep.conf" >"$T/nohide.log" 2>&1
grep -q "$T/xs.sock is not hidden" "$T/nohide.log" ||
	fail "broker ran with xenstore reachable: $(cat "$T/nohide.log")"
ok "broker: xenstore hidden by the unit (InaccessiblePaths), refused when not"
grep -q "libxl dir $T/libxl already bound on $T/state/libxl" "$T/lockd.log" &&
	! grep -q "xl mode off" "$T/lockd.log" ||
	fail "lockd: xl mode not on under its unit: $(cat "$T/lockd.log")"
ok "lockd under its unit: xl mode on through the unit's bind (no CAP_SYS_ADMIN)"

for t in watcherd/tests/it-real-block.sh watcherd/tests/it-real-vif.sh \
    system/tests/unit-broker-qemu.sh; do
	BIN=$W "$t" >"$T/it.log" 2>&1 ||
		{ tail -30 "$T/it.log"; fail "$t under the units"; }
	ok "$t passes with every daemon under its unit's caps + syscall filter"
done
echo "PASS: units"
