#!/usr/bin/env bash
# rel-setsid.sh proves that nothing a hung hotplug script started survives
# its timeout, not even a grandchild that left the script's process group
# with setsid() (a script calling `setsid cmd &`, or a daemon it starts).
# Found as a known failure by this suite (docs/RELIABILITY.md bug 3); fixed
# in hotplugd (then a subreaper + env marker; now the job's cgroup, cgroup.c).
. "$(dirname "$0")/rlib.sh"
need_root
rel_world "hotplug_timeout = 2s" "script_kill_grace = 200ms"
cat >"$W/scripts/rs-escape" <<E
#!/bin/sh
setsid sleep 4242 &
sleep 1000
E
chmod 755 "$W/scripts/rs-escape"
"$XW" domain create "$W" 5 >/dev/null || fail "create 5"
rel_start hotplugd watcherd
add_dev vif 1 rs-escape
wait_long 8 node_is "$(be vif 1)/hotplug-status" error || fail "timeout -> error"
sleep 0.5
n=$(pgrep -f 'sleep 4242' | wc -l)
pkill -f 'sleep 4242'
expect_eq "setsid grandchild killed with the job" "$n" 0
rel_finish
