#!/usr/bin/env bash
# Proves `make demo` (scripts/demo) runs clean end to end under the real
# xl and cleans up after itself, also when interrupted:
#  - every step OK, no FAIL or SKIP, all 16 xl commands return 0;
#  - driver domain 7 (backend_mode devsep, auto): the real vif-bridge and
#    block ran once per action in domain 7's hotplugd; the kexec
#    hand-over counted; dom0 (backend_mode libxl, auto): libxl ran
#    devsep-relay, the real scripts ran once per action in hotplugd's
#    sandbox under a per-job uid (not 0); the CD-ROM went into xl's QEMU
#    as an fd with xenstore updated, xl cd-eject emptied it;
#  - afterwards no process runs with the demo dir on its command line, no
#    loop device is on its images, nothing is mounted below it, its
#    network namespace and its dir are gone; the same after a Ctrl-C
#    (SIGINT to the demo's process group, as a terminal sends it) in the
#    middle of part 2, when the QEMU, two hotplugds and a loop device
#    exist: exit 130, the steps so far listed, the interrupted one INT.
# ~15 s (25 s under a load average of 9).
set -u
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
log=$(mktemp /tmp/devsep-demotest.XXXXXX)
trap 'rm -f "$log"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
has() { grep -q -- "$1" "$log" && ok "$2" || fail "$2: no '$1' in the output"; }
count() {	# PATTERN N WHAT
	local n; n=$(grep -c -- "$1" "$log")
	[ "$n" = "$2" ] && ok "$3 ($n)" || fail "$3: $n, want $2"
}
# leftovers: what a finished demo must not leave behind
leftovers() {
	local d ns p
	d=$(grep -o '/tmp/dsdemo\.[A-Za-z0-9]*' "$log" | head -1)
	ns=$(grep -o 'devsep-demo-[0-9]*' "$log" | head -1)
	[ -n "$d" ] && [ -n "$ns" ] || { fail "$1: demo dir or netns not in the output"; return; }
	# the dots as [.]: grep's own command line does not match
	for p in $(grep -lE "${d//./[.]}/" /proc/[0-9]*/cmdline 2>/dev/null); do
		fail "$1: ${p%/cmdline} left: $(tr '\0' ' ' <"$p" 2>/dev/null)"
	done
	losetup -a | grep -F "$d/" && fail "$1: loop device left"
	grep -F "$d/" /proc/mounts && fail "$1: mount left"
	ip netns list | grep -q "^$ns\b" && fail "$1: network namespace $ns left"
	[ -e "$d" ] && fail "$1: $d left"
	ok "$1: nothing left ($d, $ns)"
}

BUILD=$BUILD BIN=$BIN scripts/demo >"$log" 2>&1; rc=$?
[ $rc = 0 ] && ok "demo exit 0" || { fail "demo exit $rc"; tail -40 "$log"; }
grep "^FAIL\|^SKIP" "$log" && fail "a demo step failed or skipped"
count "^  OK " 14 "steps OK in the summary"
count "^ok: xl exited 0" 16 "xl commands that exited 0"
has "backend_mode: devsep (auto" "driver domain: backend_mode devsep"
has "backend_mode: libxl (auto" "dom0: backend_mode libxl"
for a in "vif-bridge online" "vif-bridge offline" "block add" "block remove"; do
	case $a in vif*) k=vif/5/0 ;; *) k=vbd/5/51728 ;; esac
	has "^ok: $a ran once, in hotplugd's sandbox (1)" "$a ran once"
	has "hotplugd: .*/etc/xen/scripts/$a (/local/domain/7/backend/$k) uid=" \
		"driver domain: $a in domain 7's hotplugd"
	case $a in vif*) k=vif/6/0 ;; *) k=vbd/6/51728 ;; esac
	has "hotplugd: .*/etc/xen/scripts/$a (/local/domain/0/backend/$k) uid=[1-9]" \
		"dom0: $a in hotplugd under a per-job uid"
	has "watcherd: .* relay: $a: exited 0" "dom0: $a asked for by devsep-relay"
done
has "^ok: hand-overs (KEXECS) (1)" "kexec hand-over"
has "inserted: fdset=[0-9]* xenstore=updated" "cd-insert into xl's QEMU"
has 'params="aio:/tmp/dsdemo.*/install.iso"' "xenstore params"
has "^ok: QEMU's medium is /dev/fdset/" "QEMU has the medium as an fd"
has "^ok: xenstore params after xl cd-eject ()" "xl cd-eject"
leftovers "after the run"
# the daemons' logs the demo kept: no sanitizer report (make asan-check)
for l in "$BUILD"/demo-logs/*.log; do	# as tests/lib/daemons.sh's sanitizer_report
	grep -q "Sanitizer\|runtime error" "$l" &&
		fail "sanitizer report in $l: $(grep -m3 "Sanitizer\|runtime error" "$l")"
done
ls "$BUILD"/demo-logs/hotplugd-dd.log "$BUILD"/demo-logs/watcherd-dom0.log \
	"$BUILD"/demo-logs/xl.log >/dev/null && ok "logs kept in $BUILD/demo-logs" ||
	fail "logs not kept"

# Ctrl-C in the middle of part 2
python3 - "$log" <<'PY'
import os, signal, subprocess, sys, time
log = sys.argv[1]
# SIGINT as a terminal's Ctrl-C: to the whole process group, default action
p = subprocess.Popen(["scripts/demo"], stdout=open(log, "w"),
                     stderr=subprocess.STDOUT, start_new_session=True,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
end = time.time() + 40
while time.time() < end and p.poll() is None:
    if "kind=vbd devid=51728 relay: block add: exited 0" in open(log).read():
        break
    time.sleep(0.05)
os.killpg(p.pid, signal.SIGINT)
try:
    sys.exit(p.wait(timeout=40))
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit(99)
PY
rc=$?
grep -q "kind=vbd devid=51728 relay: block add: exited 0" "$log" ||
	fail "Ctrl-C: the demo did not reach part 2's block-attach"
[ $rc = 130 ] && ok "Ctrl-C: exit 130" || { fail "Ctrl-C: exit $rc"; tail -20 "$log"; }
has "^  INT .*\\(block-attach 6\\|CD-ROM\\)" "Ctrl-C: the interrupted step named"
leftovers "after Ctrl-C"
[ $FAILS = 0 ] && { echo "PASS: demo under the real xl, cleaned up also after Ctrl-C"; exit 0; }
echo "$FAILS assertion(s) failed"
exit 1
