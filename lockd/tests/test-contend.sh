#!/usr/bin/env bash
# Proves mutual exclusion and FIFO fairness under contention through the real
# daemon: 16 client processes x 40 read-modify-write cycles of a counter in
# domain 1's JSON, each under the fast lock.  Any overlap of two holders
# loses an update (both read N, both write N+1), so the final counter must
# be exactly 640 and the generation 641; lockd's stats must show real
# waiting (acquire_queued > 0) and no timeouts (nobody starved for 10 s).
. "$(dirname "$0")/lib.sh"
PROCS=16 N=40
start_lockd
tool create 1 '{"counter":0}' >/dev/null || fail create
pids=()
for i in $(seq $PROCS); do
	$TOOL "$R" contend 1 $N >"$T/c$i" 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "client $p failed: $(cat $T/c*)"; done
out=$(tool read 1) || fail read
echo "$out"
[ "$out" = "generation=$((PROCS * N + 1)) {\"counter\":$((PROCS * N))}" ] ||
    fail "lost updates: $out"
ok "counter = $((PROCS * N)) after $PROCS x $N contended increments"
st=$(tool stats)
q=$(echo "$st" | json_get 'd["counters"]["acquire_queued"]')
to=$(echo "$st" | json_get 'd["counters"]["acquire_timeout"]')
max=$(echo "$st" | json_get 'd["lock_wait_us"]["max"]')
echo "queued=$q timeouts=$to max_wait_us=$max"
[ "$q" -gt 0 ] || fail "no contention happened (test proves nothing)"
[ "$to" = 0 ] || fail "$to waits timed out"
ok "contention: $q waits, none timed out, max wait ${max}us"
