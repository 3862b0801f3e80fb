#!/usr/bin/env bash
# Proves, through the real daemon and separate client processes:
#  - kill -9 of a holder frees its lock at once: a waiter blocked on it is
#    served within 0.5 s of the kill (its timeout is 20 s);
#  - try-lock on a held lock fails EAGAIN; a timed acquire fails ETIMEDOUT
#    after its timeout (not before);
#  - an out-of-order request is refused at once with EDEADLK naming the
#    held lock; config access without the fast lock is refused (EPERM);
#  - absent domain: ESRCH; create twice: EEXIST; a compare-and-swap write
#    with a stale generation fails ESTALE and changes nothing;
#  - a malformed message drops only that peer, lockd keeps serving;
#  - a flood of 1010 connections: the ones above 1000 are closed, lockd
#    keeps serving.
. "$(dirname "$0")/lib.sh"
start_lockd
tool create 1 >/dev/null && tool create 2 >/dev/null || fail create

# holder death
$TOOL "$R" hold 1 fast 60 >"$T/h" 2>&1 & H=$!
wait_line "$T/h" held
$TOOL "$R" acquire 1 fast 20000 >"$T/w" 2>&1 & W=$!
sleep 0.3
t0=$(date +%s%N); kill -9 $H
wait $W || fail "waiter failed: $(cat $T/w)"
dt=$((($(date +%s%N) - t0) / 1000000))
echo "waiter served ${dt} ms after kill -9 of the holder ($(cat $T/w))"
[ $dt -lt 500 ] || fail "waiter served only after $dt ms"
ok "holder death releases at once"

# try-lock and timeout
$TOOL "$R" hold 1 slow 60 >"$T/h" 2>&1 & H=$!
wait_line "$T/h" held
expect_rc $X_EAGAIN try 1 slow
t0=$(date +%s%N)
expect_rc $X_ETIMEDOUT acquire 1 slow 300
dt=$((($(date +%s%N) - t0) / 1000000))
[ $dt -ge 300 ] && [ $dt -lt 2000 ] || fail "timeout after $dt ms, wanted ~300"
grep -q "timed out" "$T/out" || fail "no message: $(cat $T/out)"
kill -9 $H; wait $H 2>/dev/null
ok "try-lock EAGAIN, timeout ETIMEDOUT after ${dt} ms"

# order, permissions, lifecycle errors
expect_rc $X_EDEADLK order
grep -q "holds the slow lock of domid 2" "$T/out" || fail "message: $(cat $T/out)"
expect_rc $X_ESRCH acquire 9 fast 100
expect_rc $X_EEXIST create 1
ok "EDEADLK with the held lock named; ESRCH; EEXIST"

# config access needs the fast lock (raw client: lockd-tool always locks)
python3 - "$R/lockd.sock" <<'PY' || fail "unlocked config read not refused"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
# CONFIG_READ (202): u32 owner, u32 domid
s.send(struct.pack("<IIII", 202, 8, 1, 0) + struct.pack("<II", 0, 1))
r = s.recv(4096); t, l, req, pid = struct.unpack("<IIII", r[:16])
err = struct.unpack("<I", r[16:20])[0]
assert t == 6 and err == 1, (t, err)   # MSG_COMMON_ERROR, EPERM
# a malformed ACQUIRE (short payload) drops this peer only
s.send(struct.pack("<IIII", 200, 4, 2, 0) + struct.pack("<I", 1))
assert s.recv(4096) == b""               # EOF: dropped
PY
tool status >/dev/null || fail "lockd died after a malformed message"
ok "EPERM without the fast lock; a malformed message drops only its peer"

# compare-and-swap
gen=$(tool read 2 | sed 's/generation=\([0-9]*\).*/\1/')
python3 - "$R/lockd.sock" "$gen" <<'PY' || fail "CAS"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
gen = int(sys.argv[2])
def call(t, payload, req):
    s.send(struct.pack("<IIII", t, len(payload), req, 0) + payload)
    r = s.recv(65536); return struct.unpack("<IIII", r[:16]), r[16:]
h, p = call(200, struct.pack("<IIIII", 0, 2, 2, 0, 1000), 1)   # fast lock dom 2
assert h[0] == 5, h
js = b'{"x":1}'
h, p = call(204, struct.pack("<IIQI", 0, 2, gen + 7, len(js)) + js, 2)
assert h[0] == 6 and struct.unpack("<I", p[:4])[0] == 116, (h, p)  # ESTALE
h, p = call(204, struct.pack("<IIQI", 0, 2, gen, len(js)) + js, 3)
assert h[0] == 5 and struct.unpack("<Q", p)[0] == gen + 1, (h, p)
PY
out=$(tool read 2)
[ "$out" = "generation=$((gen + 1)) {\"x\":1}" ] || fail "after CAS: $out"
ok "CAS: stale generation refused (ESTALE), matching one applied"

# a connection flood is bounded (LOCKD_MAX_PER_CLASS = 480 per peer class:
# root's flood leaves the broker its slots) and does not stop lockd
python3 - "$R/lockd.sock" <<'PY' || fail "connection flood"
import resource, socket, struct, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 2048))
socks = []
for i in range(1010):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1]); socks.append(s)
time.sleep(0.5)
# STATUS (1) on the first: served; the last ones were closed by lockd
socks[0].send(struct.pack("<IIII", 1, 0, 1, 0))
assert struct.unpack("<I", socks[0].recv(65536)[:4])[0] == 2
socks[-1].settimeout(2)
assert socks[-1].recv(100) == b""
for s in socks: s.close()
PY
sleep 0.3
tool status >/dev/null || fail "lockd not serving after the flood"
grep -q "admin connections already" "$T/lockd.log" || fail "no log for the limit"
ok "connection flood: limit enforced, lockd keeps serving"
