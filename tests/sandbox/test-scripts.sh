#!/usr/bin/env bash
# test-scripts.sh: proves that the unmodified Xen hotplug scripts work inside
# the scripts' sandbox (policy/scripts.policy, as hotplugd's launcher enters
# it: seccomp KILL mode, Landlock exec dirs, private mount namespace; here
# as uid 0 with the launcher's capabilities - the per-job uid, groups and
# the single NET_ADMIN are proven with the real launcher by
# watcherd/tests/it-real-block.sh, it-real-vif.sh and test_xsproxy.sh):
#   - block add/remove with a real loop device (file-backed image),
#   - vif-bridge online/offline with a real bridge in a network namespace,
#   - a loop device the kernel adds (none free) usable by a job's uid and
#     gid without the group disk (the node create-users made in advance),
# each writing hotplug-status through xenstore as upstream does; and that
# the same sandbox hides the xenstored socket hotplugd was started with
# (a script pointed at it cannot connect).  Runs tests/sandbox-run, which
# calls the same sandbox_enter() as hotplugd's launcher.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
RUN=$ROOT/$BUILD/tests/sandbox-run
case $BUILD in /*) RUN=$BUILD/tests/sandbox-run ;; esac
S=/etc/xen/scripts
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x "$S/block" ] && [ -x "$S/vif-bridge" ] || { echo "SKIP: no Xen scripts in $S"; exit 77; }
T=$(mktemp -d /tmp/sbx-s.XXXXXX)
NS=sbx$$
W=$(mktemp -d /tmp/xw.XXXXXX)
cleanup() {
	ip netns del "$NS" 2>/dev/null
	[ -n "${LOOP:-}" ] && losetup -d "$LOOP" 2>/dev/null
	tests/xenworld stop "$W" >/dev/null 2>&1
	rm -rf "$T" "$W"
}
trap cleanup EXIT
eval "$(tests/xenworld start "$W")" || { echo "FAIL: no test world"; exit 1; }
XS=$XENSTORED_PATH
tests/xenworld domain create "$W" 7 >/dev/null

# sbx KIND DEVPATH ENV... -- SCRIPT ARGS: run a script in hotplugd's
# sandbox; XENSTORED_PATH is given to the script only (as hotplugd does
# with the per-job socket), not to the sandboxed process itself.
sbx() {
	local xbp=$1; shift
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    XENBUS_PATH="$xbp" XENBUS_BASE_PATH=backend "$@"
}

# ---- block with a loop device
truncate -s 8M "$T/disk.img"
BP=/local/domain/0/backend/vbd/7/51712
xenstore-write $BP/params "$T/disk.img" $BP/mode w $BP/type file \
    $BP/script block $BP/frontend-id 7 $BP/online 1 $BP/state 2
sbx backend/vbd/7/51712 XENBUS_TYPE=vbd script=block \
    "$RUN" --exec-dir "$S" scripts env XENSTORED_PATH="$XS" $S/block add >"$T/block-add.log" 2>&1
st=$(xenstore-read $BP/hotplug-status 2>/dev/null)
LOOP=$(xenstore-read $BP/node 2>/dev/null)
if [ "$st" = connected ] && losetup "$LOOP" 2>/dev/null | grep -q disk.img; then
	ok "block add in the sandbox: $LOOP attached, hotplug-status connected"
else
	fail "block add: status '$st' node '$LOOP'"; tail -5 "$T/block-add.log"
fi
sbx backend/vbd/7/51712 XENBUS_TYPE=vbd script=block \
    "$RUN" --exec-dir "$S" scripts env XENSTORED_PATH="$XS" $S/block remove >"$T/block-rm.log" 2>&1 &&
    ! losetup -a | grep -q "$T/disk.img" &&
    ok "block remove in the sandbox: loop device detached" ||
    { fail "block remove"; tail -5 "$T/block-rm.log"; }
LOOP=

# ---- vif-bridge with a bridge in a network namespace
ip netns add "$NS"
ip -n "$NS" link add xenbr0 type bridge
ip -n "$NS" link add vif7.0 type veth peer name vif7p
VP=/local/domain/0/backend/vif/7/0
xenstore-write $VP/bridge xenbr0 $VP/mac 00:16:3e:00:00:07 $VP/script vif-bridge \
    $VP/frontend-id 7 $VP/online 1 $VP/state 2 $VP/handle 0
ip netns exec "$NS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    XENBUS_PATH=backend/vif/7/0 XENBUS_BASE_PATH=backend XENBUS_TYPE=vif \
    script=vif-bridge vif=vif7.0 \
    "$RUN" --exec-dir "$S" scripts env XENSTORED_PATH="$XS" $S/vif-bridge online type_if=vif \
    >"$T/vif-on.log" 2>&1
if [ "$(xenstore-read $VP/hotplug-status 2>/dev/null)" = connected ] &&
    ip -n "$NS" link show vif7.0 | grep -q "master xenbr0"; then
	ok "vif-bridge online in the sandbox: vif7.0 enslaved to xenbr0 (CAP_NET_ADMIN)"
else
	fail "vif-bridge online"; tail -5 "$T/vif-on.log"
fi
ip netns exec "$NS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    XENBUS_PATH=backend/vif/7/0 XENBUS_BASE_PATH=backend XENBUS_TYPE=vif \
    script=vif-bridge vif=vif7.0 \
    "$RUN" --exec-dir "$S" scripts env XENSTORED_PATH="$XS" $S/vif-bridge offline type_if=vif \
    >"$T/vif-off.log" 2>&1
ip -n "$NS" link show vif7.0 | grep -q "master xenbr0" &&
    fail "vif-bridge offline: still enslaved" ||
    ok "vif-bridge offline in the sandbox: vif7.0 left the bridge"

# ---- the xenstored socket hotplugd was started with is hidden
if env XENSTORED_PATH="$XS" "$RUN" scripts xenstore-read /local/domain/7/name \
    >"$T/hidden.log" 2>&1; then
	fail "a sandboxed process read xenstore through hotplugd's own XENSTORED_PATH"
else
	ok "hotplugd's xenstored socket is hidden in its mount namespace"
fi
xenstore-read /local/domain/7/name >/dev/null 2>&1 &&
    ok "... while it still works outside the sandbox" ||
    fail "xenstore unreachable outside the sandbox too (test is void)"

# ---- a loop device the kernel adds for a job (`losetup -f` with none free:
# LOOP_CTL_GET_FREE adds one) is usable by a job's identity: uid
# script_uid_base, gid devsep-script, no supplementary group (never disk).
# With udev 60-devsep-loop.rules does it; without (this host) the node
# scripts/create-users made in advance does, as devtmpfs would make a new
# node root:root 0600.  The device is added and removed again at once.
JOB_UID=16842752	# common/config.c: the default script_uid_base
LOOP_ADD='import fcntl, os, sys
k = int(sys.argv[1])
c = os.open("/dev/loop-control", os.O_RDWR)
n = fcntl.ioctl(c, 0x4C80, k)			# LOOP_CTL_ADD
try:
	os.close(os.open("/dev/loop%d" % n, os.O_RDWR))
	print("opened /dev/loop%d" % n)
finally:
	try: fcntl.ioctl(c, 0x4C81, n)		# LOOP_CTL_REMOVE
	except OSError: pass'
if [ -S /run/udev/control ]; then
	echo "note: udev runs: a new loop device's group is the udev rule's"
else
	k=0
	while [ -e "/sys/block/loop$k" ]; do k=$((k + 1)); done
	[ "$(stat -c %G "/dev/loop$k" 2>/dev/null)" = devsep-script ] ||
		fail "no /dev/loop$k of group devsep-script for the next loop device (scripts/create-users, DEVSEP_LOOP_NODES)"
	if setpriv --reuid=$JOB_UID --regid=devsep-script --clear-groups \
	    /usr/bin/python3 -c "$LOOP_ADD" "$k" >"$T/loopadd.log" 2>&1; then
		ok "a job's identity opens a loop device added for it: $(cat "$T/loopadd.log")"
	else
		fail "a job's identity cannot use a new loop device: $(tail -1 "$T/loopadd.log")"
	fi
fi

echo "test-scripts: $FAILS failure(s)"
[ $FAILS = 0 ]
