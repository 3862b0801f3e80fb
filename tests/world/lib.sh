# Sourced by the world tests: world setup/teardown and assertions.
# Runs from the repo root (tests/run-tests); BUILD defaults to build.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$ROOT/${BUILD:-build}/tests
case ${BUILD:-build} in /*) B=$BUILD/tests ;; esac
XW=$ROOT/tests/xenworld
WORLDS=()
FAILS=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
# expect_eq WHAT ACTUAL EXPECTED
expect_eq() { if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi; }

cleanup() {
	local w
	for w in "${WORLDS[@]}"; do "$XW" stop "$w" >/dev/null 2>&1; rm -rf "$w"; done
	[ -n "${JOBS_TO_KILL:-}" ] && kill $JOBS_TO_KILL 2>/dev/null
	return 0
}
trap cleanup EXIT

# new_world: starts a world in a fresh short dir, exports its env.
new_world() {
	local d; d=$(mktemp -d /tmp/xw.XXXXXX)
	WORLDS+=("$d")
	eval "$("$XW" start "$d")" || { echo "cannot start world"; exit 1; }
	W=$d
}

# wait_for CMD... : retry for up to 5 s until CMD succeeds.
wait_for() {
	local i
	for i in $(seq 500); do "$@" >/dev/null 2>&1 && return 0; sleep 0.01; done
	return 1
}

# node_is PATH VALUE: xenstore node PATH currently equals VALUE.
node_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }

# skip_part WHY: a part of the test cannot run here; with no failure the
# test ends as a skip (exit 77, tests/run-tests), not as a pass.
SKIPPED=
skip_part() { echo "SKIP: $*"; SKIPPED="$SKIPPED${SKIPPED:+; }$*"; }

finish() {
	if [ "$FAILS" -eq 0 ] && [ -n "$SKIPPED" ]; then
		echo "SKIP: parts not run: $SKIPPED"; exit 77
	fi
	if [ "$FAILS" -eq 0 ]; then echo "PASS"; exit 0; fi
	echo "$FAILS assertion(s) failed"; exit 1
}
