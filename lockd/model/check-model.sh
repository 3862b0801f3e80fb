#!/usr/bin/env bash
# Model-checks lockd/model/locks.pml with spin (exhaustive, safety mode):
#   default config (seed-002 lifecycle race): no assertion violation (the
#     invariant monitor) and no invalid end state (deadlock);
#   -DORDER (lock-order clients): no invalid end state;
# and proves the model can fail: each broken variant must make spin report
# an error (BROKEN_DESTROY: JSON removed before QEMU is killed;
# BROKEN_CREATE: re-create while the old incarnation's slow lock is held;
# BROKEN_ORDER: no lock-order check -> deadlock).
# Bounded: pan's memory is capped (MEMLIM), each run has a timeout; the
# whole script takes ~10 s here.
set -u
M=$(cd "$(dirname "$0")" && pwd)/locks.pml
# private work dir: several checks may run at once on a shared machine
W=$(mktemp -d /tmp/lockd-model.XXXXXX) && cd "$W" || exit 1
cp "$M" locks.pml

# pan_run NAME SPIN-DEFINES...: prints pan's result; returns pan's error count
pan_run() {
	local name=$1; shift
	spin "$@" -a locks.pml >spin.out 2>&1 || { cat spin.out; return 99; }
	gcc -O2 -w -DSAFETY -DMEMLIM=1500 -DCOLLAPSE -o "pan-$name" pan.c ||
	    return 99
	(ulimit -v 3000000; timeout 50 "./pan-$name" -m100000) >"$name.out" 2>&1
	local rc=$? errs
	[ $rc = 124 ] && { echo "$name: timed out"; return 99; }
	errs=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$name.out")
	grep -q "Search not completed" "$name.out" && [ "$errs" = 0 ] &&
	    { echo "$name: search incomplete"; return 99; }
	echo "$name: $(grep -E 'states, stored' "$name.out" | xargs)," \
	    "errors=$errs $(grep -oE '^pan:1: [a-z ]*' "$name.out" | head -1)"
	return "${errs:-99}"
}

fail=0
pan_run lifecycle || { echo "FAIL: lifecycle model has errors"; fail=1; }
pan_run order -DORDER || { echo "FAIL: order model has errors"; fail=1; }
for v in BROKEN_DESTROY BROKEN_CREATE; do
	pan_run "$v" -D$v; [ $? = 1 ] || { echo "FAIL: $v not caught"; fail=1; }
done
pan_run BROKEN_ORDER -DORDER -DBROKEN_ORDER
[ $? = 1 ] || { echo "FAIL: BROKEN_ORDER not caught"; fail=1; }
grep -q "^pan:1: invalid end state" BROKEN_ORDER.out ||
    { echo "FAIL: BROKEN_ORDER: expected a deadlock"; fail=1; }
grep -q "^pan:1: assertion violated" BROKEN_DESTROY.out ||
    { echo "FAIL: BROKEN_DESTROY: expected an invariant violation"; fail=1; }
if [ $fail = 0 ]; then
	echo "model: invariant and deadlock freedom hold;" \
	    "every broken variant is caught"
	rm -rf "$W"
else
	echo "spin output and trails kept in $W"
fi
exit $fail
