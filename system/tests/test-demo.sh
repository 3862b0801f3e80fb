#!/usr/bin/env bash
# Proves `make demo` (scripts/demo) runs clean end to end against the real
# pieces, and that its CD-ROM step shows the xenstore side: the guest's
# CD-ROM vbd exists, cd-insert and cd-eject both say "xenstore=updated"
# and params follows (the image, then empty).  Before: "xenstore=failed:
# no such vbd backend".  ~3 s.
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
log=$(mktemp /tmp/devsep-demotest.XXXXXX)
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $*"; tail -40 "$log"; exit 1; }
BUILD=$BUILD BIN=$BIN scripts/demo >"$log" 2>&1 || fail "demo exit $?"
grep -q "^FAIL\|^SKIP" "$log" && fail "a demo step failed or skipped"
grep -q "inserted: fdset=[0-9]* xenstore=updated" "$log" || fail "insert"
grep -q "ejected: xenstore=updated" "$log" || fail "eject"
grep -q 'xenstore: params="/tmp/dsdemo.*/install.iso"' "$log" || fail "params"
grep -q "no such vbd backend" "$log" && fail "no such vbd backend"
echo "PASS: demo, CD-ROM with its xenstore side"
