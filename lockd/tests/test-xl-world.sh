#!/usr/bin/env bash
# lockd in xl mode against the REAL xl (Debian's libxl 4.17, tests/world/
# xl.sh: private /var/lib/xen, shim as hypervisor, the world's xenstored).
# lockd's libxl_dir is xl's private /var/lib/xen ($XL_ROOT/lib).  Proves:
#  - devsep holding a domain's fast lock makes `xl block-attach` wait (libxl
#    takes domain-userdata-lock around its JSON + xenstore update), and
#    holding the slow lock makes `xl list -l` wait (libxl reads the config
#    under libxl-device-changes-lock); the other direction is in
#    test-xl-locks.sh (libxl's code replica) and the broker's xl tests;
#  - `devsepctl check` (and lockd-tool xscheck, the same checker) compares
#    xenstore with libxl's JSON: clean after real xl attaches, a backend
#    that libxl's JSON does not describe is reported (exit 4), and only it;
#  - a devsep write of libxl's JSON is read by xl (network-attach rewrites
#    the JSON from it: devsep's change kept, xl's disk and both nics there).
. "$(dirname "$0")/../../tests/world/lib.sh"
. "$ROOT/tests/world/xl.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (mount namespace)"; exit 1; }
BIN=${BIN:-bin}
TOOL=$B/lockd-tool

new_world
xl_world_setup || exit 1
xl_guest_create 5 hvm || { fail "guest 5"; finish; }
"$B/actor-backend" -d "$W" --backend-domid 0 >"$W/be.log" 2>&1 &
JOBS_TO_KILL=$!
wait_for grep -q ready "$W/be.log" || fail "backend ready"
printf '#!/bin/sh\nexit 0\n' >"$XL_ROOT/etc/scripts/hp"
chmod 755 "$XL_ROOT/etc/scripts/hp"

mkdir -p "$W/run" "$W/state"
"$ROOT/$BIN/devsep-lockd" -F -d --rundir "$W/run" --statedir "$W/state" \
    -c /dev/null --libxl-dir "$XL_ROOT/lib" >"$W/lockd.log" 2>&1 &
JOBS_TO_KILL="$JOBS_TO_KILL $!"
wait_for "$TOOL" "$W/run" status >/dev/null || { fail "lockd"; finish; }
grep -q "xl mode" "$W/lockd.log" || fail "lockd not in xl mode"
tool() { "$TOOL" "$W/run" "$@"; }

# devsep holds the fast lock (domain-userdata-lock): xl block-attach, which
# takes it around its JSON + xenstore update, waits for it
tool hold 5 fast 2 >"$W/h" 2>&1 &
H=$!
wait_for grep -q held "$W/h" || fail "devsep hold"
if run_xl block-attach 5 format=raw,vdev=xvdb,access=rw,backendtype=phy,script=hp,target=/dev/null; then
	[ "$XL_MS" -ge 1500 ] && ok "xl block-attach waited for devsep's fast lock ($XL_MS ms)" ||
	    fail "xl block-attach did not wait for devsep's fast lock ($XL_MS ms)"
else
	fail "xl block-attach: $(cat "$XL_ERR")"
fi
kill $H 2>/dev/null; wait $H 2>/dev/null

# devsep holds the slow lock (libxl-device-changes-lock): `xl list -l`,
# which reads the config under it, waits (it then fails in this world:
# the shim has no cpupool/scheduler info; only the wait is checked)
tool hold 5 slow 2 >"$W/h" 2>&1 &
H=$!
wait_for grep -q held "$W/h" || fail "devsep hold"
run_xl list -l 5
[ "$XL_MS" -ge 1500 ] && ok "xl list -l waited for devsep's slow lock ($XL_MS ms)" ||
    fail "xl list -l did not wait for devsep's slow lock ($XL_MS ms): $(cat "$XL_ERR")"
kill $H 2>/dev/null; wait $H 2>/dev/null
run_xl network-attach 5 script=hp mac=00:16:3e:00:00:05 ||
    fail "xl network-attach: $(cat "$XL_ERR")"

# devsepctl check's checker against libxl's JSON
export XENSTORED_PATH=$XENWORLD_DIR/socket
if tool xscheck 0 >"$W/chk"; then ok "xl's devices all in libxl's JSON: $(tail -1 "$W/chk")"
else fail "violations after real xl attaches: $(cat "$W/chk")"; fi
"$ROOT/$BIN/devsepctl" --rundir "$W/run" check >"$W/ctl" 2>&1
rc=$?
[ $rc = 0 ] && ok "devsepctl check clean on the xl guest" ||
    fail "devsepctl check exit $rc: $(cat "$W/ctl")"
xenstore-write /local/domain/0/backend/vbd/5/51760/state 1
"$ROOT/$BIN/devsepctl" --rundir "$W/run" check >"$W/ctl" 2>&1
rc=$?
[ $rc = 4 ] && grep -q 51760 "$W/ctl" && ok "devsepctl check: exit 4, names vbd 51760" ||
    fail "devsepctl check missed the undescribed backend (exit $rc): $(cat "$W/ctl")"
tool xscheck 0 >"$W/chk" && fail "a backend libxl's JSON lacks: missed"
grep -q "VIOLATION domid=5 xenstore kind=vbd id=51760" "$W/chk" &&
    [ "$(grep -c VIOLATION "$W/chk")" = 1 ] && ok "only the undescribed backend reported" ||
    fail "$(cat "$W/chk")"
xenstore-rm /local/domain/0/backend/vbd/5/51760

# a devsep write of the JSON: xl reads it and nothing of xl's is lost
cfg=$(tool read 5 | sed 's/^generation=[0-9]* //')
new=$(echo "$cfg" | python3 -c 'import json,sys; o=json.load(sys.stdin); o["c_info"]["name"]="renamed5"; print(json.dumps(o))')
tool write 5 "$new" >/dev/null || fail "devsep write"
run_xl network-attach 5 script=hp mac=00:16:3e:00:00:06 ||
    fail "xl network-attach after devsep's write: $(cat "$XL_ERR")"
python3 - "$(xl_userdata_path 5)" <<'PY' && ok "xl read devsep's JSON and wrote it back (devsep's change kept, xl's disk and both nics there)" || fail "JSON after xl: $(cat "$(xl_userdata_path 5)")"
import json, sys
b = open(sys.argv[1], 'rb').read()
o = json.loads(b.rstrip(b"\0"))
assert o["c_info"]["name"] == "renamed5", o["c_info"]
assert any(d.get("vdev") == "xvdb" for d in o.get("disks", [])), o.get("disks")
macs = sorted(n.get("mac") for n in o["nics"])
assert macs == ["00:16:3e:00:00:05", "00:16:3e:00:00:06"], macs
PY
ls "$XL_ROOT/lib" | grep -q "userdata-l\." && fail "lock files left: $(ls "$XL_ROOT/lib")"
finish
