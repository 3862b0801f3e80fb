#!/usr/bin/env bash
# it-script-words.sh proves every way a hotplug script can fail reaches the
# administrator in words - the device's hotplug-error (what libxl and xl
# show), watcherd's log line and `devsepctl devices` - naming the script
# and its action, what failed, the errno text or signal name, and for a
# timeout its value and config key:
#   missing          "script does not exist: No such file or directory"
#                    (refusals and timeouts end with what to do)
#   not executable   "script is not executable: Permission denied"
#   outside          an absolute path out of script_dir: "resolves outside
#                    the script directory: Permission denied"
#   bad name         "../x": "... component: Invalid argument"
#   exits non-zero   "exited with status 3: <its last output line>"
#   times out        "did not finish within hotplug_timeout (2s) and was
#                    killed (SIGTERM)"
#   killed           "was killed by SIGSEGV (Segmentation fault)"
# (before: "hotplug script failed: refused 2", "refused 13", "refused 22",
# "exited 3", "hotplug script timed out (hotplug_timeout)", "signaled 11").
# watcherd runs as under systemd (its stderr is $JOURNAL_STREAM): every
# "device in error" line is priority 4, what `journalctl -p warning`
# shows, and no line carries a timestamp of its own.
. "$(dirname "$0")/wdlib.sh"
start_watcherd() {	# wdlib's, with stderr as the journal stream
	: >>"$W/watcherd.log"
	JOURNAL_STREAM=$(stat -c %d:%i "$W/watcherd.log") \
	"$BIN/devsep-watcherd" -F -d -c "$W/devsep.conf" --rundir "$W/run" \
		>>"$W/watcherd.log" 2>&1 &
	WD=$!; PIDS+=($WD)
	wait_for grep -q "started" "$W/watcherd.log" || fail "watcherd start"
}
setup
cat >"$W/scripts/test-exit3" <<'S'
#!/bin/sh
echo "test-exit3: cannot find bridge xenbr9"
exit 3
S
cat >"$W/scripts/test-segv" <<'S'
#!/bin/sh
kill -SEGV $$
S
printf '#!/bin/sh\nexit 0\n' >"$W/scripts/test-noexec"
chmod 0755 "$W/scripts/test-exit3" "$W/scripts/test-segv"
chmod 0644 "$W/scripts/test-noexec"

add_dev vif 1 no-such-script
add_dev vif 2 test-noexec
add_dev vif 3 /bin/true
add_dev vif 4 ../test-hp
add_dev vif 5 test-exit3
add_dev vif 6 test-hang
add_dev vif 7 test-segv
S="script_dir $W/scripts"
want() {	# devid, the whole hotplug-error
	local n=$1 got
	wait_long 8 node_is "$(be vif "$n")/hotplug-status" error ||
		fail "vif $n: no error"
	got=$(xenstore-read "$(be vif "$n")/hotplug-error" 2>&1)
	expect_eq "vif $n hotplug-error" "$got" "$2"
	grep -qF "kind=vif devid=$n $2" "$W/watcherd.log" ||
		fail "vif $n: not logged in words"
	printf 'vif 5/%s: %s\n' "$n" "$2" >>"$W/want-ctl"
}
want 1 "hotplug script \"no-such-script\" (online) not run: script does not exist: No such file or directory ($S); install it there or fix the backend's script node"
want 2 "hotplug script \"test-noexec\" (online) not run: script is not executable: Permission denied ($S); scripts must be executable files inside script_dir, not writable by others"
want 3 "hotplug script \"/bin/true\" (online) not run: script resolves outside the script directory: Permission denied ($S); scripts must be executable files inside script_dir, not writable by others"
want 4 "hotplug script \"../test-hp\" (online) not run: script name is empty, too long, or has an empty, \".\" or \"..\" component: Invalid argument ($S); name a script file inside script_dir"
want 5 "hotplug script \"test-exit3\" (online) exited with status 3: test-exit3: cannot find bridge xenbr9"
want 6 "hotplug script \"test-hang\" (online) did not finish within hotplug_timeout (2s) and was killed (SIGTERM); raise hotplug_timeout in devsep.conf if it is only slow"
want 7 "hotplug script \"test-segv\" (online) was killed by SIGSEGV (Segmentation fault)"
ok "every failure class in words, in hotplug-error and the log"
[ "$(grep -c '^<4>domid=5 kind=vif devid=[1-7] device in error: ' \
    "$W/watcherd.log")" = 7 ] ||
	fail "journal: not 7 device-in-error lines at priority 4"
grep -v '^<[0-7]>' "$W/watcherd.log" | grep . &&
	fail "journal: a line without priority"
grep -q '^<6>' "$W/watcherd.log" || fail "journal: no info line"
ok "journal: devices in error at priority warning (journalctl -p warning)"

out=$("$BIN/devsepctl" --rundir "$W/run" devices 2>&1) || fail "devsepctl: $out"
while IFS= read -r l; do
	printf '%s\n' "$out" | grep -qxF "$l" ||
		fail "devsepctl devices lacks: $l
$out"
done <"$W/want-ctl"
printf '%s\n' "$out" | grep -q "add timed-out SIGTERM " ||
	fail "devsepctl: timeout cell: $out"
printf '%s\n' "$out" | grep -q "add signaled SIGSEGV " ||
	fail "devsepctl: signal cell: $out"
printf '%s\n' "$out" | grep -q "add refused ENOENT " ||
	fail "devsepctl: refusal cell: $out"
ok "devsepctl devices: the same words, signal and errno names"
for n in 1 2 3 4 5 6 7; do remove_dev vif $n; done
for n in 1 2 3 4 5 6 7; do
	wait_long 8 gone "$(be vif $n)" || fail "vif $n removed"
done
wd_finish
