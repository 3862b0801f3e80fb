#!/usr/bin/env bash
# Runs test-async (the async client API, as qemu-broker uses it) against a
# private lockd; see lockd/tests/test-async.c for what it proves.
. "$(dirname "$0")/lib.sh"
start_lockd
$BUILD/tests/lockd-test-async "$R" "$LOCKD_PID" || fail "test-async"
wait "$LOCKD_PID" 2>/dev/null
LOCKD_PID=
