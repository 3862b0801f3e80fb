#!/usr/bin/env bash
# it-control.sh proves watcherd.sock's permission matrix and requests:
#  - admin (root): STATUS / STATS / DEVICES answer JSON with the device's
#    kind, states, hotplug-status, phase and last script; the domid filter
#    works; STATUS starts with common/status's header; STATS histograms
#    are common/hist's (le_ms buckets, open bucket last) and devsepctl
#    stats renders them as buckets;
#  - CDROM_UPDATE writes params/type/mode of a cdrom vbd backend only;
#    refused with ENOENT (no backend), EMEDIUMTYPE (a disk), EINVAL (bad
#    type, non-printable params);
#  - the broker's user may send CDROM_UPDATE but not STATUS; lockd's user
#    may send nothing; an unknown type or a message with trailing bytes
#    drops the peer and the daemon keeps serving.
. "$(dirname "$0")/wdlib.sh"
C=$B/wd-client
setup
S=$W/run/watcherd.sock
"$XW" domain create "$W" 6 >/dev/null || fail "create 6"
add_dev vif 0 test-hp
"$B/actor-toolstack" add --backend-domid 0 --domid 6 --kind vif --devid 1 \
	--script test-hp || fail "add dom6"
add_dev vbd 5632 test-hp --params /iso/a.iso
xenstore-write "$(be vbd 5632)/device-type" cdrom
add_dev vbd 51712 test-hp --params /dev/loop7
wait_for node_is "$(be vif 0)/hotplug-status" connected || fail "attached"
wait_for node_is /local/domain/0/backend/vif/6/1/hotplug-status connected || fail "6 attached"
wait_for grep -q "domid=6 kind=vif devid=1 attached" "$W/watcherd.log" || fail "6 attached log"
wait_for grep -q "domid=5 kind=vif devid=0 attached" "$W/watcherd.log" || fail "5 attached log"

out=$("$C" "$S" status); echo "$out"
echo "$out" | grep -q '"daemon":"watcherd"' && ok "status daemon" || fail "status"
echo "$out" | grep -q '"hotplugd":true' && ok "status hotplugd" || fail "status hotplugd"
echo "$out" | grep -q '"uptime_s":[0-9]*,"sandbox":{' && ok "status common header" \
	|| fail "status header: $out"
out=$("$C" "$S" stats)
echo "$out" | grep -q '"attached":[1-9]' && ok "stats attached" || fail "stats: $out"
echo "$out" | grep -q '"attach_latency_ms":\[{"count":[0-9]*,"le_ms":1}' \
	&& ok "latency histogram" || fail "hist: $out"
echo "$out" | grep -Eq '"attach_latency_ms":\[[^]]*"count":[1-9][^]]*"le_ms":"inf"}\]' \
	&& ok "histogram counts, open bucket last" || fail "hist counts: $out"
out=$("$BIN/devsepctl" --rundir "$W/run" stats watcherd)
echo "$out" | grep -Eq '^watcherd  *attach_latency_ms  *<=1ms:[0-9]+ .* inf:[0-9]+$' \
	&& ok "devsepctl renders the histogram" || fail "devsepctl stats: $out"
out=$("$C" "$S" devices 6)
echo "$out" | grep -q '"count":1' && ok "domid filter" || fail "filter: $out"
echo "$out" | grep -q '"kind":"vif","domid":6,"devid":1' && ok "device fields" \
	|| fail "fields: $out"
echo "$out" | grep -q '"phase":"connected"' && ok "phase" || fail "phase"
echo "$out" | grep -q '"last_script":{"action":"add","outcome":"exited","code":0' \
	&& ok "last script" || fail "last script: $out"
out=$("$C" "$S" devices)
echo "$out" | grep -q '"count":4' && ok "all devices" || fail "all: $out"

expect_eq "cdrom insert" "$("$C" "$S" cdrom 5 5632 /iso/b.iso file r)" OK
expect_eq "params written" "$(xenstore-read "$(be vbd 5632)/params")" /iso/b.iso
expect_eq "type written" "$(xenstore-read "$(be vbd 5632)/type")" file
expect_eq "cdrom eject" "$("$C" "$S" cdrom 5 5632 '' '' '')" OK
expect_eq "params emptied" "$(xenstore-read "$(be vbd 5632)/params")" ""
expect_eq "type kept" "$(xenstore-read "$(be vbd 5632)/type")" file
"$C" "$S" cdrom 5 9999 /x file r | grep -q "^ERROR 2 " && ok "ENOENT" || fail "ENOENT"
"$C" "$S" cdrom 5 51712 /x file r | grep -q "^ERROR 124 " && ok "EMEDIUMTYPE" \
	|| fail "EMEDIUMTYPE"
"$C" "$S" cdrom 5 5632 /x tap r | grep -q "^ERROR 22 " && ok "EINVAL type" || fail "type"
"$C" "$S" cdrom 5 5632 "$(printf '/x\ny')" file r | grep -q "^ERROR 22 " \
	&& ok "EINVAL params" || fail "params"
expect_eq "disk params untouched" "$(xenstore-read "$(be vbd 51712)/params")" /dev/loop7

expect_eq "broker may update" "$("$C" --as devsep-broker "$S" cdrom 5 5632 /iso/c.iso file r)" OK
expect_eq "broker may not ask status" "$("$C" --as devsep-broker "$S" status)" DROPPED
expect_eq "lockd may not update" \
	"$("$C" --as devsep-lockd "$S" cdrom 5 5632 /iso/d.iso file r)" DROPPED
expect_eq "params after refusals" "$(xenstore-read "$(be vbd 5632)/params")" /iso/c.iso
expect_eq "unknown type dropped" "$("$C" "$S" raw 499)" DROPPED
expect_eq "trailing bytes dropped" "$("$C" "$S" raw 1 42)" DROPPED
expect_eq "short DEVICES dropped" "$("$C" "$S" raw 400)" DROPPED
"$C" "$S" status >/dev/null && ok "still serving" || fail "serving after drops"
wd_finish
