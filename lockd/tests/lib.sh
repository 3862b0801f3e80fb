# Helpers for the lockd integration scripts (sourced).  Each test runs its
# own devsep-lockd in a temp dir (run dir + state dir), as root it drops to
# devsep-lockd and chroots into the state dir, exactly as in production.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/daemons.sh"
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
TOOL=$BUILD/tests/lockd-tool
LOCKD=$BIN/devsep-lockd
T=$(mktemp -d /tmp/lockd-test.XXXXXX)
R=$T/run
S=$T/state
LOCKD_PID=
# errno values as lockd-tool exit codes (10 + errno)
X_EPERM=11 X_ESRCH=13 X_EIO=15 X_EAGAIN=21 X_EBUSY=26 X_EEXIST=27
X_EINVAL=32 X_EDEADLK=45 X_ETIMEDOUT=120 X_ESTALE=126

fail() { echo "FAIL: $*"; [ -f "$T/lockd.log" ] && tail -20 "$T/lockd.log"; exit 1; }
ok() { echo "ok: $*"; }

start_lockd() { lockd_start "$TOOL" "$R" status; }
stop_lockd() { bg_stop LOCKD_PID "${1:-TERM}"; }	# $1: signal

cleanup() {
	local rc=$?
	stop_lockd TERM		# clean exit: sanitizer leak reports run
	finish_test "$rc" "$T/lockd.log"
}
trap cleanup EXIT

tool() { $TOOL "$R" "$@"; }

# expect_rc CODE CMD...: runs a lockd-tool command, checks its exit code.
expect_rc() { expect_rc_of tool "$@"; }

# wait_line FILE TEXT: waits (5 s) until FILE contains TEXT.
wait_line() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "timeout waiting for '$2' in $1"
}

json_get() {	# json_get EXPR  (python3 on stdin)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
