#!/usr/bin/env bash
# test_xsproxy.sh proves, against the real xenstored (test world), with the
# unmodified xenstore-* CLI and the real /etc/xen/scripts, that the scoped
# proxy (watcherd/xsproxy.c, driven by xsproxy-run) for one backend dir:
#  - serves reads and writes inside the job's backend dir (and directory
#    lists over 4096 bytes, via XS_DIRECTORY_PART), relative paths
#    (libxl's XENBUS_PATH=backend/...) resolved against /local/domain/<B>;
#  - refuses (EACCES, logged) writes outside it, writes to the dir itself,
#    reads outside the read scope, "..", and does not change the store then;
#  - lets the real `block add` on a file attach a loop device and write
#    node / physical-device / hotplug-status, and `block remove` detach it;
#  - lets block's sharing check read the sibling backends and the guests'
#    vm nodes, refusing a second read-write attach of the same file (busy);
#  - (when `ip netns` works) lets the real vif-bridge enslave vif5.0 to a
#    bridge inside a network namespace and write hotplug-status / the
#    frontend's mtu (the one frontend node in a vif job's scope);
#  - the whole chain: the real, sandboxed devsep-hotplugd runs block
#    add/remove and (in the namespace) vif-bridge online/offline for jobs
#    whose XENSTORED_PATH is the proxy (hp-send plays watcherd);
#  - unlinks its socket when closed.
. "$(dirname "$0")/../../tests/world/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (loop devices, netns, hotplugd)"; exit 77; }
RUN=$B/xsproxy-run
BINDIR=$ROOT/${BIN:-bin}
[ -x "$RUN" ] || { echo "no $RUN (make)"; exit 1; }
new_world
"$XW" domain create "$W" 5 >/dev/null || fail "create 5"
"$XW" domain create "$W" 6 >/dev/null || fail "create 6"
S=$W/px.sock
BE=/local/domain/0/backend/vbd/5/51712
IMG=$W/disk.img
truncate -s 4M "$IMG"
"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind vbd \
	--devid 51712 --params "$IMG" >/dev/null || fail "toolstack add vbd"
xenstore-write $BE/state 2	# as blkback does (InitWait)

# px CMD...: run CMD through a proxy for $BE, stderr to $W/px.log
px() { "$RUN" "$BE" "$S" "$@" 2>>"$W/px.log"; }

# 1. Allowed reads and writes, absolute and relative.
expect_eq "read params via proxy" "$(px xenstore-read $BE/params)" "$IMG"
expect_eq "relative read (libxl XENBUS_PATH)" \
	"$(px xenstore-read backend/vbd/5/51712/params)" "$IMG"
px xenstore-write $BE/hotplug-status connected || fail "allowed write"
expect_eq "write landed" "$(xenstore-read $BE/hotplug-status)" connected
px xenstore-write backend/vbd/5/51712/x y || fail "relative write"
expect_eq "relative write landed" "$(xenstore-read $BE/x)" y
px xenstore-rm $BE/x || fail "allowed rm"
expect_eq "rm landed" "$("$B/check-xs" read $BE/x)" "ERR ENOENT"
expect_eq "list siblings" "$(px xenstore-list backend/vbd | tr '\n' ' ')" "5 "
expect_eq "frontend vm readable" "$(px xenstore-read /local/domain/5/vm)" \
	"$(xenstore-read /local/domain/5/vm)"
px xenstore-exists $BE/nope && fail "exists on missing node"
# A list over 4096 bytes: libxenstore falls back to XS_DIRECTORY_PART.
many=(); for i in $(seq 10000 10699); do many+=(/local/domain/0/backend/vbd/$i/1/x 1); done
xenstore-write "${many[@]}" || fail "write 700 siblings"
expect_eq "big list (XS_DIRECTORY_PART) complete" \
	"$(px xenstore-list backend/vbd | sort | md5sum)" \
	"$(xenstore-list /local/domain/0/backend/vbd | sort | md5sum)"
expect_eq "big list count" "$(px xenstore-list backend/vbd | wc -l)" 701
rm_many=(); for i in $(seq 10000 10699); do rm_many+=(/local/domain/0/backend/vbd/$i); done
xenstore-rm "${rm_many[@]}"

# 2. Denials: EACCES, logged, store unchanged.
: >"$W/px.log"
px xenstore-write /local/domain/0/evil 1 && fail "write outside allowed"
expect_eq "outside write not applied" "$("$B/check-xs" read /local/domain/0/evil)" "ERR ENOENT"
px xenstore-write /local/domain/5/device/vbd/51712/state 6 && fail "frontend write allowed"
px xenstore-rm $BE && fail "rm of the backend dir itself allowed"
expect_eq "backend dir still there" "$(xenstore-read $BE/params)" "$IMG"
px xenstore-read /local/domain/5/name && fail "read outside scope allowed"
px xenstore-read $BE/../../../../name && fail ".. read allowed"
px xenstore-write $BE/../../../../../evil 1 && fail ".. write allowed"
px xenstore-write backend/vbd/5/51712/a//b 1 && fail "// write allowed"
px xenstore-write /local/domain/0/backend/vbd/5/515120/x 1 && fail "prefix-sibling write allowed"
n=$(grep -c ": denied " "$W/px.log")
[ "$n" = 8 ] || grep ": denied " "$W/px.log"
expect_eq "every denial logged" "$n" 8
grep -q "denied write /local/domain/0/evil: outside the job's scope" "$W/px.log" \
	&& ok "denial line names op, path, reason" || fail "denial log format"
grep -q "requests=.*denied=1 " "$W/px.log" && ok "denied counter" || fail "denied counter"

# 3. The real block script through the proxy: add, sharing check, remove.
xenstore-rm $BE/hotplug-status
env -i XENSTORED_PATH="$XENSTORED_PATH" PATH=/usr/sbin:/usr/bin:/sbin:/bin XENBUS_TYPE=vbd \
	XENBUS_PATH=backend/vbd/5/51712 XENBUS_BASE_PATH=backend \
	script=/etc/xen/scripts/block \
	"$RUN" "$BE" "$S" /etc/xen/scripts/block add 2>>"$W/px.log"
expect_eq "block add exit" "$?" 0
expect_eq "block: hotplug-status" "$(xenstore-read $BE/hotplug-status)" connected
LOOP=$(xenstore-read $BE/node)
case $LOOP in /dev/loop*) ok "block: node $LOOP" ;; *) fail "block: node '$LOOP'" ;; esac
losetup "$LOOP" 2>/dev/null | grep -q "$IMG" && ok "loop device backs the image" \
	|| fail "loop device not attached to $IMG"
expect_eq "block: physical-device" "$(xenstore-read $BE/physical-device)" \
	"$(stat -L -c '%t:%T' "$LOOP")"

# Sharing check (phy): a block device attached read-write to guest 5 may
# not be attached read-write to guest 6.  block lists backend/vbd, reads
# the siblings' physical-device and the guests' vm nodes: all in scope.
# (The file-backed variant cannot be used: block compares stat's hex %D
# with losetup's decimal device number and never sees file sharing.)
IMG2=$W/disk2.img; truncate -s 1M "$IMG2"
PLOOP=$(losetup -f --show "$IMG2") || fail "losetup"
blk() {	# blk BACKEND_DIR ACTION
	env -i XENSTORED_PATH="$XENSTORED_PATH" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		XENBUS_TYPE=vbd XENBUS_PATH=${1#/local/domain/0/} \
		XENBUS_BASE_PATH=backend script=/etc/xen/scripts/block \
		"$RUN" "$1" "$S" /etc/xen/scripts/block "$2" 2>>"$W/px.log"
}
BE5P=/local/domain/0/backend/vbd/5/51728
BE6=/local/domain/0/backend/vbd/6/51712
"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind vbd \
	--devid 51728 --params "$PLOOP" >/dev/null || fail "toolstack add vbd 5 phy"
"$B/actor-toolstack" add --backend-domid 0 --domid 6 --kind vbd \
	--devid 51712 --params "$PLOOP" >/dev/null || fail "toolstack add vbd 6 phy"
xenstore-write $BE5P/state 2 $BE6/state 2
: >"$W/px.log"
blk $BE5P add || fail "phy add for guest 5"
expect_eq "phy: hotplug-status" "$(xenstore-read $BE5P/hotplug-status)" connected
blk $BE6 add && fail "second rw attach of the same device succeeded"
expect_eq "sharing refused: hotplug-status" "$(xenstore-read $BE6/hotplug-status)" busy
grep -q ": denied " "$W/px.log" && fail "sharing check hit a denial: $(grep ": denied " "$W/px.log")" \
	|| ok "sharing check needed nothing outside the scope"
losetup -d "$PLOOP"
xenstore-rm $BE6
xenstore-rm $BE5P

env -i XENSTORED_PATH="$XENSTORED_PATH" PATH=/usr/sbin:/usr/bin:/sbin:/bin XENBUS_TYPE=vbd \
	XENBUS_PATH=backend/vbd/5/51712 XENBUS_BASE_PATH=backend \
	script=/etc/xen/scripts/block \
	"$RUN" "$BE" "$S" /etc/xen/scripts/block remove 2>>"$W/px.log"
expect_eq "block remove exit" "$?" 0
losetup "$LOOP" 2>/dev/null | grep -q "$IMG" && { fail "loop still attached"; losetup -d "$LOOP"; } \
	|| ok "block remove detached $LOOP"
[ -e "$S" ] && fail "socket left behind" || ok "socket unlinked on close"

# 4. The whole chain: the real devsep-hotplugd (sandboxed as in
# production) runs the real block script for a job whose XENSTORED_PATH is
# the proxy; hp-send plays watcherd.
HR=$W/hrun; mkdir -p "$HR"
# hotplugd runs each script as its own uid: script_uid_base + slot 0 here
# (one job at a time); the proxy serves only that uid (client_ok)
JOBUID=16842752
chgrp devsep-script "$IMG" && chmod 0660 "$IMG"
chmod 711 "$W"	# hp-send connects as the devsep-watcherd user
printf 'script_dir = /etc/xen/scripts\nhotplug_timeout = 20s\n' >"$W/hp.conf"
"$BINDIR/devsep-hotplugd" -F -c "$W/hp.conf" --rundir "$HR" >>"$W/hotplugd.log" 2>&1 &
HPD=$!; JOBS_TO_KILL=$HPD
wait_for test -S "$HR/hotplugd.sock" || fail "hotplugd socket"
xenstore-rm $BE/hotplug-status $BE/node $BE/physical-device $BE/physical-device-path 2>/dev/null
out=$(XSPROXY_CLIENT_UID=$JOBUID "$RUN" "$BE" "$S" "$B/hp-send" "$HR" vbd add block "$BE" "$S" 2>>"$W/px.log")
expect_eq "hotplugd ran block add via the proxy" "${out%% ms=*}" "outcome=exited code=0"
expect_eq "chain: hotplug-status" "$(xenstore-read $BE/hotplug-status)" connected
LOOP=$(xenstore-read $BE/node 2>/dev/null)
losetup "$LOOP" 2>/dev/null | grep -q "$IMG" && ok "chain: $LOOP backs the image" \
	|| fail "chain: loop device '$LOOP' not attached"
out=$(XSPROXY_CLIENT_UID=$JOBUID "$RUN" "$BE" "$S" "$B/hp-send" "$HR" vbd remove block "$BE" "$S" 2>>"$W/px.log")
expect_eq "hotplugd ran block remove via the proxy" "${out%% ms=*}" "outcome=exited code=0"
losetup "$LOOP" 2>/dev/null | grep -q "$IMG" && { fail "chain: loop still attached"; losetup -d "$LOOP"; } \
	|| ok "chain: block remove detached $LOOP"
kill $HPD; wait $HPD 2>/dev/null
grep -q ": denied " "$W/px.log" && fail "chain hit a denial: $(grep ": denied " "$W/px.log")"

# 5. vif-bridge in a network namespace.
NS=xsp$$
if ip netns add $NS 2>/dev/null; then
	VBE=/local/domain/0/backend/vif/5/0
	"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind vif \
		--devid 0 --bridge xspbr0 >/dev/null || fail "toolstack add vif"
	ip -n $NS link add xspbr0 type bridge && ip -n $NS link set xspbr0 up
	ip -n $NS link add vif5.0 type veth peer name vif5.0p
	: >"$W/px.log"
	ip netns exec $NS env -i XENSTORED_PATH="$XENSTORED_PATH" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		XENBUS_TYPE=vif XENBUS_PATH=backend/vif/5/0 \
		XENBUS_BASE_PATH=backend script=/etc/xen/scripts/vif-bridge \
		vif=vif5.0 netdev= \
		"$RUN" "$VBE" "$S" /etc/xen/scripts/vif-bridge online type_if=vif \
		2>>"$W/px.log"
	expect_eq "vif-bridge online exit" "$?" 0
	expect_eq "vif: hotplug-status" "$(xenstore-read $VBE/hotplug-status)" connected
	expect_eq "vif enslaved to the bridge" \
		"$(ip -n $NS -o link show vif5.0 | grep -o 'master [^ ]*')" "master xspbr0"
	expect_eq "vif: frontend mtu (exact rule)" \
		"$(xenstore-read /local/domain/5/device/vif/0/mtu)" "1500"
	grep -q ": denied " "$W/px.log" && fail "vif-bridge hit a denial: $(grep ": denied " "$W/px.log")"
	ip netns exec $NS env -i XENSTORED_PATH="$XENSTORED_PATH" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		XENBUS_TYPE=vif XENBUS_PATH=backend/vif/5/0 \
		XENBUS_BASE_PATH=backend script=/etc/xen/scripts/vif-bridge \
		vif=vif5.0 netdev= \
		"$RUN" "$VBE" "$S" /etc/xen/scripts/vif-bridge offline type_if=vif \
		2>>"$W/px.log"
	expect_eq "vif-bridge offline exit" "$?" 0
	ip -n $NS -o link show vif5.0 | grep -q master && fail "vif still enslaved" \
		|| ok "vif-bridge offline removed it from the bridge"

	# The same through the whole chain: a sandboxed hotplugd inside the
	# namespace runs vif-bridge for a job whose XENSTORED_PATH is the proxy.
	xenstore-rm $VBE/hotplug-status
	HR2=$W/hrun2; mkdir -p "$HR2"
	ip netns exec $NS "$BINDIR/devsep-hotplugd" -F -c "$W/hp.conf" \
		--rundir "$HR2" >>"$W/hotplugd2.log" 2>&1 &
	HPD2=$!; JOBS_TO_KILL=$HPD2
	wait_for test -S "$HR2/hotplugd.sock" || fail "hotplugd 2 socket"
	out=$(XSPROXY_CLIENT_UID=$JOBUID "$RUN" "$VBE" "$S" "$B/hp-send" "$HR2" vif online vif-bridge \
		"$VBE" "$S" vif5.0 2>>"$W/px.log")
	expect_eq "hotplugd ran vif-bridge online via the proxy" "${out%% ms=*}" \
		"outcome=exited code=0"
	expect_eq "chain: vif hotplug-status" "$(xenstore-read $VBE/hotplug-status)" connected
	expect_eq "chain: vif enslaved" \
		"$(ip -n $NS -o link show vif5.0 | grep -o 'master [^ ]*')" "master xspbr0"
	out=$(XSPROXY_CLIENT_UID=$JOBUID "$RUN" "$VBE" "$S" "$B/hp-send" "$HR2" vif offline vif-bridge \
		"$VBE" "$S" vif5.0 2>>"$W/px.log")
	expect_eq "hotplugd ran vif-bridge offline via the proxy" "${out%% ms=*}" \
		"outcome=exited code=0"
	kill $HPD2; wait $HPD2 2>/dev/null
	ip netns del $NS
else
	skip_part "vif-bridge part (cannot create a network namespace)"
fi
finish
