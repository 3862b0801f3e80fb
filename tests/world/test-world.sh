#!/usr/bin/env bash
# test-world.sh proves that the test world is the real thing:
#  - the real xenstored 4.17 runs under libxenshim and answers dom0 (read/write/ls);
#  - a guest socket (DIR/dom5.sock) is guest 5 for xenstored: EACCES on
#    another domain's nodes, allowed on its own;
#  - watches fire through dom0 and through a guest socket;
#  - a transaction conflict returns EAGAIN;
#  - shutdown/crash are visible to the real libxenctrl (xc_domain_getinfo);
#  - destroy fires @releaseDomain and xenstored deletes nodes the domain owned;
#  - two worlds run side by side without seeing each other.
. "$(dirname "$0")/lib.sh"

new_world; W1=$W
expect_eq "dom0 domid node" "$(xenstore-read /local/domain/0/domid)" 0
xenstore-write /test/a hello
expect_eq "dom0 write+read" "$(xenstore-read /test/a)" hello
expect_eq "dom0 ls" "$(xenstore-list /test)" a

"$XW" domain create "$W1" 5 || fail "create 5"
"$XW" domain create "$W1" 6 || fail "create 6"
expect_eq "toolstack name node" "$(xenstore-read /local/domain/5/name)" guest5
G5=$W1/dom5.sock
expect_eq "guest socket exists" "$([ -S "$G5" ] && echo yes)" yes
expect_eq "guest5 reads its name" "$(XENSTORED_PATH=$G5 "$B/check-xs" read /local/domain/5/name)" guest5
expect_eq "guest5 denied dom0 node" "$(XENSTORED_PATH=$G5 "$B/check-xs" read /test/a)" "ERR EACCES"
expect_eq "guest5 denied guest6 node" "$(XENSTORED_PATH=$G5 "$B/check-xs" read /local/domain/6/name)" "ERR EACCES"
expect_eq "guest5 denied write to guest6" "$(XENSTORED_PATH=$G5 "$B/check-xs" write /local/domain/6/data/x 1)" "ERR EACCES"
expect_eq "guest5 writes own data" "$(XENSTORED_PATH=$G5 "$B/check-xs" write /local/domain/5/data/x v5)" OK
expect_eq "dom0 sees guest write" "$(xenstore-read /local/domain/5/data/x)" v5
expect_eq "guest5 owns its node" "$(xenstore-ls -p /local/domain/5/data | sed -n 's/.*(\(.*\))$/\1/p')" n5

# Watches: dom0 watcher, guest watcher (event caused by the other side).
out=$(mktemp); JOBS_TO_KILL=
"$B/check-xs" watch /test/w 5000 >"$out" & p1=$!
wait_for grep -q armed "$out" || fail "dom0 watch armed"
XENSTORED_PATH=$G5 "$B/check-xs" write /local/domain/5/data/y 1 >/dev/null
xenstore-write /test/w 1
wait $p1; expect_eq "dom0 watch fired" "$(tail -1 "$out")" /test/w
XENSTORED_PATH=$G5 "$B/check-xs" watch /local/domain/5/data 5000 >"$out" & p2=$!
wait_for grep -q armed "$out" || fail "guest watch armed"
xenstore-write /local/domain/5/data/z 2
wait $p2; expect_eq "guest watch fired" "$(tail -1 "$out")" /local/domain/5/data/z

expect_eq "transaction conflict" "$("$B/check-xs" txconflict /test/tx)" EAGAIN
expect_eq "guest transaction conflict" \
	"$(XENSTORED_PATH=$G5 "$B/check-xs" txconflict /local/domain/5/data/tx)" EAGAIN

# A guest client's transactions and watches die with its connection:
# guest quotas are 10 transactions and 128 watches, so leaking 15 / 140
# would make the next one fail if the shim did not clean up.
for i in $(seq 15); do XENSTORED_PATH=$G5 "$B/check-xs" txleak x || fail "txleak $i"; done
expect_eq "transactions of dead clients ended" \
	"$(XENSTORED_PATH=$G5 "$B/check-xs" txconflict /local/domain/5/data/tx2)" EAGAIN
for i in $(seq 140); do XENSTORED_PATH=$G5 "$B/check-xs" watch /local/domain/5/data 1 >/dev/null; done
XENSTORED_PATH=$G5 "$B/check-xs" watch /local/domain/5/data/q 5000 >"$out" & p4=$!
wait_for grep -q armed "$out" || fail "watches of dead clients removed (quota hit)"
xenstore-write /local/domain/5/data/q 1
wait $p4; expect_eq "watch after 140 dead watchers" "$(tail -1 "$out")" /local/domain/5/data/q

# Hypervisor view through the real libxenctrl.
# The shim is preloaded ahead of an ASan runtime in `make asan-check`
# builds; it replaces no allocator, so ASan's link-order check may go.
dominfo() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    LD_PRELOAD=$XENSHIM "$B/check-dominfo" "$1"
}
expect_eq "running" "$(dominfo 6)" "domid=6 dying=0 shutdown=0 crashed=0 reason=0 running=1 paused=0 hvm=0"
"$XW" domain shutdown "$W1" 6 reboot || fail "shutdown"
expect_eq "shutdown reboot" "$(dominfo 6)" "domid=6 dying=0 shutdown=1 crashed=0 reason=1 running=0 paused=0 hvm=0"
"$XW" domain crash "$W1" 6 || fail "crash"
expect_eq "crashed" "$(dominfo 6)" "domid=6 dying=0 shutdown=0 crashed=1 reason=3 running=0 paused=0 hvm=0"
expect_eq "absent domain" "$(dominfo 9)" "domid=9 absent"

# Destroy: @releaseDomain fires; nodes owned by 5 anywhere are deleted.
xenstore-write /test/owned5 x; xenstore-chmod /test/owned5 n5
"$B/check-xs" watch @releaseDomain 5000 >"$out" & p3=$!
wait_for grep -q armed "$out" || fail "release watch armed"
"$XW" domain destroy "$W1" 5 || fail "destroy"
wait $p3; expect_eq "@releaseDomain fired" "$(tail -1 "$out")" @releaseDomain
expect_eq "owned node deleted" "$("$B/check-xs" read /test/owned5)" "ERR ENOENT"
expect_eq "domain dir removed" "$("$B/check-xs" read /local/domain/5)" "ERR ENOENT"
expect_eq "guest socket gone" "$([ -e "$G5" ] && echo present || echo gone)" gone
expect_eq "destroyed domain absent" "$(dominfo 5)" "domid=5 absent"

# A second world, side by side.
new_world; W2=$W
expect_eq "world 2 is empty" "$("$B/check-xs" read /test/a)" "ERR ENOENT"
xenstore-write /test/a world2
expect_eq "world 1 untouched" "$(XENSTORED_PATH=$W1/socket xenstore-read /test/a)" hello
rm -f "$out"
finish
