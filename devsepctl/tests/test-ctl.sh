#!/usr/bin/env bash
# test-ctl.sh proves devsepctl against the real daemons (bin/devsep-*,
# started -F in a private run dir) and the real xenstored of a test world:
#  - nothing running: status exits 3 with one "not running" row per daemon
#    naming the missing socket; --json parses and says running=false; the
#    lockd/broker commands exit 3 and mention the driver-domain case;
#  - usage errors exit 2 before any daemon is asked; every command of
#    --help is documented in man/devsepctl.8;
#  - `policy show NAME` prints exactly policy/NAME.policy, --pfc the seccomp
#    filter, --json the tables (lockd: its user, no capability, QUERY
#    allowed to admin);
#  - driver domain (watcherd + hotplugd only): status exits 0, naming
#    lockd exits 3; `devices` lists a vif the toolstack actor added, in the
#    table and in --json; `locks`/`cd-insert` exit 3;
#  - dom0 with lockd: `locks` shows a held slow lock with its holder;
#    `check` finds the vif that has no JSON entry (exit 4, one VIOLATION
#    line) and passes (exit 0) once the domain's JSON describes it;
#  - stats --json parses and carries lockd's counters;
#  - with the broker: dm-start starts a real QEMU, cd-insert/cd-eject work
#    (--json too), an image outside image_dirs, a full drive, an empty
#    drive are refused with exit 1; disk-add/disk-remove of a real image;
#    (scsi: unplug needs no guest); check counts the device model, the
#    medium and the disk; dm-destroy after
#    lockd's destroy began reports DM_GONE;
#  - a daemon killed with SIGKILL leaves a stale socket: exit 3, "stale".
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
case $BUILD in /*) B=$BUILD/tests ;; *) B=$ROOT/$BUILD/tests ;; esac
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
CTL=$BIN/devsepctl
XW=$ROOT/tests/xenworld
R=$(mktemp -d /tmp/ctl.XXXXXX)
chmod 0755 "$R"
W=
PIDS=()
FAILS=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	tests/lib/qmp-reap "$R"		# QEMUs outlive the broker
	[ -n "$W" ] && "$XW" stop "$W" >/dev/null 2>&1
	rm -rf "$R" ${W:+"$W"}
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
# expect RC DESCRIPTION -- CMD...: runs CMD, output in $OUT, checks rc.
expect() {
	local want=$1 what=$2 rc
	shift 3
	OUT=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else
		fail "$what: exit $rc, want $want"; echo "$OUT" | sed 's/^/    /'; fi
}
has() { if grep -q -- "$2" <<<"$OUT"; then ok "$1"; else
	fail "$1: no '$2' in output"; echo "$OUT" | sed 's/^/    /'; fi; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1" <<<"$OUT"; }
wait_sock() {
	local i
	for i in $(seq 300); do [ -S "$R/$1" ] && return 0; sleep 0.01; done
	fail "$1 did not appear"; return 1
}
ctl() { "$CTL" --rundir "$R" -t 3s "$@"; }

# ---- nothing running
expect 3 "status, nothing running" -- ctl status
[ "$(grep -c 'not running' <<<"$OUT")" -eq 4 ] && ok "4 not-running rows" ||
	fail "not-running rows: $OUT"
has "names the missing socket" "no $R/lockd.sock"
expect 3 "status --json, nothing running" -- ctl --json status
json 'assert [x["running"] for x in d["daemons"]] == [False]*4' &&
	ok "--json parses, all running=false" || fail "--json status: $OUT"
expect 3 "locks without lockd" -- ctl locks
has "driver-domain hint" "driver domain where only watcherd and hotplugd run"
expect 3 "cd-insert without broker" -- ctl cd-insert 1 768 /tmp/x.iso
expect 3 "check without lockd" -- ctl check

# ---- usage
expect 2 "unknown command" -- ctl frobnicate
expect 2 "cd-insert missing args" -- ctl cd-insert 1
expect 2 "bad domid" -- ctl devices --domid 1x
expect 2 "bad timeout" -- "$CTL" -t never status
expect 2 "unknown daemon" -- ctl status nosuchd

# ---- every command in --help is documented in devsepctl(8)
n=0
for c in $("$CTL" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
	n=$((n + 1))
	grep -q "^\.It Cm $c\( \|$\)" man/devsepctl.8 || fail "command $c not in man/devsepctl.8"
done
[ $n -ge 12 ] && ok "$n commands documented" || fail "only $n commands in --help"

# ---- policies (no daemon needed)
for p in policy/*.policy; do
	n=$(basename "$p" .policy)
	if "$CTL" policy show "$n" | cmp -s - "$p"; then
		ok "policy show $n is policy/$n.policy"
	else
		fail "policy show $n differs from $p"
	fi
done
expect 0 "policy show lockd --pfc" -- "$CTL" policy show lockd --pfc
has "pfc is libseccomp's pseudo filter code" "pseudo filter code start"
expect 0 "policy --json" -- "$CTL" --json policy show devsep-lockd
json 'assert d["user"] == "devsep-lockd" and d["capabilities"] == ["DAC_OVERRIDE"] and any(m["name"] == "MSG_LOCK_QUERY" and "admin" in m["peers"] for m in d["messages"])' &&
	ok "policy --json: user, no caps, QUERY allowed to admin" ||
	fail "policy --json: $OUT"
expect 2 "policy show of an unknown daemon" -- "$CTL" policy show nosuchd

# ---- driver domain: watcherd + hotplugd on a real xenstored
W=$(mktemp -d /tmp/xw.XXXXXX)
eval "$("$XW" start "$W")" || { fail "cannot start a test world"; exit 1; }
"$XW" domain create "$W" 5 >/dev/null || fail "domain create 5"
"$BIN/devsep-hotplugd" -F --rundir "$R" >"$R/hotplugd.log" 2>&1 &
PIDS+=($!)
wait_sock hotplugd.sock
"$BIN/devsep-watcherd" -F --rundir "$R" --domid 0 >"$R/watcherd.log" 2>&1 &
PIDS+=($!)
wait_sock watcherd.sock
expect 0 "status in a driver domain" -- ctl status
expect 0 "status watcherd hotplugd" -- ctl status watcherd hotplugd
expect 3 "status lockd (named, absent)" -- ctl status lockd
"$B/actor-toolstack" add --backend-domid 0 --domid 5 --kind vif --devid 0 \
	--bridge br0 >/dev/null || fail "toolstack add vif"
for i in $(seq 100); do
	OUT=$(ctl devices --domid 5 2>&1) && grep -q '^vif  *5  *0 ' <<<"$OUT" &&
		break
	sleep 0.05
done
expect 0 "devices" -- ctl devices --domid 5
has "devices lists vif 5/0" '^vif  *5  *0 '
expect 0 "devices --json" -- ctl --json devices
json 'assert any(x["kind"]=="vif" and x["domid"]==5 and x["devid"]==0 for x in d["devices"])' &&
	ok "devices --json has the vif" || fail "devices --json: $OUT"
expect 3 "locks in a driver domain" -- ctl locks
expect 0 "stats of hotplugd" -- ctl stats hotplugd
has "histogram rendered as buckets" "^hotplugd  *run_time_ms  *<=10ms:[0-9]* .* inf:[0-9]*$"

# ---- dom0: lockd too
"$BIN/devsep-lockd" -F --rundir "$R" --statedir "$R/state" \
	--libxl-dir "$R/xenlib" \
	>"$R/lockd.log" 2>&1 &
LOCKD=$!
PIDS+=($LOCKD)
wait_sock lockd.sock
"$B/lockd-tool" "$R" create 7 '{}' >/dev/null || fail "lockd-tool create 7"
"$B/lockd-tool" "$R" hold 7 slow 5 >"$R/hold.out" 2>&1 &
HOLD=$!
PIDS+=($HOLD)
for i in $(seq 200); do grep -q held "$R/hold.out" && break; sleep 0.01; done
expect 0 "locks" -- ctl locks
has "slow lock of 7 held by lockd-tool" "^7 .* slow  *pid=$HOLD "
kill $HOLD 2>/dev/null
expect 4 "check: vif 5/0 has no JSON" -- ctl check
has "violation line" "VIOLATION domid=5 xenstore kind=vif id=0"
"$B/lockd-tool" "$R" create 5 '{"devices":{"vif":[{"devid":0}]}}' \
	>/dev/null || fail "lockd-tool create 5"
expect 0 "check once the JSON describes it" -- ctl check
has "check summary" "^ok: 0 violations"
expect 0 "check --json" -- ctl --json check
json 'assert d["ok"] is True and d["violations"] == 0' &&
	ok "check --json parses" || fail "check --json: $OUT"
expect 0 "stats --json" -- ctl --json stats lockd
json 'assert d["daemons"][0]["stats"]["counters"]["domain_create"] >= 2' &&
	ok "stats --json has lockd counters" || fail "stats --json: $OUT"

# ---- the broker: a real deprivileged QEMU, CD-ROM through fd passing
if [ -x "$BIN/devsep-qemu-broker" ]; then
	mkdir -p "$R/img"
	truncate -s 1M "$R/img/cd.iso" "$R/outside.iso"
	chmod 0644 "$R/img/cd.iso" "$R/outside.iso"
	printf 'image_dirs = %s/img\nrun_dir = %s\n' "$R" "$R" >"$R/b.conf"
	"$BIN/devsep-qemu-broker" -F -c "$R/b.conf" >"$R/broker.log" 2>&1 &
	PIDS+=($!)
	wait_sock broker.sock
	"$B/lockd-tool" "$R" create 9 '{}' >/dev/null || fail "create 9"
	expect 0 "dm-start" -- ctl -t 30s dm-start 9 --cdrom 768 --run
	has "dm-start prints QEMU's pid" "started: domid=9 qemu pid="
	expect 1 "cd-insert outside image_dirs is refused" -- \
		ctl -t 30s cd-insert 9 768 "$R/outside.iso"
	expect 0 "cd-insert" -- ctl -t 30s --json cd-insert 9 768 "$R/img/cd.iso"
	json 'assert d["result"] == "inserted" and isinstance(d["fdset"], int)' &&
		ok "cd-insert --json" || fail "cd-insert --json: $OUT"
	expect 1 "second cd-insert into a full drive is refused" -- \
		ctl -t 30s cd-insert 9 768 "$R/img/cd.iso"
	expect 0 "check with a medium in (JSON has it)" -- ctl check
	has "check counted the QMP things" "qmp: 2 QMP things"
	truncate -s 8M "$R/img/disk.img"
	chmod 0644 "$R/img/disk.img"
	expect 0 "disk-add" -- ctl -t 30s disk-add 9 3 "$R/img/disk.img" --ro --bus scsi
	has "disk-add prints the fdset" "^added: fdset="
	expect 0 "check with a hot-added disk" -- ctl check
	has "the disk is a QMP thing" "qmp: 3 QMP things"
	expect 0 "disk-remove" -- ctl -t 30s disk-remove 9 3
	expect 1 "disk-remove of a removed disk is refused" -- \
		ctl -t 30s disk-remove 9 3
	expect 0 "cd-eject" -- ctl -t 30s cd-eject 9 768
	expect 1 "cd-eject of an empty drive is refused" -- \
		ctl -t 30s cd-eject 9 768
	"$B/lockd-tool" "$R" begin 9 >/dev/null || fail "destroy begin 9"
	expect 0 "dm-destroy" -- ctl -t 30s dm-destroy 9
	has "broker told lockd DM_GONE" "lockd told DM_GONE"
fi

# ---- a crashed daemon
kill -9 $LOCKD
wait $LOCKD 2>/dev/null
expect 3 "status lockd after SIGKILL" -- ctl status lockd
has "stale socket explained" "stale socket"

if [ $FAILS -eq 0 ]; then echo PASS; exit 0; fi
echo "$FAILS failure(s)"; exit 1
