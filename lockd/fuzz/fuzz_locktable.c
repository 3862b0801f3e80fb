/*
 * libFuzzer: the lock table driven by an arbitrary operation stream
 * (acquire / try / release / connection death / domain state change /
 * expiry / drain) over 4 connections x 3 owners x 3 domains.  It checks
 * the table's own guarantees: every completion belongs to a queued request
 * of a live connection and comes exactly once; a lock has at most one
 * holder (lt_holds agrees with lt_is_held); once every connection is gone
 * nothing is held and nothing waits.  ASan and UBSan catch memory errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lockd/locktable.h"
#include "proto_lock.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NCONN	4
#define NOWN	3
#define NDOM	3

static char conns[NCONN];
static uint8_t queued[4096];	/* reqid -> conn index + 1 while owed */
static int bad;

static void
done(void *arg, void *conn, uint32_t reqid, int rc, uint32_t domid,
    uint32_t which, uint64_t waited)
{
	if (reqid >= sizeof(queued) || !queued[reqid] ||
	    (char *)conn != &conns[queued[reqid] - 1])
		bad = 1;	/* completion for nothing queued, or twice */
	else
		queued[reqid] = 0;
}

static void
conn_forget(int c)
{
	size_t i;

	for (i = 0; i < sizeof(queued); i++)
		if (queued[i] == c + 1)
			queued[i] = 0;
}

static void
check_lock(struct locktable *lt, uint32_t d, uint32_t which)
{
	int n = 0, c, o;

	for (c = 0; c < NCONN; c++)
		for (o = 0; o < NOWN; o++)
			n += lt_holds(lt, &conns[c], o, d, which);
	if (n > 1 || n != lt_is_held(lt, d, which))
		abort();
}

static void
step(struct locktable *lt, const uint8_t *p, uint32_t reqid, uint64_t now)
{
	void *conn = &conns[p[1] % NCONN];
	uint32_t own = p[1] / NCONN % NOWN, dom = p[2] % NDOM;
	uint32_t which = p[2] & 0x80 ? LOCK_FAST : LOCK_SLOW;
	char why[256];
	int rc;

	switch (p[0] % 7) {
	case 0:
	case 1:
		rc = lt_acquire(lt, conn, own, NULL, dom, which, p[0] % 7,
		    reqid, now, now + p[3], why, sizeof(why));
		if (rc == 1)
			queued[reqid] = (uint8_t)(p[1] % NCONN + 1);
		break;
	case 2:
		lt_release(lt, conn, own, dom, which, now);
		break;
	case 3:
		lt_conn_gone(lt, conn, now);
		conn_forget(p[1] % NCONN);	/* its waits vanish silently */
		break;
	case 4:
		lt_domain_set(lt, dom, (enum lt_dstate)(p[3] % 4), now);
		break;
	case 5:
		lt_expire(lt, now);
		break;
	case 6:
		if (lt_drain(lt, conn, reqid, dom, now, now + p[3]) == 1)
			queued[reqid] = (uint8_t)(p[1] % NCONN + 1);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct locktable *lt = lt_new(done, NULL);
	uint32_t reqid = 1, d;
	uint64_t now = 0;
	size_t i;

	memset(queued, 0, sizeof(queued));
	bad = 0;
	for (d = 0; d < NDOM; d++)
		lt_domain_set(lt, d, LT_ACTIVE, 0);
	for (i = 0; i + 4 <= len && reqid < sizeof(queued); i += 4, reqid++) {
		now += data[i + 3] % 16;
		step(lt, data + i, reqid, now);
		for (d = 0; d < NDOM; d++) {
			check_lock(lt, d, LOCK_SLOW);
			check_lock(lt, d, LOCK_FAST);
		}
	}
	/* after every connection is gone nothing is held or owed */
	for (i = 0; i < NCONN; i++) {
		lt_conn_gone(lt, &conns[i], now);
		conn_forget((int)i);
	}
	for (d = 0; d < NDOM; d++)
		if (lt_is_held(lt, d, LOCK_SLOW) || lt_is_held(lt, d, LOCK_FAST))
			abort();
	if (lt_next_deadline(lt) != LT_NO_DEADLINE)
		abort();
	lt_free(lt);
	if (bad)
		abort();
	return 0;
}
