#!/usr/bin/env python3
"""libxl's side of the userdata locks and JSON, done the way libxl 4.17
does it (libxl__lock_file / libxl__unlock_file, libxl__userdata_store), for
lockd/tests/test-xl-locks.sh until the real xl runs in the test world.

  libxl-actor.py DIR DOMID UUID hold slow|fast|qmp SECONDS  "held", release
  libxl-actor.py DIR DOMID UUID contend N    N x {fast lock; counter += 1}
  libxl-actor.py DIR DOMID UUID mkjson       a libxl-like domain JSON

Locking: open O_RDWR|O_CREAT 0666, flock(LOCK_EX) (blocking, in the kernel
queue), then stat(path) must equal fstat(fd) or retry; release: unlink,
LOCK_UN, close.  JSON: write userdata-n... 0600 with the trailing NUL,
rename over userdata-d....
"""
import fcntl
import json
import os
import sys
import time

NAMES = {"slow": "libxl-device-changes-lock", "fast": "domain-userdata-lock",
         "qmp": "qmp-socket-lock"}


def path(d, wh, domid, uuid, userid):
    return os.path.join(d, "userdata-%s.%s.%s.%s" % (wh, domid, uuid, userid))


def lock(d, domid, uuid, which):
    p = path(d, "l", domid, uuid, NAMES[which])
    while True:
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        fst = os.fstat(fd)
        try:
            st = os.stat(p)
            if (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino):
                return fd, p
        except FileNotFoundError:
            pass
        os.close(fd)


def unlock(fd, p):
    os.unlink(p)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def read_json(d, domid, uuid):
    with open(path(d, "d", domid, uuid, "libxl-json"), "rb") as f:
        b = f.read()
    assert b.endswith(b"\0"), "libxl's JSON ends with a NUL"
    return json.loads(b[:-1])


def write_json(d, domid, uuid, o):
    n = path(d, "n", domid, uuid, "libxl-json")
    fd = os.open(n, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, json.dumps(o, indent=4).encode() + b"\0")
    os.close(fd)
    os.rename(n, path(d, "d", domid, uuid, "libxl-json"))


def mkjson(domid, uuid):
    return {
        "c_info": {"type": "hvm", "name": "xlguest%s" % domid, "uuid": uuid},
        "b_info": {"max_memkb": 131072, "target_memkb": 131072,
                   "device_model_version": "qemu_xen",
                   "type.hvm": {"firmware": "bios"}},
        "disks": [{"pdev_path": "", "vdev": "hdc", "backend": "qdisk",
                   "format": "empty", "removable": 1, "is_cdrom": 1}],
        "nics": [{"devid": 0, "mac": "00:16:3e:00:00:01"}],
        "on_reboot": "restart",
        "counter": 0,
    }


def main():
    d, domid, uuid, cmd = sys.argv[1:5]
    if cmd == "mkjson":
        write_json(d, domid, uuid, mkjson(domid, uuid))
    elif cmd == "hold":
        fd, p = lock(d, domid, uuid, sys.argv[5])
        print("held", flush=True)
        time.sleep(float(sys.argv[6]))
        unlock(fd, p)
        print("released", flush=True)
    elif cmd == "contend":
        for _ in range(int(sys.argv[5])):
            fd, p = lock(d, domid, uuid, "fast")
            o = read_json(d, domid, uuid)
            o["counter"] = o.get("counter", 0) + 1
            write_json(d, domid, uuid, o)
            unlock(fd, p)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
