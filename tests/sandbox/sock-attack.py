#!/usr/bin/python3
"""sock-attack.py: the hostile side of tests/sandbox/test-sockets.sh.

Run under the attacker's uid (setpriv): speaks devsep's framing
({u32 type, u32 len, u32 reqid, u32 pid} + payload, one SOCK_SEQPACKET
datagram per message) and reports what the daemon did.

  send PATH TYPE [u32|u64:N|s:STR]...  one request; prints REPLY <type>,
                                       DROPPED (EOF, refused at accept),
                                       EACCES, NOSOCK or TIMEOUT
  flood PATH N OUT                     opens N connections, writes
                                       "open=A eacces=B other=C" to OUT,
                                       then holds them until killed
  idle PATH SECS                       connects, sends nothing; prints
                                       CLOSED <s> when the daemon hangs up
                                       within SECS, else OPEN
  impostor PATH LOG [UID]              listens at PATH (0777) as a fake
                                       daemon: appends "accept" per
                                       connection and "got <bytes>" per
                                       datagram to LOG, answers OK; with
                                       UID (run as root): binds as root,
                                       then drops to UID before listen(),
                                       as if a socket in a root-only run
                                       dir were served by UID
"""
import errno
import os
import socket
import struct
import sys
import time

HDR = "<IIII"
MSG_OK = 5
WAIT_S = 3


def payload(args):
    out = b""
    for a in args:
        if a.startswith("u64:"):
            out += struct.pack("<Q", int(a[4:]))
        elif a.startswith("s:"):
            s = a[2:].encode()
            out += struct.pack("<I", len(s)) + s
        else:
            out += struct.pack("<I", int(a))
    return out


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    return s


def cmd_send(path, mtype, args):
    body = payload(args)
    try:
        s = connect(path)
    except PermissionError:
        return "EACCES"
    except (FileNotFoundError, ConnectionRefusedError):
        return "NOSOCK"
    s.settimeout(WAIT_S)
    try:
        s.send(struct.pack(HDR, int(mtype), len(body), 7, os.getpid()) + body)
        r = s.recv(1 << 20)
    except (BrokenPipeError, ConnectionResetError):
        return "DROPPED"
    except socket.timeout:
        return "TIMEOUT"
    if not r:
        return "DROPPED"
    return "REPLY %d" % struct.unpack(HDR, r[:16])[0]


def cmd_flood(path, n, out):
    socks, eacces, other = [], 0, 0
    for _ in range(int(n)):
        try:
            socks.append(connect(path))
        except PermissionError:
            eacces += 1
        except OSError:
            other += 1
    with open(out, "w") as f:
        f.write("open=%d eacces=%d other=%d\n" % (len(socks), eacces, other))
    while True:
        time.sleep(60)


def cmd_idle(path, secs):
    s = connect(path)
    s.settimeout(float(secs))
    t0 = time.monotonic()
    try:
        r = s.recv(100)
    except socket.timeout:
        return "OPEN"
    except ConnectionResetError:
        r = b""
    return "CLOSED %.1f" % (time.monotonic() - t0) if not r else "DATA"


def cmd_impostor(path, log, uid=None):
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ls.bind(path)
    os.chmod(path, 0o777)
    if uid is not None:
        os.setgroups([])
        os.setgid(int(uid))
        os.setuid(int(uid))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        with open(log, "a") as f:
            f.write("accept\n")
        c.settimeout(WAIT_S)
        try:
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                with open(log, "a") as f:
                    f.write("got %d\n" % len(d))
                reqid = struct.unpack(HDR, d[:16])[2] if len(d) >= 16 else 0
                c.send(struct.pack(HDR, MSG_OK, 0, reqid, os.getpid()))
        except OSError:
            pass
        c.close()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd, path = argv[1], argv[2]
    if cmd == "send":
        print(cmd_send(path, argv[3], argv[4:]))
    elif cmd == "flood":
        cmd_flood(path, argv[3], argv[4])
    elif cmd == "idle":
        print(cmd_idle(path, argv[3]))
    elif cmd == "impostor":
        cmd_impostor(path, argv[3], argv[4] if len(argv) > 4 else None)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
