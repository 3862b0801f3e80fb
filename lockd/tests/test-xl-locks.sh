#!/usr/bin/env bash
# xl mode: for a domain that libxl manages (its userdata JSON exists in
# libxl_dir, here a private $T/xenlib, never the host's /var/lib/xen),
# devsep's locks are libxl's lock files and the config is libxl's JSON.
# libxl's side is played by libxl-actor.py, which locks and writes the way
# libxl 4.17 does (blocking flock in the kernel, stat == fstat, unlink on
# release).  Proves, through the real daemon (as root it drops to
# devsep-lockd, chroots, and sees libxl's dir only through its bind mount):
#  - exclusion both ways: xl holding libxl's fast lock makes a devsep
#    acquire wait, and the reverse; 8 xl + 8 devsep processes x 25
#    read-modify-writes of one JSON counter lose no update;
#  - lockd's loop is not blocked by a wait for libxl's flock: another
#    domain's lock is served at once meanwhile;
#  - a waiting devsep owner gets the lock within a few ms of xl's release;
#    kill -9 of a devsep holder releases libxl's lock at once;
#  - slow = libxl-device-changes-lock, fast = domain-userdata-lock; try
#    gives EAGAIN, a timed wait ETIMEDOUT and leaves no flock behind;
#    released lock files are unlinked (libxl's protocol);
#  - the JSON is written like libxl (0600, trailing NUL, no temp file left)
#    and keeps every field; an xl domain cannot be DOMAIN_CREATEd; its
#    JSON gone: ESRCH; two JSON files for one domid: EIO.
. "$(dirname "$0")/lib.sh"
export LIBXL_DIR=$T/xenlib
XA="python3 $(dirname "$0")/libxl-actor.py $LIBXL_DIR"
D=5 U=6b3a4c1e-0b52-4f6e-9a43-3c2b1d0e5f77
mkdir -p "$LIBXL_DIR"
$XA $D $U mkjson
start_lockd
grep -q "xl mode: libxl's locks and JSON" "$T/lockd.log" || fail "xl mode off"
tool create 1 >/dev/null || fail "create lockd domain 1"

ms() { echo $(($(date +%s%N) / 1000000)); }

# xl holds the fast lock: devsep waits; the loop serves domain 1 meanwhile
$XA $D $U hold fast 1 >"$T/x" 2>&1 & X=$!
wait_line "$T/x" held
t0=$(ms)
tool acquire $D fast 5000 >"$T/w" 2>&1 & W=$!
sleep 0.2
t1=$(ms); tool read 1 >/dev/null || fail "domain 1 not served"
t2=$(ms)
[ $((t2 - t1)) -lt 150 ] || fail "domain 1 took $((t2 - t1)) ms while a flock waits"
kill -0 $W 2>/dev/null || fail "devsep did not wait for xl's lock: $(cat $T/w)"
wait $W || fail "devsep acquire failed: $(cat $T/w)"
t3=$(ms); wait $X
waited=$((t3 - t0))
[ $waited -ge 900 ] || fail "devsep got the lock after $waited ms, xl held it 1 s"
ok "xl holds domain-userdata-lock: devsep waited $waited ms; domain 1 served in $((t2 - t1)) ms meanwhile"

# devsep holds the fast lock: xl waits; kill -9 of the holder frees it
$TOOL "$R" hold $D fast 60 >"$T/h" 2>&1 & H=$!
wait_line "$T/h" held
[ -e "$LIBXL_DIR/userdata-l.$D.$U.domain-userdata-lock" ] || fail "no libxl lock file"
$XA $D $U hold fast 0 >"$T/x" 2>&1 & X=$!
sleep 0.3
grep -q held "$T/x" && fail "xl got the lock while devsep held it"
t0=$(ms); kill -9 $H
wait_line "$T/x" held
dt=$(($(ms) - t0))
[ $dt -lt 500 ] || fail "xl served only $dt ms after kill -9 of the holder"
wait $X
ok "devsep holds it: xl waits; kill -9 of the devsep holder: xl served in $dt ms"

# devsep's slow lock holds libxl's qmp-socket-lock too (libxl takes it
# inside the device-changes lock whenever it talks QMP)
$TOOL "$R" hold $D slow 60 >"$T/h" 2>&1 & H=$!
wait_line "$T/h" held
$XA $D $U hold qmp 0 >"$T/x" 2>&1 & X=$!
sleep 0.3
grep -q held "$T/x" && fail "xl got qmp-socket-lock while devsep held the slow lock"
kill $H; wait $H 2>/dev/null
wait_line "$T/x" held
wait $X
ok "devsep's slow lock includes libxl's qmp-socket-lock"

# slow = libxl-device-changes-lock; try EAGAIN; timeout leaves no flock
$XA $D $U hold slow 2 >"$T/x" 2>&1 & X=$!
wait_line "$T/x" held
expect_rc $X_EAGAIN try $D slow
grep -q "libxl-device-changes-lock is held" "$T/out" || fail "message: $(cat $T/out)"
tool try $D fast >/dev/null || fail "fast lock not free while xl holds the slow one"
t0=$(ms)
expect_rc $X_ETIMEDOUT acquire $D slow 300
dt=$(($(ms) - t0))
[ $dt -ge 300 ] && [ $dt -lt 1500 ] || fail "timeout after $dt ms, wanted ~300"
wait $X
timeout 2 $XA $D $U hold slow 0 >/dev/null || fail "a flock was left behind"
ok "slow = libxl-device-changes-lock: EAGAIN, ETIMEDOUT after $dt ms, nothing left held"
ls "$LIBXL_DIR" | grep -q "userdata-l\." && fail "lock files left: $(ls $LIBXL_DIR)"
ok "released lock files are unlinked"

# both toolstacks read-modify-write one counter (an overlap loses one)
pids=()
for i in 1 2 3 4 5 6 7 8; do
	$XA $D $U contend 25 >"$T/xc$i" 2>&1 & pids+=($!)
	$TOOL "$R" contend $D 25 >"$T/dc$i" 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "contender failed: $(cat $T/xc* $T/dc*)"; done
n=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1],'rb').read()[:-1])['counter'])" \
    "$LIBXL_DIR/userdata-d.$D.$U.libxl-json") || fail "JSON unreadable"
[ "$n" = 400 ] || fail "lost updates: counter $n, wanted 400"
ok "8 xl + 8 devsep processes x 25 increments: counter $n"

# fairness: 4 xl processes take the fast lock back to back (JSON
# read-modify-write each time) while devsep asks 10 times: devsep polls
# (LOCK_NB every 5 ms) while xl waits in the kernel's queue, yet it is
# never starved (each wait well under its 5 s timeout)
xp=()
for i in 1 2 3 4; do $XA $D $U contend 60 >/dev/null 2>&1 & xp+=($!); done
sleep 0.2
max=0 waits=""
for k in $(seq 10); do
	out=$(tool acquire $D fast 5000) || fail "devsep starved by xl: $out"
	w=${out#waited_ms=}; waits="$waits $w"
	[ "$w" -gt "$max" ] && max=$w
done
for p in "${xp[@]}"; do wait "$p" || fail "xl contender failed"; done
[ "$max" -lt 2000 ] || fail "devsep waited up to $max ms behind xl"
ok "fairness: devsep's 10 waits behind 4 busy xl processes (ms):$waits"

# the JSON as libxl writes it, every field kept
f=$LIBXL_DIR/userdata-d.$D.$U.libxl-json
tool write $D "$(tool read $D | sed 's/^generation=[0-9]* //' |
    python3 -c 'import json,sys; o=json.load(sys.stdin); o["disks"][0]["pdev_path"]="/iso/a.iso"; print(json.dumps(o))')" \
    >/dev/null || fail "write"
[ "$(stat -c %a "$f")" = 600 ] || fail "mode $(stat -c %a "$f")"
tail -c 1 "$f" | od -An -c | grep -q '\\0' || fail "no trailing NUL"
ls "$LIBXL_DIR" | grep -q "userdata-n\." && fail "temp file left"
python3 - "$f" <<'PY' || fail "fields lost"
import json, sys
o = json.loads(open(sys.argv[1], 'rb').read()[:-1])
assert o["disks"][0]["pdev_path"] == "/iso/a.iso"
assert o["b_info"]["type.hvm"]["firmware"] == "bios" and o["counter"] == 640
assert o["nics"][0]["mac"] == "00:16:3e:00:00:01" and o["on_reboot"] == "restart"
PY
ok "config write: libxl's layout (0600, NUL, rename), every field kept"

# lifecycle: no DOMAIN_CREATE of an xl domain; JSON gone; ambiguous
expect_rc $X_EEXIST create $D
grep -q "managed by libxl" "$T/out" || fail "message: $(cat $T/out)"
tool list | grep -q '"toolstack": *"libxl"' || fail "LIST lacks the xl domain"
cp "$f" "$LIBXL_DIR/userdata-d.7.00000000-0000-0000-0000-000000000001.libxl-json"
cp "$f" "$LIBXL_DIR/userdata-d.7.00000000-0000-0000-0000-000000000002.libxl-json"
expect_rc $X_EIO acquire 7 fast 100
grep -q "two libxl userdata JSON files" "$T/out" || fail "message: $(cat $T/out)"
rm "$f"
expect_rc $X_ESRCH acquire $D fast 100
tool status >/dev/null || fail "lockd died"
ok "DOMAIN_CREATE refused (EEXIST), two JSONs EIO, JSON gone ESRCH"
