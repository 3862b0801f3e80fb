#!/usr/bin/env bash
# Proves debian/ builds installable packages, split by role:
#  - `dpkg-buildpackage -us -uc -b` (system/build-deb: a clean copy of
#    the tree, nocheck, parallel) builds devsep-common, devsepctl,
#    devsep-driverdomain and devsep-dom0; lintian finds no error;
#  - each package holds exactly its files: a driver domain
#    (devsep-driverdomain + devsepctl + devsep-common) gets watcherd and
#    hotplugd with their units and target, never lockd or the broker;
#    devsep-dom0 adds lockd, the broker and devsep.target; devsep.conf is a
#    conffile;
#  - installed with dpkg into a scratch root (--root, maintainer scripts
#    run chrootless with DPKG_ROOT): the system users and the devsep group
#    exist there, /var/lib/devsep belongs to devsep-lockd (0700),
#    /run/devsep exists; purging removes every file again and keeps
#    nothing but what the admin changed;
#  - maintainer scripts: nothing is enabled or started on installation;
#    the broker is neither stopped (prerm, upgrade) nor restarted
#    (postinst) by an upgrade, while watcherd and hotplugd are restarted;
#    devsep-driverdomain ships the udev rule of the loop devices (group
#    devsep-script) and its postinst re-triggers them (not under DPKG_ROOT).
# Prints the build time (the slow part, ~15 s on 2 CPUs).
set -u
T=$(mktemp -d /tmp/devsep-debtest.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
for c in dpkg-buildpackage dh lintian; do
	command -v $c >/dev/null || fail "no $c (scripts/install-deps)"
done

t0=$(date +%s.%N)
system/build-deb "$T/out" >/dev/null || fail "package build"
t1=$(date +%s.%N)
ok "packages built in $(echo "$t1 - $t0" | bc | cut -c1-5) s"
V=$(dpkg-parsechangelog -S Version)
A=$(dpkg --print-architecture)
deb() { echo "$T/out/${1}_${V}_$2.deb"; }
for p in devsep-common:all devsepctl:$A devsep-driverdomain:$A devsep-dom0:$A; do
	[ -f "$(deb "${p%%:*}" "${p#*:}")" ] || fail "no package ${p%%:*}"
done
lintian --fail-on error \
    "$T"/out/*.changes >"$T/lintian" 2>&1 ||
	{ cat "$T/lintian"; fail "lintian errors"; }
ok "lintian: no error ($(grep -c '^W:' "$T/lintian") warnings)"

# files PACKAGE ARCH: the package's files (not directories), sorted.
files() {
	dpkg-deb -c "$(deb "$1" "$2")" | awk '{ print $6 }' |
		grep -v '/$' | sed 's|^\.||' |
		grep -v '^/usr/share/doc/\|^/usr/share/lintian/overrides/' | sort
}
expect_files() {
	local p=$1 a=$2; shift 2
	printf '%s\n' "$@" | sort >"$T/want"
	files "$p" "$a" >"$T/got"
	diff -u "$T/want" "$T/got" >"$T/diff" ||
		{ cat "$T/diff"; fail "$p: file list"; }
}
# every policy of the tree (policy/*.policy) is shipped
expect_files devsep-common all /etc/devsep/devsep.conf \
	/usr/lib/sysusers.d/devsep.conf /usr/lib/tmpfiles.d/devsep.conf \
	$(for p in policy/*.policy; do echo "/usr/share/devsep/$p"; done) \
	/usr/share/man/man5/devsep-policy.5.gz /usr/share/man/man5/devsep.conf.5.gz
expect_files devsepctl "$A" /usr/bin/devsepctl /usr/share/man/man8/devsepctl.8.gz
expect_files devsep-driverdomain "$A" /usr/sbin/devsep-watcherd \
	/usr/sbin/devsep-hotplugd /lib/systemd/system/devsep-watcherd.service \
	/lib/systemd/system/devsep-hotplugd.service \
	/lib/systemd/system/devsep-driverdomain.target \
	/usr/lib/udev/rules.d/60-devsep-loop.rules \
	/usr/share/man/man8/devsep-watcherd.8.gz \
	/usr/share/man/man8/devsep-hotplugd.8.gz
expect_files devsep-dom0 "$A" /usr/sbin/devsep-lockd \
	/usr/sbin/devsep-qemu-broker /lib/systemd/system/devsep-lockd.service \
	/lib/systemd/system/devsep-qemu-broker.service \
	/lib/systemd/system/devsep.target \
	/usr/share/man/man8/devsep-lockd.8.gz \
	/usr/share/man/man8/devsep-qemu-broker.8.gz \
	/usr/sbin/devsep-relay /usr/share/man/man8/devsep-relay.8.gz \
	/etc/xen/scripts/devsep-block /etc/xen/scripts/devsep-vif-bridge \
	/etc/xen/scripts/devsep-vif-route /etc/xen/scripts/devsep-vif-nat \
	/etc/xen/scripts/devsep-vif-openvswitch
dpkg-deb -f "$(deb devsep-driverdomain "$A")" Depends | grep -q devsep-dom0 &&
	fail "driver domain package depends on devsep-dom0"
dpkg-deb -e "$(deb devsep-common all)" "$T/common"
grep -qx /etc/devsep/devsep.conf "$T/common/conffiles" || fail "conffile"
ok "file lists: driver domain = watcherd + hotplugd, dom0 adds lockd + broker"

# Maintainer scripts.
dpkg-deb -e "$(deb devsep-dom0 "$A")" "$T/dom0"
dpkg-deb -e "$(deb devsep-driverdomain "$A")" "$T/dd"
cat "$T"/dom0/p* "$T"/dd/p* >"$T/scripts"
# dh_installsystemd without --no-enable enables new installations ("was-enabled
# defaults to true"); with it, only units the admin enabled are re-linked.
grep -q "was-enabled defaults to true" "$T/scripts" &&
	fail "a unit is enabled on installation"
[ "$(grep -c "deb-systemd-helper debian-installed" "$T/scripts")" = 6 ] ||
	fail "not every unit installed with --no-enable"
# prerm stops the broker on removal only (the line before says so).
grep -B1 "stop 'devsep-qemu-broker.service'" "$T/dom0/prerm" | head -1 |
	grep -q '"$1" = remove' ||
	fail "devsep-dom0 prerm may stop the broker on upgrade: $(cat "$T/dom0/prerm")"
grep -q "qemu-broker" "$T/dom0/preinst" && fail "preinst touches the broker"
grep "deb-systemd-invoke" "$T/dom0/postinst" | grep qemu-broker |
	grep -qv "deb-systemd-invoke start 'devsep-qemu-broker.service'" &&
	fail "devsep-dom0 postinst restarts the broker"
grep -q "deb-systemd-invoke \$_dh_action 'devsep-lockd.service'" \
    "$T/dom0/postinst" || fail "lockd not restarted on upgrade"
grep -q "deb-systemd-invoke \$_dh_action 'devsep-hotplugd.service'.*'devsep-watcherd.service'\|deb-systemd-invoke \$_dh_action 'devsep-watcherd.service'.*'devsep-hotplugd.service'" \
    "$T/dd/postinst" || fail "watcherd/hotplugd not restarted on upgrade"
# the loop devices get the scripts' group at once, never in another root
grep -q "udevadm trigger --action=change --subsystem-match=block" "$T/dd/postinst" &&
grep -q 'DPKG_ROOT' "$T/dd/postinst" ||
	fail "devsep-driverdomain postinst: no guarded udevadm trigger of the loop devices"
ok "maintainer scripts: nothing enabled; broker never stopped/restarted by an upgrade; loop devices re-triggered"

# Into a scratch root.
R=$T/root
mkdir -p "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/info"
: >"$R/var/lib/dpkg/status"
DPKG="dpkg --root=$R --force-script-chrootless --force-depends --force-not-root"
$DPKG -i "$(deb devsep-common all)" "$(deb devsepctl "$A")" \
    "$(deb devsep-driverdomain "$A")" "$(deb devsep-dom0 "$A")" \
    >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "dpkg -i"; }
for u in devsep-watcherd devsep-hotplugd devsep-lockd devsep-broker; do
	grep -q "^$u:" "$R/etc/passwd" || fail "user $u not created"
done
grep -q "^devsep:" "$R/etc/group" || fail "group devsep not created"
lu=$(awk -F: '$1 == "devsep-lockd" { print $3 }' "$R/etc/passwd")
[ "$(stat -c '%u %a' "$R/var/lib/devsep")" = "$lu 700" ] ||
	fail "/var/lib/devsep: $(stat -c '%u %a' "$R/var/lib/devsep")"
[ -d "$R/run/devsep" ] || fail "/run/devsep"
bu=$(awk -F: '$1 == "devsep-broker" { print $3 }' "$R/etc/passwd")
[ "$(stat -c '%u %a' "$R/run/devsep/qmp")" = "$bu 700" ] ||
	fail "/run/devsep/qmp: $(stat -c '%u %a' "$R/run/devsep/qmp")"
for f in /usr/sbin/devsep-watcherd /usr/sbin/devsep-qemu-broker \
    /usr/bin/devsepctl /lib/systemd/system/devsep.target; do
	[ -e "$R$f" ] || fail "$f not installed"
done
"$R/usr/sbin/devsep-watcherd" -V | grep -q "$V" || fail "installed watcherd -V"
ok "installed into a scratch root: users, group, state and run dirs"
# A reinstall runs the upgrade paths of every maintainer script.  Purge
# leaves the users and Xen's own /var/log/xen/xen-hotplug.log (tmpfiles.d
# gives it to the scripts' group; the Xen scripts of xl log there too).
$DPKG -i "$(deb devsep-dom0 "$A")" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; fail "upgrade"; }
$DPKG --purge devsep-dom0 devsep-driverdomain devsepctl devsep-common \
    >"$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "purge"; }
left=$(cd "$R" && find . -path ./var/lib/dpkg -prune -o -path ./etc/passwd \
    -o -path ./etc/group -o -path ./etc/shadow -o -path ./etc/gshadow \
    -o -path './etc/*-' -o -path ./etc/.pwd.lock \
    -o -path ./var/log/xen/xen-hotplug.log -o -type f -print \
    -o -type l -print)
[ -z "$left" ] || fail "left after purge: $left"
ok "upgrade and purge: no file left"
echo "PASS: Debian packages"
