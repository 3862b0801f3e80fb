#!/usr/bin/env bash
# Proves the xenstore side of a CD-ROM change goes through watcherd, the
# only xenstore writer: after an insert the broker sends
# MSG_WATCHER_CDROM_UPDATE {domid, devid, path, "file", "r"}, after an
# eject {domid, devid, "", "", ""} (tests/fake-watcherd.c records what it
# decodes); watcherd's answer ends up in the reply ("updated" / "failed:
# <watcherd's message>" / "failed: ... did not answer in time") and never
# fails the QMP operation or leaves the JSON inconsistent.
. "$(dirname "$0")/lib.sh"

start_fake_qemu
c lock-create 900 >/dev/null
expect_rc 0 dm-start 900 3
WLOG=$T/watcherd.log
WPID=
watcherd() {	# mode
	[ -n "$WPID" ] && { kill "$WPID"; wait "$WPID" 2>/dev/null; }
	rm -f "$R/watcherd.sock"
	$BUILD/tests/fake-watcherd "$R" "$WLOG" "$1" & WPID=$!
	for _ in $(seq 50); do [ -S "$R/watcherd.sock" ] && return; sleep 0.02; done
	fail "fake watcherd did not start"
}

watcherd ok
expect_rc 0 cd-insert 900 3 "$IMG/cd.iso"
[ "$(cut -d' ' -f2- "$T/out")" = updated ] || fail "insert: $(cat "$T/out")"
[ "$(tail -1 "$WLOG")" = "900 3 $IMG/cd.iso|file|r" ] || fail "sent: $(tail -1 "$WLOG")"
expect_rc 0 cd-eject 900 3
[ "$(cat "$T/out")" = updated ] || fail "eject: $(cat "$T/out")"
[ "$(tail -1 "$WLOG")" = "900 3 ||" ] || fail "sent: $(tail -1 "$WLOG")"
ok "insert/eject: params/type/mode sent to watcherd, \"updated\""

watcherd error
expect_rc 0 cd-insert 900 3 "$IMG/cd.iso"
[ "$(cut -d' ' -f2- "$T/out")" = "failed: no such vbd backend" ] ||
    fail "insert: $(cat "$T/out")"
[ "$(things 900 cdrom)" = 3 ] || fail "JSON"
expect_rc 0 cd-eject 900 3
ok "watcherd refusal reported, QMP operation done, JSON consistent"

watcherd silent
expect_rc 0 cd-insert 900 3 "$IMG/cd.iso"
grep -q "failed: watcherd did not answer in time" "$T/out" ||
    fail "insert: $(cat "$T/out")"
no_lock_held 900
kill "$WPID"; wait "$WPID" 2>/dev/null; WPID=
rm -f "$R/watcherd.sock"
expect_rc 0 cd-eject 900 3
[ "$(cat "$T/out")" = "skipped: watcherd not running" ] || fail "$(cat "$T/out")"
[ -z "$(things 900 cdrom)" ] || fail "JSON"
grep -q MALFORMED "$WLOG" && fail "the broker sent a malformed request"
alive
ok "silent watcherd times out, absent watcherd is skipped"
