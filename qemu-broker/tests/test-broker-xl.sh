#!/usr/bin/env bash
# QMP things on xl's device models, with the REAL xl (Debian's libxl 4.17,
# tests/world/xl.sh) and a real QEMU started the way libxl starts a
# restricted device model (qemu-broker/tests/xl-dm.sh: own uid, chroot,
# libxl's pre-opened QMP socket, libxl's drive ids, xenstore and JSON as
# libxl leaves them).  lockd runs in xl mode on xl's /var/lib/xen; the
# broker reaches the QEMU through libxl's socket (libxl_run_dir).  Proves:
#  - devsepctl cd-insert, then xl cd-eject works; xl cd-insert, then
#    devsepctl cd-eject works; after each, libxl's JSON, QEMU and xenstore
#    params (backend and libxl's /libxl copy, written by watcherd in libxl
#    mode) agree (devsepctl check clean) and name what the last one set;
#  - the broker holds the QMP socket only for an operation (xl connects
#    right after) and leaves no fdset of its own behind;
#  - xl cd-insert and devsepctl cd-insert at once on one guest: both
#    finish (xl is not starved), serialized, nothing lost: the medium in
#    QEMU is the one libxl's JSON names;
#  - devsepctl disk-add on xl's QEMU: a libxl disk entry (xvdb) first, then
#    QEMU has the node, xl keeps the entry through its own rewrites;
#    unplug without a guest times out and keeps the entry;
#  - kill -9 of the broker and of its launcher during a loop of devsepctl
#    insert/eject: xl's QEMU keeps running, xl works right after (no libxl
#    lock left), no broker fdset left, QEMU and JSON agree;
#  - xl's QEMU is not the broker's: it never shows in the broker's LIST.
. "$(dirname "$0")/../../tests/world/lib.sh"
. "$ROOT/tests/world/xl.sh"
. "$ROOT/qemu-broker/tests/xl-dm.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (mount namespace)"; exit 1; }
BIN=${BIN:-bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac

new_world
xl_world_setup || exit 1
IMG=$(mktemp -d /tmp/xlimg.XXXXXX)
chmod 755 "$IMG"
chgrp devsep-broker "$IMG" && chmod 2750 "$IMG"
for f in a b c; do
	truncate -s 1M "$IMG/$f.iso"
	chgrp devsep-broker "$IMG/$f.iso" && chmod 640 "$IMG/$f.iso"
done
truncate -s 4M "$IMG/d.raw"
chgrp devsep-broker "$IMG/d.raw" && chmod 660 "$IMG/d.raw"
xl_dm_guest 5 5632 hdc || { fail "xl's device model"; finish; }
JOBS_TO_KILL=$XLDM_PID
trap 'kill -9 $XLDM_PID 2>/dev/null; kill $LPID $BPID $WPID 2>/dev/null; sleep 0.2; "$ROOT/tests/lib/qmp-reap" "$R"; rm -rf "$IMG" "$XLDM_ROOT" "$RD"; cleanup' EXIT

RD=$(mktemp -d /tmp/xlrun.XXXXXX)	# the broker's user must reach the sockets
chmod 755 "$RD"
R=$RD/run
mkdir -p "$R" "$W/state"
cat >"$W/devsep.conf" <<EOF
image_dirs = $IMG
libxl_run_dir = $XL_ROOT/run/xen
qmp_cmd_timeout = 1500ms
lock_timeout = 10s
EOF
"$BIN/devsep-lockd" -F -d -c "$W/devsep.conf" --rundir "$R" \
    --statedir "$W/state" --libxl-dir "$XL_ROOT/lib" >"$W/lockd.log" 2>&1 &
LPID=$!
"$BIN/devsep-qemu-broker" -F -d -c "$W/devsep.conf" --rundir "$R" \
    >"$W/broker.log" 2>&1 &
BPID=$!
chmod 755 "$W"		# watcherd's user must reach xenstored's socket
"$BIN/devsep-watcherd" -F -d -c "$W/devsep.conf" --rundir "$R" \
    >"$W/watcherd.log" 2>&1 &
WPID=$!
CTL() { "$BIN/devsepctl" --rundir "$R" "$@"; }
wait_for CTL status broker >/dev/null || { fail "broker up"; finish; }
wait_for grep -q "backend_mode=libxl" "$W/watcherd.log" ||
    { fail "watcherd up in libxl mode: $(tail -5 "$W/watcherd.log")"; finish; }
wait_for CTL status lockd >/dev/null || { fail "lockd up"; finish; }

medium() {	# what QEMU has in ide-5632 ("" when empty)
	xl_dm_qmp 5 '{"execute":"query-block"}' | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())["return"]
d = [b for b in r if b.get("qdev") == "ide-5632"][0]
print(d.get("inserted", {}).get("file", ""))'
}
json_medium() {
	tr -d '\0' <"$(xl_userdata_path 5)" | python3 -c '
import json, sys
d = [d for d in json.load(sys.stdin)["disks"] if d.get("is_cdrom")][0]
print(d.get("pdev_path", ""), d.get("format", ""))'
}
# the image behind QEMU's medium: its fdset's opaque names it ("raw:<path>"
# for libxl's, "devsep-cd5632" for the broker's, which inserts only a.iso)
medium_path() {
	local f; f=$(medium)
	[ -n "$f" ] || return 0
	xl_dm_qmp 5 '{"execute":"query-fdsets"}' | python3 -c '
import json, sys
want = int(sys.argv[1].rsplit("/", 1)[1])
for s in json.loads(sys.stdin.readline())["return"]:
    if s["fdset-id"] == want:
        o = s["fds"][0].get("opaque", "")
        print(o[4:] if o.startswith("raw:") else sys.argv[2] if o == "devsep-cd5632" else "?" + o)' "$f" "$IMG/a.iso"
}
fdsets() { xl_dm_qmp 5 '{"execute":"query-fdsets"}' | python3 -c '
import json, sys
print(" ".join(sorted(f.get("opaque", "") for s in json.loads(sys.stdin.readline())["return"] for f in s["fds"])))'; }
xs_params() {	# the CD-ROM's params in its backend and in libxl's copy
	echo "$(xenstore-read /local/domain/0/backend/qdisk/5/5632/params)|$(xenstore-read /libxl/5/device/vbd/5632/params)"
}
check_clean() {
	XENSTORED_PATH=$XENWORLD_DIR/socket CTL check >"$W/chk" 2>&1 &&
	    ok "$1: devsepctl check clean" || fail "$1: devsepctl check: $(cat "$W/chk")"
}

# devsepctl cd-insert, then xl cd-eject
if CTL cd-insert 5 5632 "$IMG/a.iso" >"$W/out" 2>&1; then ok "devsepctl cd-insert on xl's QEMU: $(cat "$W/out")"
else fail "devsepctl cd-insert: $(cat "$W/out")"; tail -5 "$W/broker.log"; fi
grep -q "xenstore=updated" "$W/out" || fail "xenstore not updated: $(cat "$W/out")"
expect_eq "JSON after devsepctl cd-insert" "$(json_medium)" "$IMG/a.iso raw"
expect_eq "xenstore params after devsepctl cd-insert (as libxl writes them)" \
    "$(xs_params)" "aio:$IMG/a.iso|aio:$IMG/a.iso"
case $(medium) in /dev/fdset/*) ok "QEMU has the medium ($(medium))" ;;
*) fail "QEMU medium: '$(medium)'" ;; esac
check_clean "after devsepctl cd-insert"
run_xl cd-eject 5 hdc && ok "xl cd-eject after devsepctl cd-insert ($XL_MS ms)" ||
    fail "xl cd-eject: $(cat "$XL_ERR")"
expect_eq "QEMU after xl cd-eject" "$(medium)" ""
expect_eq "JSON after xl cd-eject" "$(json_medium)" " empty"
expect_eq "xenstore params after xl cd-eject" "$(xs_params)" "|"
expect_eq "fdsets after xl's eject (broker's released, libxl's freed)" "$(fdsets)" ""

# xl cd-insert, then devsepctl cd-eject
run_xl cd-insert 5 hdc "$IMG/b.iso" && ok "xl cd-insert ($XL_MS ms)" ||
    fail "xl cd-insert: $(cat "$XL_ERR")"
check_clean "after xl cd-insert"
expect_eq "xenstore params after xl cd-insert" "$(xs_params)" "aio:$IMG/b.iso|aio:$IMG/b.iso"
if CTL cd-eject 5 5632 >"$W/out" 2>&1; then ok "devsepctl cd-eject after xl cd-insert"
else fail "devsepctl cd-eject: $(cat "$W/out")"; fi
expect_eq "QEMU after devsepctl cd-eject" "$(medium)" ""
expect_eq "JSON after devsepctl cd-eject" "$(json_medium)" " empty"
expect_eq "xenstore params after devsepctl cd-eject" "$(xs_params)" "|"
expect_eq "fdsets after devsepctl cd-eject" "$(fdsets)" ""

# both at once, 5 rounds: serialized, nothing lost
for i in 1 2 3 4 5; do
	run_xl cd-insert 5 hdc "$IMG/c.iso" & X=$!
	# odd rounds: xl is well under way first (devsep then finds a medium)
	[ $((i % 2)) = 1 ] && sleep 0.05
	CTL cd-insert 5 5632 "$IMG/a.iso" >"$W/out" 2>&1; drc=$?
	wait $X; xrc=$?
	[ $xrc = 0 ] || fail "round $i: xl cd-insert failed: $(cat "$XL_ERR")"
	jm=$(json_medium); qm=$(medium_path)
	[ -n "$qm" ] || fail "round $i: QEMU has no medium (json: $jm)"
	case "$jm" in "$IMG/a.iso raw"|"$IMG/c.iso raw") ;;
	*) fail "round $i: JSON medium '$jm'" ;; esac
	[ "$qm raw" = "$jm" ] || fail "round $i: QEMU has $qm, JSON says $jm"
	[ "$(xs_params)" = "aio:$qm|aio:$qm" ] ||
	    fail "round $i: xenstore params $(xs_params), QEMU has $qm"
	# devsep refuses (EEXIST) when xl got there first; xl replaces devsep's
	[ $drc = 0 ] || grep -q "eject first" "$W/out" ||
	    fail "round $i: devsepctl cd-insert: $(cat "$W/out")"
	check_clean "round $i (xl rc $xrc, devsepctl rc $drc, QEMU and JSON: ${jm% raw})"
	run_xl cd-eject 5 hdc || fail "round $i: xl cd-eject: $(cat "$XL_ERR")"
done
expect_eq "no medium, no fdset at the end" "$(medium) $(fdsets)" " "

# kill -9 of the broker, then of its launcher, during a loop of devsepctl
# insert/eject on xl's QEMU: lockd drops the dead broker's libxl locks at
# once, so xl works right after; QEMU keeps running, holds no fdset of the
# broker, and its medium is the one libxl's JSON names
start_broker() {
	"$BIN/devsep-qemu-broker" -F -d -c "$W/devsep.conf" --rundir "$R" \
	    >>"$W/broker.log" 2>&1 &
	BPID=$!
	wait_for CTL status broker >/dev/null || fail "broker restart"
}
loop() {
	local i
	for i in $(seq 300); do
		CTL cd-insert 5 5632 "$IMG/a.iso" >/dev/null 2>&1
		CTL cd-eject 5 5632 >/dev/null 2>&1
	done
}
loop & LOOP=$!
sleep 0.5
kill -9 $BPID; wait $BPID 2>/dev/null
start_broker
sleep 0.5
kill -9 "$("$B/brokerc" "$R" status | jq .launcher_pid)" || fail "no launcher pid"
wait $BPID 2>/dev/null
start_broker
sleep 0.3
kill $LOOP; wait $LOOP 2>/dev/null
sleep 0.3
kill -0 "$XLDM_PID" && ok "xl's QEMU survived broker and launcher kill -9" ||
    fail "xl's QEMU died"
run_xl cd-insert 5 hdc "$IMG/b.iso" &&
    ok "xl cd-insert right after the kills: no libxl lock left ($XL_MS ms)" ||
    fail "xl cd-insert after the kills: $(cat "$XL_ERR")"
expect_eq "JSON names xl's medium" "$(json_medium)" "$IMG/b.iso raw"
expect_eq "QEMU has it" "$(medium_path)" "$IMG/b.iso"
expect_eq "no broker fdset left" "$(fdsets | tr ' ' '\n' | grep -c devsep)" 0
check_clean "after the kills"
run_xl cd-eject 5 hdc || fail "xl cd-eject: $(cat "$XL_ERR")"
ls "$XL_ROOT/lib" | grep -q "userdata-l\." && fail "libxl lock files left: $(ls "$XL_ROOT/lib")"

# disk hotplug on xl's QEMU (virtio-blk: libxl's QEMU has no SCSI
# controller): a libxl disk entry before QEMU gets it; QEMU has the node;
# xl still reads and rewrites the JSON with it (xl cd-insert); unplug
# needs the guest (ACPI), which this world has not: ETIMEDOUT and the entry
# is kept (seed 002: nothing in QEMU without its JSON entry)
disk_in_json() {
	tr -d '\0' <"$(xl_userdata_path 5)" | python3 -c '
import json, sys
print(" ".join("%s:%s:%s" % (d["vdev"], d.get("pdev_path"), d.get("readwrite", 0))
               for d in json.load(sys.stdin)["disks"] if not d.get("is_cdrom")))'
}
if CTL disk-add 5 51728 "$IMG/d.raw" --bus virtio >"$W/out" 2>&1; then
	ok "devsepctl disk-add on xl's QEMU: $(cat "$W/out")"
else fail "devsepctl disk-add: $(cat "$W/out")"; fi
expect_eq "libxl's JSON has the disk" "$(disk_in_json)" "xvdb:$IMG/d.raw:1"
xl_dm_qmp 5 '{"execute":"query-block"}' | grep -q '"node-name": "node-disk51728"' &&
    ok "QEMU has node-disk51728" || fail "QEMU has no disk node: $(xl_dm_qmp 5 '{"execute":"query-block"}')"
check_clean "after devsepctl disk-add"
run_xl cd-insert 5 hdc "$IMG/b.iso" || fail "xl cd-insert with the disk: $(cat "$XL_ERR")"
expect_eq "xl kept the hot-plugged disk in its JSON" "$(disk_in_json)" "xvdb:$IMG/d.raw:1"
run_xl cd-eject 5 hdc || fail "xl cd-eject: $(cat "$XL_ERR")"
CTL disk-remove 5 51728 >"$W/out" 2>&1
grep -qi "timed out\|ETIMEDOUT" "$W/out" && ok "disk-remove without a guest: $(head -c 120 "$W/out")" ||
    fail "disk-remove: $(cat "$W/out")"
expect_eq "entry kept while QEMU may hold the disk" "$(disk_in_json)" "xvdb:$IMG/d.raw:1"
CTL disk-add 5 51728 "$IMG/d.raw" >"$W/out" 2>&1 && fail "second disk-add accepted"
grep -q "remove first" "$W/out" && ok "a second disk-add: EEXIST" || fail "second disk-add: $(cat "$W/out")"

expect_eq "broker lists no QEMU of its own" "$("$B/brokerc" "$R" list all | jq '.domains | length')" 0
kill -0 "$XLDM_PID" && ok "xl's QEMU untouched" || fail "xl's QEMU died"
finish
