/*
 * Integration test of the async client API (common/lockd_client.h (b)),
 * the one qemu-broker uses, against a real lockd (test-async.sh).
 * Proves: callbacks complete from the event loop (a queued acquire does
 * not block it: other owners' requests complete meanwhile); owners on one
 * connection are independent lock holders served FIFO; config read/write
 * through callbacks; a release cancels a pending acquire (-ECANCELED);
 * lock-order refusals carry lockd's message; losing lockd completes every
 * pending callback with -ECONNRESET and then calls on_lost.
 *
 *   test-async RUNDIR LOCKD_PID
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon.h"
#include "lockd_client.h"
#include "parse.h"

struct res {
	int	 done;
	int	 rc;
	uint64_t gen;
	char	 json[256];
	char	 err[256];
};

static struct event_base *base;
static int lost;

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: %s\n", \
	__FILE__, __LINE__, #c); exit(1); } } while (0)

static void
cb(int rc, const struct lockc_reply *r, void *arg)
{
	struct res *s = arg;

	s->done++;
	s->rc = rc;
	s->gen = r->gen;
	snprintf(s->json, sizeof(s->json), "%s", r->json ? r->json : "");
	snprintf(s->err, sizeof(s->err), "%s", r->errmsg);
}

static void
on_lost(void *arg)
{
	lost++;
}

/* Runs the loop until *flag is set (5 s at most). */
static void
wait_for(const int *flag)
{
	uint64_t end = now_ms() + 5000;
	struct timeval tv = { 0, 10000 };

	while (!*flag && now_ms() < end) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	CHECK(*flag);
}

int
main(int argc, char **argv)
{
	struct res a1 = { 0 }, a2 = { 0 }, f1 = { 0 }, rd = { 0 }, wr = { 0 },
	    a3 = { 0 }, ord = { 0 }, a4 = { 0 }, w4 = { 0 };
	struct lockc_async *la;
	struct lockc *c;
	uint32_t lpid;

	CHECK(argc == 3 && parse_u32(argv[2], INT32_MAX, &lpid) == 0);
	CHECK((c = lockc_open(argv[1])) != NULL);
	CHECK(lockc_domain_create(c, 1, "{\"n\":1}", NULL) == 0);
	CHECK(lockc_domain_create(c, 2, NULL, NULL) == 0);
	lockc_close(c);
	CHECK((base = event_base_new()) != NULL);
	CHECK((la = lockc_async_new(base, argv[1], on_lost, NULL)) != NULL);

	/* owner 1 takes slow 1; owner 2 queues behind it */
	CHECK(lockc_async_acquire(la, 1, 1, LOCK_SLOW, 0, 0, cb, &a1) == 0);
	wait_for(&a1.done);
	CHECK(a1.rc == 0);
	CHECK(lockc_async_acquire(la, 2, 1, LOCK_SLOW, 0, 0, cb, &a2) == 0);
	/* while owner 2 waits, owner 1 works: the loop is not blocked */
	CHECK(lockc_async_acquire(la, 1, 1, LOCK_FAST, 0, 0, cb, &f1) == 0);
	wait_for(&f1.done);
	CHECK(f1.rc == 0 && f1.gen == 1 && !a2.done);
	CHECK(lockc_async_config_read(la, 1, 1, cb, &rd) == 0);
	wait_for(&rd.done);
	CHECK(rd.rc == 0 && strcmp(rd.json, "{\"n\":1}") == 0 && rd.gen == 1);
	CHECK(lockc_async_config_write(la, 1, 1, "{\"n\":2}", 1, cb, &wr) == 0);
	wait_for(&wr.done);
	CHECK(wr.rc == 0 && wr.gen == 2);
	CHECK(lockc_async_release(la, 1, 1, LOCK_FAST) == 0);
	CHECK(lockc_async_release(la, 1, 1, LOCK_SLOW) == 0);
	wait_for(&a2.done);
	CHECK(a2.rc == 0);
	printf("ok: owners on one connection queue FIFO; loop never blocked\n");

	/* release of a pending acquire cancels it */
	CHECK(lockc_async_acquire(la, 3, 1, LOCK_SLOW, 0, 0, cb, &a3) == 0);
	CHECK(lockc_async_release(la, 3, 1, LOCK_SLOW) == 0);
	wait_for(&a3.done);
	CHECK(a3.rc == -ECANCELED);
	printf("ok: release cancels a pending acquire (ECANCELED)\n");

	/* order: owner 2 holds slow 1, takes fast 1, then asks slow 2 */
	CHECK(lockc_async_acquire(la, 2, 1, LOCK_FAST, 0, 0, cb, &ord) == 0);
	wait_for(&ord.done);
	CHECK(ord.rc == 0);
	memset(&ord, 0, sizeof(ord));
	CHECK(lockc_async_acquire(la, 2, 2, LOCK_SLOW, 0, 0, cb, &ord) == 0);
	wait_for(&ord.done);
	CHECK(ord.rc == -EDEADLK && strstr(ord.err, "fast lock of domid 1"));
	printf("ok: EDEADLK with lockd's message: %s\n", ord.err);

	/* lockd dies while owner 4 waits: -ECONNRESET, then on_lost */
	CHECK(lockc_async_acquire(la, 4, 1, LOCK_SLOW, 0,
	    LOCK_TIMEOUT_INFINITE, cb, &a4) == 0);
	CHECK(lockc_async_acquire(la, 5, 1, LOCK_FAST, 0,
	    LOCK_TIMEOUT_INFINITE, cb, &w4) == 0);
	CHECK(kill((pid_t)lpid, SIGKILL) == 0);
	wait_for(&lost);
	CHECK(a4.done == 1 && a4.rc == -ECONNRESET);
	CHECK(w4.done == 1 && w4.rc == -ECONNRESET);
	CHECK(lockc_async_pending(la) == 0);
	CHECK(lockc_async_acquire(la, 1, 1, LOCK_SLOW, 0, 0, cb, &a4) ==
	    -ENOTCONN);
	printf("ok: lockd lost: pending callbacks got ECONNRESET, on_lost ran\n");
	lockc_async_free(la);
	event_base_free(base);
	return 0;
}
