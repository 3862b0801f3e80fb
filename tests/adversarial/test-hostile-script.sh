#!/usr/bin/env bash
# test-hostile-script.sh: a hostile hotplug script, run by the real
# devsep-hotplugd in its real sandbox for a real device of guest 5 (real
# xenstored, real watcherd and its scoped proxy), attacks everything issue
# 14 lists on the script side; every attack must fail:
#
#  attack 8  read a root-only 0600 file; rewrite a root-owned file; plant a
#            file in a root dir; open dom0's own disk (a node of the root
#            file system's block device, root:disk 0660 as udev makes
#            every disk) for reading and for writing; read or write a
#            daemon's state dir; read /proc/<pid>/environ of hotplugd, watcherd, another job; append forged lines to hotplugd's and
#            watcherd's logs; rename the daemons' sockets away; create a
#            file in the daemons' run dir; SIGSTOP hotplugd, its launcher
#            and watcherd; SIGKILL another guest's running script (guest
#            6's); leave implants (setsid, double fork, env -i) that outlive
#            the job.
#  attack 3  write guest 6's backend through guest 6's job socket.
#  attack 6  unbounded writes through its own proxy (a clear ENOSPC, a log
#            line, at most XSP_MAX_WRITES nodes).
#  proxy     "..", "//", absolute paths of guest 6, guest 6's frontend,
#            @releaseDomain watches, set-perms, and every xenstore message
#            type 0..30 sent raw with guest 6's path.
#  seccomp   the launcher's own calls (setresuid, setgroups, seccomp) kill
#            a script: its filter is scripts.policy without @launcher.
#  attack 1  a forged stale-jobs file naming a root process group, then a
#            hotplugd crash + restart: the root process survives, the
#            crashed hotplugd's running job (guest 6's) is killed.
#
# Against the code before issue 14 (scripts as devsep-hotplugd with
# CAP_DAC_OVERRIDE, uid-only proxy check, jobs file) most of these fail.
. "$(dirname "$0")/../../watcherd/tests/wdlib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
getent group devsep-script >/dev/null || { echo "FAIL: no group devsep-script (scripts/create-users)"; exit 1; }
[ -x "$B/xs-raw" ] && [ -x "$B/sys-probe" ] || { echo "FAIL: no $B/xs-raw or sys-probe (make)"; exit 1; }

setup "hotplug_timeout = 30s" "max_jobs = 8"
"$XW" domain create "$W" 6 >/dev/null || fail "create domain 6"
S=$W/scratch
cp "$B/xs-raw" "$B/sys-probe" "$W/scripts/"

# ---- the victims, all root's
echo "root secret" >"$W/secret"; chmod 600 "$W/secret"
echo "root file" >"$W/rootfile"; chmod 644 "$W/rootfile"
mkdir -p "$W/rootdir"; chmod 755 "$W/rootdir"
# dom0's own disk as udev makes it (root:disk 0660): the block device of
# the root file system, else any block device that is not a loop device
dk=$(findmnt -no MAJ:MIN / 2>/dev/null)
[ -e "/sys/dev/block/$dk" ] || dk=$(ls /sys/dev/block | grep -v '^7:' | head -1)
[ -n "$dk" ] || fail "no block device other than loop devices on this host"
mknod "$W/rootdisk" b "${dk%%:*}" "${dk##*:}" || fail "mknod $W/rootdisk ($dk)"
chown root:disk "$W/rootdisk"; chmod 0660 "$W/rootdisk"
# a daemon's state dir as tmpfiles.d makes lockd's: 0700 devsep-lockd
mkdir -p "$W/state"; echo '{}' >"$W/state/domain-5.json"
chown -R devsep-lockd:devsep-lockd "$W/state"; chmod 700 "$W/state"
setsid sleep 997 </dev/null >/dev/null 2>&1 &
ROOTV=$!; PIDS+=($ROOTV)

# ---- guest 6's script: records its pid, then waits (a running job)
cat >"$W/scripts/victim-hang" <<'V'
#!/bin/sh
S=$(dirname "$0")/../scratch
case $1 in add) echo $$ >"$S/victim.pid"; exec sleep 997 ;; esac
exit 0
V

# ---- guest 5's hostile script: one attack family per devid
cat >"$W/scripts/hostile" <<'H'
#!/bin/bash
W=$(cd "$(dirname "$0")/.." && pwd)
S=$W/scratch
devid=${XENBUS_PATH##*/}
V6=/local/domain/0/backend/vbd/6/51712
res() { echo "$devid $1 $2" >>"$S/results"; }
try() {	# try NAME CMD...: "held" when CMD fails
	local n=$1; shift
	if "$@" >/dev/null 2>&1; then res "$n" BROKEN; else res "$n" held; fi
}
try_open() {	# try_open NAME REDIR FILE: "held" only when refused with EACCES
	local e
	if e=$(bash -c "exec 3$2\"\$0\"" "$3" 2>&1); then res "$1" BROKEN
	else case $e in
		*"Permission denied"*) res "$1" held ;;
		*) res "$1" "other:$(echo "$e" | tr -c 'a-zA-Z0-9\n' _)" ;;
	esac; fi
}
[ "$1" = add ] || exit 0
case $devid in
1)
	try read-root-0600 cat "$W/secret"
	try rewrite-root-file sh -c "echo pwned >>'$W/rootfile'"
	try plant-root-dir sh -c ": >'$W/rootdir/planted'"
	try_open read-dom0-disk "<" "$W/rootdisk"
	try_open write-dom0-disk ">>" "$W/rootdisk"
	# the block script's loop devices stay usable (their group is the job's gid)
	if bash -c 'exec 3<>/dev/loop-control' 2>/dev/null; then res loop-control usable; else res loop-control refused; fi
	try forge-hotplugd-log sh -c "echo forged >>'$W/hotplugd.log'"
	try forge-watcherd-log sh -c "echo forged >>'$W/watcherd.log'"
	try rename-hotplugd-sock mv "$W/run/hotplugd.sock" "$W/run/gone.sock"
	try rename-watcherd-sock mv "$W/run/watcherd.sock" "$W/run/gone2.sock"
	try write-jobs-file sh -c "echo '1 0 1' >'$W/run/hotplugd.jobs'"
	try plant-run-dir sh -c ": >'$W/run/planted'"
	try plant-jobs-dir sh -c ": >'$W/run/watcherd-jobs/planted'"
	try stop-hotplugd kill -STOP "$(cat "$S/hotplugd.pid")"
	try stop-launcher kill -STOP "$(cat "$S/launcher.pid")"
	try stop-watcherd kill -STOP "$(cat "$S/watcherd.pid")"
	try kill-other-job kill -KILL "$(cat "$S/victim.pid")"
	try trace-other-job cat "/proc/$(cat "$S/victim.pid")/environ"
	try trace-hotplugd cat "/proc/$(cat "$S/hotplugd.pid")/environ"
	try trace-watcherd cat "/proc/$(cat "$S/watcherd.pid")/environ"
	try read-state-dir cat "$W/state/domain-5.json"
	try write-state-dir sh -c ": >'$W/state/planted'"
	# the launcher's own calls (scripts.policy @launcher) kill a script
	for c in setresuid setgroups seccomp; do
		"$W/scripts/sys-probe" "$c" >/dev/null 2>&1
		echo "$c $?" >>"$S/launcher-calls"
	done
	setsid bash -c 'exec -a devsep-implant-1 sleep 997' </dev/null >/dev/null 2>&1 &
	( setsid bash -c 'exec -a devsep-implant-2 sleep 997' </dev/null >/dev/null 2>&1 & ) &
	env -i /usr/bin/setsid /bin/bash -c 'exec -a devsep-implant-3 sleep 997' </dev/null >/dev/null 2>&1 &
	sleep 0.3
	echo "implants $(grep -l "[d]evsep-implant" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)" >>"$S/implants" ;;
2)
	sock=$(cat "$S/victim.sock")
	try cross-job-write env XENSTORED_PATH="$sock" xenstore-write "$V6/physical-device" 6:6
	try cross-job-status env XENSTORED_PATH="$sock" xenstore-write backend/vbd/6/51712/hotplug-status connected
	try cross-job-read env XENSTORED_PATH="$sock" xenstore-read "$V6/params" ;;
3)
	n=0
	for i in $(seq 300); do
		xenstore-write "$XENBUS_PATH/junk$i" x >/dev/null 2>&1 && n=$((n + 1))
	done
	res bounded-writes "$n"
	"$W/scripts/xs-raw" "$XENSTORED_PATH" 11 "$XENBUS_PATH/more" x >"$S/bound.err" 2>&1
	res bound-error "$(tr ' ' _ <"$S/bound.err" | head -c 80)" ;;
4)
	try dotdot xenstore-write "$XENBUS_PATH/../../6/51712/physical-device" 6:6
	try dotdot-abs xenstore-write "/local/domain/0/backend/vbd/5/4/../../6/51712/physical-device" 6:6
	try double-slash xenstore-write "//local/domain/0/backend/vbd/6/51712/physical-device" 6:6
	try other-guest-abs xenstore-write "$V6/physical-device" 6:6
	try other-guest-rel xenstore-write backend/vbd/6/51712/physical-device 6:6
	try other-guest-rm xenstore-rm "$V6"
	try other-frontend xenstore-write /local/domain/6/device/vbd/51712/state 6
	try own-frontend xenstore-write /local/domain/5/device/vbd/4/state 6
	try release-watch timeout 2 xenstore-watch -n 1 @releaseDomain
	try set-perms xenstore-chmod "$XENBUS_PATH" b0
	for t in $(seq 0 30); do
		"$W/scripts/xs-raw" "$XENSTORED_PATH" "$t" "$V6/physical-device" 6:6 >>"$S/raw.log" 2>&1
		r=$?
		case $t in
		1|2|3|6|7|10|22)	# reads, transactions, domain path: harmless
			res raw-$t "$( [ $r = 0 ] && echo served || echo held)" ;;
		*) [ $r = 0 ] && res raw-$t BROKEN || res raw-$t held ;;
		esac
	done ;;
esac
exit 0
H
chmod 755 "$W/scripts/victim-hang" "$W/scripts/hostile"
mkdir -p "$S"; chmod 1777 "$S"

# ---- guest 6's job runs
"$B/actor-toolstack" add --backend-domid 0 --domid 6 --kind vbd --devid 51712 \
	--script victim-hang --params /dev/null >/dev/null || fail "toolstack add guest 6"
wait_long 10 test -s "$S/victim.pid" || fail "guest 6's script did not start"
VPID=$(cat "$S/victim.pid")
grep -o "domid=6 kind=vbd devid=51712: serving [^ ]*" "$W/watcherd.log" | head -1 |
	sed 's/.*serving //' >"$S/victim.sock"
[ -s "$S/victim.sock" ] || fail "guest 6's proxy socket not found in watcherd.log"
echo "$HP" >"$S/hotplugd.pid"
echo "$WD" >"$S/watcherd.pid"
sed -n 's/.*launcher pid \([0-9]*\).*/\1/p' "$W/hotplugd.log" | head -1 >"$S/launcher.pid"
chmod 644 "$S"/*.pid "$S/victim.sock"
xenstore-write /local/domain/0/backend/vbd/6/51712/physical-device 7:7

# ---- guest 5's hostile jobs
for d in 1 2 3 4; do add_dev vbd "$d" hostile --params /dev/null; done
for d in 1 2 3 4; do
	wait_long 30 grep -q "job=.* domid=5 kind=vbd devid=$d pid=.*: exited" "$W/hotplugd.log" ||
		fail "hostile job $d did not finish"
done

echo "--- results"; cat "$S/results"
n=$(grep -c . "$S/results")
[ "$n" -ge 64 ] || fail "only $n results: the hostile script did not run every attack"
grep BROKEN "$S/results" | while read -r d what r; do fail "attack $what (devid $d) succeeded"; done
FAILS=$((FAILS + $(grep -c BROKEN "$S/results")))
for t in 0 4 5 8 9 11 12 13 14 15 16 17 18 19 20 21 23 24 25 26 27 28 29 30; do
	grep -q "^4 raw-$t held" "$S/results" || fail "raw message type $t not refused"
done

# the victims
expect_eq "root 0600 file intact" "$(cat "$W/secret")" "root secret"
expect_eq "root file intact" "$(cat "$W/rootfile")" "root file"
for a in read-dom0-disk write-dom0-disk; do
	grep -q "^1 $a held" "$S/results" && ok "$a: EACCES" ||
		fail "$a: $(grep "^1 $a " "$S/results")"
done
grep -q "^1 loop-control usable" "$S/results" && ok "a script can open /dev/loop-control" ||
	fail "a script cannot open /dev/loop-control (scripts/create-users, system/udev)"
[ -e "$W/rootdir/planted" ] && fail "file planted in a root dir"
[ -e "$W/state/planted" ] && fail "file planted in a daemon's state dir"
grep -q "^forged" "$W/hotplugd.log" "$W/watcherd.log" && fail "forged log line"
[ -S "$W/run/hotplugd.sock" ] && [ -S "$W/run/watcherd.sock" ] && ok "daemon sockets in place" ||
	fail "a daemon socket was renamed"
[ -e "$W/run/planted" ] || [ -e "$W/run/watcherd-jobs/planted" ] && fail "file planted in the run dir"
for p in "$HP" "$WD" "$(cat "$S/launcher.pid")"; do
	[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ] && fail "pid $p stopped"
done
kill -0 "$VPID" 2>/dev/null && ok "guest 6's running script survived guest 5's script" ||
	fail "guest 6's running script was killed"
expect_eq "guest 6's physical-device untouched" \
	"$(xenstore-read /local/domain/0/backend/vbd/6/51712/physical-device)" 7:7
node_is /local/domain/0/backend/vbd/6/51712/hotplug-status connected &&
	fail "guest 6's hotplug-status written by guest 5's script"
grep -q "connection from uid .* refused\|dropped: not the job's uid" "$W/watcherd.log" &&
	ok "the proxy refused the other job's uid" || fail "no refusal logged by the proxy"

# nothing of a finished job survives
expect_eq "the launcher's calls kill a script (SIGSYS)" \
	"$(tr '\n' ' ' <"$S/launcher-calls")" "setresuid 159 setgroups 159 seccomp 159 "
expect_eq "implants running while their job ran" "$(cat "$S/implants")" "implants 3"
wait_long 3 sh -c '! pgrep -f "[d]evsep-implant" >/dev/null' &&
	ok "no implant (setsid, double fork, env -i) outlived its job" ||
	fail "implants alive after their job: $(pgrep -af "[d]evsep-implant")"

# bounded writes
w=$(sed -n 's/^3 bounded-writes //p' "$S/results")
[ -n "$w" ] && [ "$w" -le 256 ] && [ "$w" -ge 200 ] &&
	ok "writes bounded per job ($w of 300 accepted)" || fail "writes not bounded: $w of 300"
grep -q "^3 bound-error reply_16_ENOSPC" "$S/results" &&
	ok "the script got a clear error (ENOSPC)" || fail "no clear error over the bound: $(grep bound-error "$S/results")"
grep -q "over the job's bound" "$W/watcherd.log" && ok "watcherd logged the bound" ||
	fail "no log line for the bound"

# ---- attack 1: a forged stale-jobs file, then hotplugd crashes
st=$(awk '{print $22}' "/proc/$ROOTV/stat")
echo "$ROOTV $st 1" >"$W/run/hotplugd.jobs"	# as if a script had forged it
kill -9 "$HP"; wait "$HP" 2>/dev/null
start_hotplugd
wait_long 5 sh -c '! kill -0 '"$VPID"' 2>/dev/null' &&
	ok "the restarted hotplugd killed the crashed one's running job" ||
	fail "the crashed hotplugd's job survived its restart"
kill -0 "$ROOTV" 2>/dev/null && ok "a root process named in a forged jobs file survived" ||
	fail "the restarted hotplugd killed a root process chosen by a script"
kill "$ROOTV" 2>/dev/null
kill "$HP"; sleep 0.2; kill "$HP" 2>/dev/null	# twice: do not wait for guest 6's script
wd_finish
