#!/usr/bin/env bash
# Proves `make install DESTDIR=...` produces the documented tree and that
# the installed systemd units really verify:
#  - programs: daemons and devsep-relay in sbindir, devsepctl in bindir,
#    executable; the relay's devsep-<script> links in /etc/xen/scripts;
#    man pages, the config example, sysusers.d and tmpfiles.d entries;
#  - devsep.conf is created from the example, but an existing one is never
#    overwritten by a second install;
#  - the units' ExecStart point at the installed sbindir, each daemon runs
#    with -F and Restart=on-failure, the targets want the right daemons
#    (devsep.target all four, devsep-driverdomain.target watcherd and
#    hotplugd only); the units that need devices (xenbus, loop, privcmd)
#    allow them in their closed device policy;
#  - `systemd-analyze verify` accepts every unit and target (ExecStart
#    paths are re-pointed into DESTDIR, MANPATH at the installed pages, so
#    missing binaries or man pages make it fail).  Skipping is not an
#    option: no systemd-analyze is a failure;
#  - `make uninstall` removes every installed file but a devsep.conf the
#    administrator changed (and says so).
set -u
BUILD=${BUILD:-build}
root=$(mktemp -d /tmp/devsep-install.XXXXXX)
trap 'rm -rf "$root"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

make -s install DESTDIR="$root/d" PREFIX=/usr >"$root/log" 2>&1 ||
	{ cat "$root/log"; fail "make install"; }
D=$root/d
for d in devsep-watcherd devsep-hotplugd devsep-lockd devsep-qemu-broker; do
	[ -x "$D/usr/sbin/$d" ] || fail "$d not installed in sbindir"
done
[ -x "$D/usr/bin/devsepctl" ] || fail "devsepctl not in bindir"
[ -x "$D/usr/sbin/devsep-relay" ] || fail "devsep-relay not in sbindir"
for s in block vif-bridge; do
	[ "$(readlink "$D/etc/xen/scripts/devsep-$s")" = /usr/sbin/devsep-relay ] ||
		fail "/etc/xen/scripts/devsep-$s is not a link to the relay"
done
for m in man5/devsep.conf.5 man8/devsepctl.8 man8/devsep-watcherd.8 \
    man8/devsep-hotplugd.8 man8/devsep-lockd.8 man8/devsep-qemu-broker.8 \
    man8/devsep-relay.8; do
	[ -f "$D/usr/share/man/$m" ] || fail "man page $m"
done
cmp -s system/devsep.conf.example "$D/etc/devsep/devsep.conf.example" ||
	fail "config example"
cmp -s system/devsep.conf.example "$D/etc/devsep/devsep.conf" ||
	fail "devsep.conf not created from the example"
grep -q '^u devsep-lockd ' "$D/usr/lib/sysusers.d/devsep.conf" ||
	fail "sysusers.d"
grep -q '^d /var/lib/devsep .*devsep-lockd devsep-lockd' \
	"$D/usr/lib/tmpfiles.d/devsep.conf" || fail "tmpfiles.d state dir"
grep -q '^d /run/devsep ' "$D/usr/lib/tmpfiles.d/devsep.conf" ||
	fail "tmpfiles.d run dir"
cmp -s system/udev/60-devsep-loop.rules \
	"$D/usr/lib/udev/rules.d/60-devsep-loop.rules" || fail "udev rule"

# A second install keeps the administrator's file.
echo "max_jobs = 3" >"$D/etc/devsep/devsep.conf"
make -s install DESTDIR="$D" PREFIX=/usr >"$root/log" 2>&1 ||
	{ cat "$root/log"; fail "second make install"; }
[ "$(cat "$D/etc/devsep/devsep.conf")" = "max_jobs = 3" ] ||
	fail "devsep.conf overwritten"

U=$D/usr/lib/systemd/system
for d in devsep-watcherd devsep-hotplugd devsep-lockd devsep-qemu-broker; do
	f=$U/$d.service
	grep -qx "ExecStart=/usr/sbin/$d -F" "$f" || fail "$d ExecStart"
	grep -qx 'Restart=on-failure' "$f" || fail "$d Restart"
	grep -qx 'NoNewPrivileges=yes' "$f" || fail "$d NoNewPrivileges"
	grep -qx 'SystemCallArchitectures=native' "$f" || fail "$d arch"
	grep -q '^CapabilityBoundingSet=' "$f" || fail "$d caps"
done
# Device access: xenbus (watcherd), /dev/xen/* (QEMU), the loop devices
# only (block script; never every block device: dom0's own disks).  The device policy is closed (ProtectClock and
# PrivateDevices imply it): each unit must allow exactly what it needs.
grep -qx 'DeviceAllow=/dev/xen/xenbus rw' "$U/devsep-watcherd.service" ||
	fail "watcherd: xenbus not allowed"
grep -qx 'DeviceAllow=block-loop rw' "$U/devsep-hotplugd.service" &&
grep -qx 'DeviceAllow=/dev/loop-control rw' "$U/devsep-hotplugd.service" ||
	fail "hotplugd: loop devices not allowed"
grep -q '^DeviceAllow=block-\*' "$U/devsep-hotplugd.service" &&
	fail "hotplugd: every block device allowed (dom0's disks too)"
grep -qx 'DeviceAllow=/dev/xen/privcmd rw' "$U/devsep-qemu-broker.service" &&
grep -qx 'BindPaths=-/dev/xen' "$U/devsep-qemu-broker.service" ||
	fail "broker: /dev/xen not allowed"
grep -q '^Wants=.*devsep-lockd.service.*devsep-qemu-broker.service' \
	"$U/devsep.target" || fail "devsep.target wants"
w=$(grep '^Wants=' "$U/devsep-driverdomain.target")
[ "$w" = "Wants=devsep-watcherd.service devsep-hotplugd.service" ] ||
	fail "driver domain target: $w"

command -v systemd-analyze >/dev/null || fail "no systemd-analyze"
V=$root/verify
mkdir -p "$V"
for u in "$U"/*; do
	sed "s|=/usr/sbin/|=$D/usr/sbin/|" "$u" >"$V/$(basename "$u")"
done
# A unit that does not verify must make this fail: check the checker.
printf '[Service]\nExecStart=%s/nonexistent\n' "$V" >"$V/broken.service"
if MANPATH=$D/usr/share/man systemd-analyze verify "$V/broken.service" \
    >/dev/null 2>&1; then
	fail "systemd-analyze verify accepted a broken unit"
fi
rm "$V/broken.service"
out=$(cd "$V" && MANPATH=$D/usr/share/man systemd-analyze verify \
	./*.service ./*.target 2>&1)
r=$?
echo "$out"
[ $r -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify"
# `make uninstall` takes back everything but the administrator's file.
make -s uninstall DESTDIR="$D" PREFIX=/usr >"$root/log" 2>&1 ||
	{ cat "$root/log"; fail "make uninstall"; }
grep -q "kept $D/etc/devsep/devsep.conf" "$root/log" ||
	fail "uninstall did not say it kept devsep.conf: $(cat "$root/log")"
left=$(cd "$D" && find . -type f -o -type l)
[ "$left" = "./etc/devsep/devsep.conf" ] || fail "left after uninstall: $left"
# An unchanged devsep.conf goes too.
rm -rf "$D"
make -s install DESTDIR="$D" PREFIX=/usr >"$root/log" 2>&1 || fail "install"
make -s uninstall DESTDIR="$D" PREFIX=/usr >"$root/log" 2>&1 ||
	fail "uninstall"
left=$(cd "$D" && find . -type f -o -type l)
[ -z "$left" ] || fail "left after uninstall: $left"
echo "PASS: install tree, units and uninstall"
