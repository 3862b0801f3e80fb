# Shared by the daemons' integration scripts (sourced by lockd/tests/lib.sh
# and qemu-broker/tests/lib.sh): start a daemon in the background and wait
# until it answers, stop and reap it, a devsep-lockd in the test's own run
# and state dirs, checking a client's exit code, the sanitizer check of a
# daemon's log and the end of the EXIT trap.
#
# The sourcing lib sets BIN, T (temp dir), R (run dir), S (state dir) and
# defines fail MESSAGE (prints, exits 1).

# bg_start VAR LOG CMD...: runs CMD in the background, its output appended
# to LOG; its pid in $VAR.
bg_start() {
	local var=$1 log=$2; shift 2
	"$@" >>"$log" 2>&1 &
	printf -v "$var" '%s' "$!"
}

# bg_stop VAR [SIGNAL]: signals (TERM) and reaps $VAR's process; empties VAR.
bg_stop() {
	local pid=${!1}
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	printf -v "$1" '%s' ""
}

# wait_ready WHAT SOCK CMD...: waits (5 s) until SOCK exists and CMD
# succeeds; fails "WHAT did not start" otherwise.
wait_ready() {
	local what=$1 sock=$2; shift 2
	for _ in $(seq 100); do
		[ -S "$sock" ] && "$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "$what did not start"
}

# lockd_start PROBE...: devsep-lockd -F in $R/$S (as root it drops to
# devsep-lockd and chroots into $S, as in production), log in
# $T/lockd.log, pid in LOCKD_PID; ready when PROBE (a lockd request)
# succeeds.
lockd_start() {
	bg_start LOCKD_PID "$T/lockd.log" "$BIN/devsep-lockd" -F -d \
	    --rundir "$R" --statedir "$S" -c /dev/null \
	    --libxl-dir "${LIBXL_DIR:-$T/xenlib}"
	wait_ready lockd "$R/lockd.sock" "$@"
}

# expect_rc_of FN CODE ARGS...: runs FN ARGS (a test's client: output
# left in $T/out) and fails unless it exits CODE.
expect_rc_of() {
	local fn=$1 want=$2 rc; shift 2
	"$fn" "$@" >"$T/out" 2>&1; rc=$?
	[ "$rc" = "$want" ] ||
	    fail "'$*' exited $rc, wanted $want: $(cat "$T/out")"
}

# finish_test RC LOG...: the end of a test's EXIT trap, after its daemons
# were stopped: kills what is left of its background jobs, turns RC into 1
# when a LOG holds a sanitizer report, removes $T and exits RC.
finish_test() {
	local rc=$1 log; shift
	jobs -p | xargs -r kill -9 2>/dev/null
	for log in "$@"; do
		sanitizer_report "$log" && rc=1
	done
	rm -rf "$T"
	exit "$rc"
}

# sanitizer_report LOG: prints the sanitizer report (ASan, LSan, UBSan) in
# LOG, if any; returns 0 when there is one (make asan: the test fails).
sanitizer_report() {
	grep -q "Sanitizer\|runtime error" "$1" 2>/dev/null || return 1
	echo "FAIL: sanitizer report in $1:"
	grep -A30 "Sanitizer\|runtime error" "$1" | head -60
	return 0
}
