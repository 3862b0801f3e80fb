#!/usr/bin/env bash
# Proves lockd survives restarts as specified:
#  - the store is persistent: configs and generations survive SIGKILL of
#    lockd (every write was fsynced and renamed before the reply);
#  - locks are not: a lock held when lockd died is free after the restart;
#  - a destroy in progress (state dying, dm_gone) survives the restart and
#    still refuses the fast lock (ESRCH) until it is finished;
#  - left-over *.tmp files are removed; a corrupt file is refused with a
#    clear log line, its domain's locks fail EIO, create is refused, and
#    destroy moves the file aside (dom<N>.json.corrupt) instead of losing it;
#  - SIGHUP reloads the configuration (lock_timeout) without a restart.
. "$(dirname "$0")/lib.sh"
start_lockd
tool create 1 '{"devices":{"vif":[{"devid":0}]}}' >/dev/null || fail create
tool write 1 '{"devices":{"vif":[{"devid":0},{"devid":1}]}}' >/dev/null || fail write
tool create 3 >/dev/null && tool begin 3 nodm || fail "begin 3"
$TOOL "$R" hold 1 slow 60 >"$T/h" 2>&1 & H=$!
wait_line "$T/h" held
stop_lockd KILL
printf '{"domid":4,' >"$S/dom4.json"
printf 'garbage' >"$S/dom5.json.tmp"
start_lockd
out=$(tool read 1) || fail "read after restart"
[ "$out" = 'generation=2 {"devices":{"vif":[{"devid":0},{"devid":1}]}}' ] ||
    fail "store lost: $out"
ok "store survived SIGKILL: $out"
expect_rc 0 try 1 slow
ok "locks are not persistent: slow lock of domid 1 free after restart"
expect_rc $X_ESRCH acquire 3 fast 100
expect_rc 0 finish 3
ok "destroy in progress survived the restart and could be finished"
[ -e "$S/dom5.json.tmp" ] && fail "tmp file not removed"
grep -q "corrupt dom4.json refused" "$T/lockd.log" || fail "no log for corrupt file"
expect_rc $X_EIO acquire 4 fast 100
expect_rc $X_EBUSY create 4
expect_rc 0 begin 4
[ -e "$S/dom4.json.corrupt" ] || fail "corrupt file not kept aside"
expect_rc $X_EBUSY finish 4
expect_rc 0 dmgone 4
expect_rc 0 finish 4
[ -e "$S/dom4.json" ] && fail "dom4.json still there"
ok "tmp removed; corrupt file refused (EIO), kept aside on destroy"
kill $H; wait $H 2>/dev/null

# SIGHUP: lock_timeout 200ms applies to LOCK_TIMEOUT_DEFAULT acquisitions
$TOOL "$R" hold 1 fast 60 >"$T/h" 2>&1 & H=$!
wait_line "$T/h" held
chmod 755 "$T"	# lockd reads the config as its own user
echo "lock_timeout = 200ms" >"$T/conf"
stop_lockd
kill $H; wait $H 2>/dev/null
$LOCKD -F -d --rundir "$R" --statedir "$S" -c "$T/conf" \
    --libxl-dir "$T/xenlib" >>"$T/lockd.log" 2>&1 &
LOCKD_PID=$!
sleep 0.3
$TOOL "$R" hold 1 fast 60 >"$T/h" 2>&1 & H=$!
wait_line "$T/h" held
echo "lock_timeout = 400ms" >"$T/conf"
kill -HUP $LOCKD_PID
sleep 0.2
grep -q "lock_timeout=400ms" "$T/lockd.log" || fail "no reload"
t0=$(date +%s%N)
expect_rc $X_ETIMEDOUT acquire 1 fast 0
dt=$((($(date +%s%N) - t0) / 1000000))
[ $dt -ge 400 ] && [ $dt -lt 1500 ] || fail "default timeout $dt ms after reload"
ok "SIGHUP reload: default lock timeout now 400 ms (waited $dt ms)"
