#!/usr/bin/env bash
# Proves the invariant checker against the real xenstored (tests/xenworld)
# and the real lockd: the backends written exactly as libxl writes them
# (actor-toolstack) are found by inv_items_from_xenstore; a device with no
# JSON entry is reported, and only it; once the JSON describes every
# device the check passes; a JSON entry without a device (stale) is
# allowed; destroying the JSON while the backends remain is reported.
. "$(dirname "$0")/lib.sh"
[ -x tests/xenworld ] || { echo "SKIP: no test world"; exit 77; }
W=$T/world
eval "$(tests/xenworld start "$W")" || fail "world"
trap 'r=$?; tests/xenworld stop "$W" >/dev/null 2>&1; (exit $r); cleanup' EXIT
tests/xenworld domain create "$W" 5 >/dev/null || fail "domain 5"
TS=$BUILD/tests/actor-toolstack
$TS add --backend-domid 0 --domid 5 --kind vif --devid 0 || fail "add vif"
$TS add --backend-domid 0 --domid 5 --kind vbd --devid 51712 || fail "add vbd"
start_lockd

tool xscheck 0 >"$T/chk" && fail "no JSON: violations missed"
[ "$(grep -c VIOLATION $T/chk)" = 2 ] || fail "$(cat $T/chk)"
ok "2 devices in xenstore, no JSON: $(tail -1 $T/chk)"

tool create 5 '{"devices":{"vif":[{"devid":0}]}}' >/dev/null || fail create
tool xscheck 0 >"$T/chk" && fail "vbd without entry missed"
grep -q "VIOLATION domid=5 xenstore kind=vbd id=51712" "$T/chk" ||
    fail "$(cat $T/chk)"
[ "$(grep -c VIOLATION $T/chk)" = 1 ] || fail "$(cat $T/chk)"
ok "only the vbd is reported"

tool write 5 '{"devices":{"vif":[{"devid":0},{"devid":7}],"vbd":[{"devid":51712}]}}' \
    >/dev/null || fail write
tool xscheck 0 >"$T/chk" || fail "described devices reported: $(cat $T/chk)"
ok "all described (a stale vif 7 entry is allowed): $(tail -1 $T/chk)"

tool begin 5 nodm && tool finish 5 || fail destroy
tool xscheck 0 >"$T/chk" && fail "JSON removed before the backends: missed"
[ "$(grep -c VIOLATION $T/chk)" = 2 ] || fail "$(cat $T/chk)"
ok "JSON destroyed while backends remain: reported"
