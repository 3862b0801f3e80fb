/*
 * lock-bench: costs of devsep-lockd's locks against their alternatives.
 * Run through bench/lock-bench (which starts a lockd).  Prints, one line
 * each:
 *   pingpong    raw SOCK_SEQPACKET round trip between two processes (the
 *               physical floor of any lockd request)
 *   pingpong_oneway  the same plus one message without reply per round
 *               trip: the shape of acquire + fire-and-forget release
 *   pingpong_oneway_epoll  the same shape with the peer an event loop
 *               does no work in: epoll_wait, then recvmsg into a buffer of
 *               lockd's channel size, replies with sendmsg (the floor of
 *               any event-loop daemon speaking this protocol)
 *   libxl_flock libxl's userdata lock in-process: open O_CREAT, flock
 *               LOCK_EX, fstat+stat identity check, unlink, close
 *   lockd_uncontended  fast-lock acquire + release through lockd (one
 *               round trip: release is fire-and-forget)
 *   lockd_contended_K  K client processes hammering one fast lock for a
 *               fixed time: throughput, wait p50/p99/max, fairness
 *               (fewest / most acquisitions of one client)
 * The uncontended figures are the best of ROUNDS alternating runs (the
 * machine is shared; the best run is the one least disturbed).
 * Before the last line, lockd against each floor (floor_*, lockd_vs_*).
 * Last line: lockd_vs_pingpong=<uncontended / pingpong>.
 *
 *   lock-bench RUNDIR [ITERATIONS] [SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "lockd_client.h"
#include "msg.h"
#include "parse.h"
#include "proto_lock.h"

#define BENCH_DOMID	1
#define MAX_SAMPLES	(1 << 20)

static const char *rundir;
static uint32_t iters = 5000;
static uint32_t seconds = 2;

#define ROUNDS	5

static double
min_d(double a, double b)
{
	return a < b ? a : b;
}

static double
per_op_us(uint64_t t0, uint64_t t1, uint32_t n)
{
	return (double)(t1 - t0) / n;
}

/* The plain peer: blocking recv, replies to a request (first byte 0). */
static void
peer_plain(int fd)
{
	char buf[64] = { 0 };

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		if (buf[0] == 0)
			send(fd, buf, 24, 0);
}

/*
 * The event-loop peer: what lockd's loop must do per message and nothing
 * else.  A nonblocking socket in epoll, recvmsg with room for a control
 * message into a buffer of lockd's channel size, sendmsg for the reply.
 */
static void
peer_epoll(int fd)
{
	static uint8_t big[MSG_HDR_SIZE + LOCK_MSG_MAX + 1];
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct epoll_event ev = { .events = EPOLLIN }, out[32];
	struct iovec iov = { big, sizeof(big) }, oiov = { big, 24 };
	struct msghdr mh, oh = { .msg_iov = &oiov, .msg_iovlen = 1 };
	int ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		_exit(1);
	for (;;) {
		if (epoll_wait(ep, out, 32, -1) == -1)
			_exit(1);
		mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		if (recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) <= 0)
			return;
		if (big[0] == 0)
			sendmsg(fd, &oh, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

/*
 * Raw round trips between two processes.  oneway: after each round trip
 * the client also sends one message that gets no reply (the shape of
 * acquire + fire-and-forget release), the floor for lockd's protocol.
 * epoll: the peer is peer_epoll(), else peer_plain().
 */
static double
bench_pingpong(int oneway, int epoll)
{
	char buf[64] = { 0 };
	uint64_t t0, t1;
	uint32_t i;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		exit(1);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		if (epoll)
			peer_epoll(sv[1]);
		else
			peer_plain(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	t0 = now_us();
	for (i = 0; i < iters; i++) {
		buf[0] = 0;
		if (send(sv[0], buf, 36, 0) != 36 ||
		    recv(sv[0], buf, sizeof(buf), 0) <= 0)
			exit(1);
		buf[0] = 1;
		if (oneway && send(sv[0], buf, 28, 0) != 28)
			exit(1);
	}
	t1 = now_us();
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return per_op_us(t0, t1, iters);
}

/* libxl__lock_file / libxl__unlock_file, reduced to the system calls. */
static double
bench_flock(void)
{
	char path[] = "/tmp/lock-bench-XXXXXX", file[64];
	struct stat a, b;
	uint64_t t0, t1;
	uint32_t i;
	int fd;

	if (mkdtemp(path) == NULL)
		exit(1);
	snprintf(file, sizeof(file), "%s/domain-userdata-lock", path);
	t0 = now_us();
	for (i = 0; i < iters; i++) {
		fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (fd == -1 || flock(fd, LOCK_EX) == -1 || fstat(fd, &a) ||
		    stat(file, &b) || a.st_ino != b.st_ino)
			exit(1);
		unlink(file);
		close(fd);
	}
	t1 = now_us();
	rmdir(path);
	return per_op_us(t0, t1, iters);
}

static struct lockc *
bench_open(void)
{
	struct lockc *c = lockc_open(rundir);

	if (c == NULL) {
		fprintf(stderr, "lock-bench: lockd at %s: %s\n", rundir,
		    strerror(errno));
		exit(1);
	}
	return c;
}

static double
bench_lockd_uncontended(void)
{
	struct lockc *c = bench_open();
	uint64_t t0, t1;
	uint32_t i;

	t0 = now_us();
	for (i = 0; i < iters; i++)
		if (lockc_acquire(c, BENCH_DOMID, LOCK_FAST,
		    LOCK_TIMEOUT_INFINITE, NULL) != 0 ||
		    lockc_release(c, BENCH_DOMID, LOCK_FAST) != 0)
			exit(1);
	/* a last round trip: every release has been processed */
	if (lockc_trylock(c, BENCH_DOMID, LOCK_FAST, NULL) != 0)
		exit(1);
	t1 = now_us();
	lockc_close(c);
	return per_op_us(t0, t1, iters);
}

/* Shared with the contending children. */
struct shared {
	volatile int	 go;
	volatile int	 stop;
	uint64_t	 count[64];
	uint32_t	 nsamples;
	uint32_t	 samples[MAX_SAMPLES];	/* wait, microseconds */
};

static void
contender(struct shared *sh, int id)
{
	struct lockc *c = bench_open();
	uint64_t t0, w;
	uint32_t k;

	while (!sh->go)
		usleep(100);
	while (!sh->stop) {
		t0 = now_us();
		if (lockc_acquire(c, BENCH_DOMID, LOCK_FAST,
		    LOCK_TIMEOUT_INFINITE, NULL) != 0)
			_exit(1);
		w = now_us() - t0;
		sh->count[id]++;
		k = __atomic_fetch_add(&sh->nsamples, 1, __ATOMIC_RELAXED);
		if (k < MAX_SAMPLES)
			sh->samples[k] = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
		if (lockc_release(c, BENCH_DOMID, LOCK_FAST) != 0)
			_exit(1);
	}
	lockc_close(c);
	_exit(0);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
bench_contended(int k)
{
	struct shared *sh;
	uint64_t t0, t1, total = 0, lo = UINT64_MAX, hi = 0;
	uint32_t n;
	pid_t pids[64];
	int i;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		exit(1);
	for (i = 0; i < k; i++)
		if ((pids[i] = fork()) == 0)
			contender(sh, i);
	usleep(200000);
	t0 = now_us();
	sh->go = 1;
	sleep(seconds);
	sh->stop = 1;
	for (i = 0; i < k; i++)
		waitpid(pids[i], NULL, 0);
	t1 = now_us();
	for (i = 0; i < k; i++) {
		total += sh->count[i];
		lo = sh->count[i] < lo ? sh->count[i] : lo;
		hi = sh->count[i] > hi ? sh->count[i] : hi;
	}
	n = sh->nsamples < MAX_SAMPLES ? sh->nsamples : MAX_SAMPLES;
	qsort(sh->samples, n, sizeof(uint32_t), cmp_u32);
	printf("lockd_contended_%d: %.0f acq/s  wait p50=%uus p99=%uus "
	    "max=%uus  per-client min=%llu max=%llu\n", k,
	    total * 1e6 / (double)(t1 - t0), n ? sh->samples[n / 2] : 0,
	    n ? sh->samples[(uint64_t)n * 99 / 100] : 0,
	    n ? sh->samples[n - 1] : 0, (unsigned long long)lo,
	    (unsigned long long)hi);
	munmap(sh, sizeof(*sh));
}

int
main(int argc, char **argv)
{
	struct lockc *c;
	double pp, po, pe, fl, ld;
	int r;

	if (argc < 2 || (argc > 2 && parse_u32(argv[2], 10000000, &iters)) ||
	    (argc > 3 && parse_u32(argv[3], 60, &seconds)) || iters == 0) {
		fprintf(stderr, "usage: lock-bench RUNDIR [ITERATIONS] "
		    "[SECONDS]\n");
		return 2;
	}
	rundir = argv[1];
	c = bench_open();
	lockc_domain_create(c, BENCH_DOMID, NULL, NULL);	/* EEXIST ok */
	lockc_close(c);
	/* alternate the runs, keep each one's best: the machine is shared */
	pp = po = pe = fl = ld = 1e12;
	for (r = 0; r < ROUNDS; r++) {
		pp = min_d(pp, bench_pingpong(0, 0));
		po = min_d(po, bench_pingpong(1, 0));
		pe = min_d(pe, bench_pingpong(1, 1));
		fl = min_d(fl, bench_flock());
		ld = min_d(ld, bench_lockd_uncontended());
	}
	printf("pingpong: %.2f us/round trip (best of %d x %u)\n", pp,
	    ROUNDS, iters);
	printf("pingpong_oneway: %.2f us/round trip + one-way message\n", po);
	printf("pingpong_oneway_epoll: %.2f us/same, peer in epoll_wait + "
	    "recvmsg + sendmsg\n", pe);
	printf("libxl_flock: %.2f us/lock+unlock\n", fl);
	printf("lockd_uncontended: %.2f us/acquire+release\n", ld);
	bench_contended(16);
	bench_contended(64);
	printf("floor_oneway_vs_pingpong=%.2f\n", po / pp);
	printf("floor_epoll_vs_pingpong=%.2f\n", pe / pp);
	printf("lockd_vs_floor_oneway=%.2f\n", ld / po);
	printf("lockd_vs_floor_epoll=%.2f\n", ld / pe);
	printf("lockd_vs_pingpong=%.2f\n", ld / pp);
	return 0;
}
