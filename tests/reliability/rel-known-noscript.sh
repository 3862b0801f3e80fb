#!/usr/bin/env bash
# rel-known-noscript.sh (KNOWN FAILURE, torture only) proves a backend
# whose `script` node is empty attaches without running anything, as
# libxl's device_hotplug does ("No hotplug script to execute"): the
# device must end hotplug-status=connected and backend Connected, in dom0
# and in a driver domain.
# Today it ends in error ("hotplug script exited 0 without writing
# hotplug-status=connected"): watcherd/jobs.c job_start() writes
# hotplug-status=connected and sets job_result=JOB_OK for an empty script,
# but the FSM evaluates the result at once with the inputs read before
# that write (hotplug-status ""), row 31 (add-script -> error).
. "$(dirname "$0")/rlib.sh"
need_root
rel_world
"$XW" domain create "$W" 5 >/dev/null || fail "create 5"
rel_start hotplugd watcherd
add_dev vif 1 ""
"$B/actor-frontend" -d "$W" --domid 5 --kind vif --devid 1 --mode connect \
	--timeout-ms 6000 >/dev/null 2>&1
expect_eq "no-script vif: hotplug-status" "$(xenstore-read "$(be vif 1)/hotplug-status" 2>&1)" connected
expect_eq "no-script vif: backend state" "$(xenstore-read "$(be vif 1)/state" 2>&1)" 4
expect_eq "nothing ran" "$(grep -c . "$W/calls.log")" 0
rel_finish
