# Sourced by the broker's xl tests, after tests/world/xl.sh and
# xl_world_setup: an HVM guest whose device model is started the way libxl
# starts a restricted one (dm_restrict=1): QEMU as uid XLDM_UID_BASE+domid
# with -chroot into an empty dir, its QMP on a socket libxl pre-opened
# (<XEN_RUN_DIR>/qmp-libxl-<domid>, passed as fd 3, server=on), an ide-cd
# with libxl's ids (-drive id=ide-<devid> -device ide-cd,id=ide-<devid>);
# xenstore as libxl leaves it (/libxl/<domid>/dm-version=qemu_xen and type,
# device-model/<domid>/state=running, image/device-model-pid (what
# libxl__dm_active reads), the CD-ROM's backend, frontend and
# /libxl/<domid>/device/vbd/<devid> nodes);
# libxl's userdata JSON with the CD-ROM disk.
XLDM_UID_BASE=${XLDM_UID_BASE:-100000}
QEMU=${QEMU:-/usr/bin/qemu-system-x86_64}

# xl_dm_guest DOMID DEVID VDEV: sets up the guest; QEMU's pid in XLDM_PID.
xl_dm_guest() {
	local d=$1 devid=$2 vdev=$3 be fe lx root uid=$((XLDM_UID_BASE + $1))
	xl_guest_create "$d" hvm || return 1
	be=/local/domain/0/backend/qdisk/$d/$devid
	fe=/local/domain/$d/device/vbd/$devid
	lx=/libxl/$d/device/vbd/$devid
	xenstore-write /libxl/$d/dm-version qemu_xen /libxl/$d/type hvm \
	    /local/domain/0/device-model/$d/state running \
	    $be/frontend $fe $be/frontend-id $d $be/params "" \
	    $be/type qdisk $be/mode r $be/device-type cdrom $be/removable 1 \
	    $be/dev "$vdev" $be/online 1 $be/state 4 \
	    $fe/backend $be $fe/backend-id 0 $fe/state 4 \
	    $fe/device-type cdrom $fe/virtual-device "$devid" \
	    $lx/frontend $fe $lx/backend $be $lx/params "" $lx/type qdisk \
	    $lx/mode r $lx/device-type cdrom $lx/removable 1 $lx/dev "$vdev" \
	    $lx/online 1 $lx/frontend-id $d || return 1
	python3 - "$(xl_userdata_path "$d")" "$vdev" <<'PY' || return 1
import json, sys
p = sys.argv[1]
o = json.loads(open(p, "rb").read().rstrip(b"\0"))
o["b_info"]["device_model_version"] = "qemu_xen"
o["disks"] = [{"pdev_path": "", "vdev": sys.argv[2], "backend": "qdisk",
               "format": "empty", "removable": 1, "readwrite": 0,
               "is_cdrom": 1}]
open(p, "w").write(json.dumps(o, indent=4) + "\0")
PY
	# QEMU's uid must reach its chroot: not below the 0700 world dir
	XLDM_ROOT=${XLDM_ROOT:-$(mktemp -d /tmp/xldm-root.XXXXXX)}
	chmod 755 "$XLDM_ROOT"
	root=$XLDM_ROOT/$d
	mkdir -p "$root" && chmod 555 "$root"
	python3 - "$XL_ROOT/run/xen/qmp-libxl-$d" "$uid" "$root" "$devid" \
	    "$QEMU" "$d" >"$XL_ROOT/dm-$d.log" 2>&1 <<'PY' &
import os, socket, subprocess, sys
path, uid, root, devid, qemu, domid = sys.argv[1:7]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
cmd = ["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
       "--inh-caps", "-all,+sys_chroot", "--ambient-caps", "+sys_chroot",
       "--bounding-set", "-all,+sys_chroot",
       qemu, "-name", "xldm-%s" % domid, "-machine", "pc", "-accel", "tcg",
       "-m", "32", "-nodefaults", "-no-user-config", "-display", "none",
       "-chardev", "socket,id=libxl-cmd,fd=3,server=on,wait=off",
       "-mon", "chardev=libxl-cmd,mode=control",
       "-drive", "if=none,id=ide-%s,readonly=on" % devid,
       "-device", "ide-cd,drive=ide-%s,id=ide-%s,bus=ide.1,unit=0" % (devid, devid),
       "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
       "-chroot", root]
os.execvp(cmd[0], cmd)
PY
	XLDM_PID=$!
	local _
	for _ in $(seq 100); do
		[ "$(stat -c %u "/proc/$XLDM_PID" 2>/dev/null)" = "$uid" ] &&
		    [ "$(readlink "/proc/$XLDM_PID/root")" = "$root" ] &&
		    xenstore-write /local/domain/$d/image/device-model-pid \
		    "$XLDM_PID" && return 0
		sleep 0.05
	done
	echo "xl_dm_guest: QEMU did not start: $(cat "$XL_ROOT/dm-$d.log")" >&2
	return 1
}

# xl_dm_qmp DOMID CMD-JSON...: raw QMP exchange on libxl's socket (tests).
xl_dm_qmp() {
	python3 - "$XL_ROOT/run/xen/qmp-libxl-$1" "${@:2}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
f = s.makefile("rb")
json.loads(f.readline())
def cmd(c):
    s.sendall((c + "\n").encode())
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
cmd('{"execute": "qmp_capabilities"}')
for c in sys.argv[2:]:
    print(json.dumps(cmd(c)))
PY
}
