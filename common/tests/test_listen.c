/*
 * test_listen: proves common/listen.c, the accepting side of lockd,
 * hotplugd and the broker, with real sockets and a real event loop:
 *  - every connection reaches the accept callback, up to maxconns at once;
 *    the next one is closed at once (the client reads EOF) and not passed
 *    on; msglisten_closed makes room again;
 *  - a connection the callback refuses (-1) is closed and not counted;
 *  - with peer classes (issue 14): a peer whose class may send nothing is
 *    refused at accept (the callback never sees it), each class is held to
 *    its own budget (a third connection of ours with 2 per class is
 *    closed while other classes would still have room), and
 *    msglisten_closed_peer makes room in that class again;
 *  - out of file descriptors (EMFILE) accepting pauses for about a second
 *    (a pending client is not taken before) and then resumes by itself
 *    (skipped under valgrind, which keeps its own descriptor limit).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "msg.h"

#define SKIP_EXIT	77	/* tests/run-tests: a skip, never a pass */
/* Skips the current case, saying why; the binary then exits SKIP_EXIT. */
#define SKIP(why)	do { printf("SKIP: %s\n", why); skipped = 1; \
			    skip(); } while (0)
static int skipped;

static char dir[64], path[96];
static struct event_base *base;
static int lfd;
static int taken[64], ntaken, refuse_next;

static int
take(int fd, void *arg)
{
	if (refuse_next) {
		refuse_next = 0;
		return -1;
	}
	taken[ntaken++] = fd;
	return 0;
}

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_listen.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	log_init("test_listen", 1, LOG_LEVEL_QUIET);
	base = event_base_new();
	lfd = msg_listen(path, 0600);
	ntaken = refuse_next = 0;
	return base != NULL && lfd >= 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	int i;

	for (i = 0; i < ntaken; i++)
		close(taken[i]);
	close(lfd);
	unlink(path);
	rmdir(dir);
	event_base_free(base);
	return 0;
}

static void
spin(int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (now_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* 1: the server closed c (EOF), 0: still open */
static int
closed_by_server(int c)
{
	char b;
	ssize_t n;

	n = recv(c, &b, 1, MSG_DONTWAIT);
	return n == 0;
}

static void
test_limit(void **state)
{
	struct msglisten *l = msglisten_new(base, lfd, 2, "t", take, NULL);
	int c[4], i;

	assert_non_null(l);
	for (i = 0; i < 3; i++)
		assert_true((c[i] = msg_connect(path)) >= 0);
	spin(100);
	assert_int_equal(ntaken, 2);
	assert_int_equal(msglisten_count(l), 2);
	assert_int_equal(closed_by_server(c[2]), 1);
	assert_int_equal(closed_by_server(c[0]), 0);
	/* one ends: room for one more */
	msglisten_closed(l);
	assert_true((c[3] = msg_connect(path)) >= 0);
	spin(100);
	assert_int_equal(ntaken, 3);
	assert_int_equal(closed_by_server(c[3]), 0);
	/* refused by the callback: closed, not counted */
	msglisten_closed(l);
	refuse_next = 1;
	close(c[2]);
	assert_true((c[2] = msg_connect(path)) >= 0);
	spin(100);
	assert_int_equal(ntaken, 3);
	assert_int_equal(msglisten_count(l), 1);
	assert_int_equal(closed_by_server(c[2]), 1);
	for (i = 0; i < 4; i++)
		close(c[i]);
	msglisten_free(l);
}

static void
test_classes(void **state)
{
	struct msglisten *l = msglisten_new(base, lfd, 0, "t", take, NULL);
	struct ucred me = { getpid(), getuid(), getgid() };
	uint32_t mine = peer_classify(&me);
	int c[4], i;

	assert_non_null(l);
	/* our class may send nothing here: refused before the callback */
	msglisten_set_classes(l, PEER_BROKER, 2);
	if (mine & PEER_BROKER)	/* run as the broker's user */
		SKIP("test_classes: run as the broker's user, nothing to "
		    "prove");
	assert_true((c[0] = msg_connect(path)) >= 0);
	spin(100);
	assert_int_equal(ntaken, 0);
	assert_int_equal(closed_by_server(c[0]), 1);
	close(c[0]);
	/* our own class (admin as root, none otherwise: pretend ours) */
	if (mine == 0) {
		peer_set_uid(PEER_LOCKD, getuid());
		mine = PEER_LOCKD;
	}
	msglisten_set_classes(l, mine | PEER_BROKER, 2);
	for (i = 0; i < 3; i++)
		assert_true((c[i] = msg_connect(path)) >= 0);
	spin(100);
	assert_int_equal(ntaken, 2);
	assert_int_equal(msglisten_class_count(l, mine), 2);
	assert_int_equal(msglisten_class_count(l, PEER_BROKER), 0);
	assert_int_equal(closed_by_server(c[2]), 1);
	close(c[2]);
	msglisten_closed_peer(l, mine);
	assert_true((c[3] = msg_connect(path)) >= 0);
	spin(100);
	assert_int_equal(ntaken, 3);
	assert_int_equal(closed_by_server(c[3]), 0);
	close(c[0]);
	close(c[1]);
	close(c[3]);
	msglisten_free(l);
}

/* valgrind keeps its own descriptor limit: RLIMIT_NOFILE games fail there */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

static void
test_emfile_pause(void **state)
{
	struct msglisten *l = msglisten_new(base, lfd, 0, "t", take, NULL);
	struct rlimit old, low;
	uint64_t t0;
	int c, top;

	assert_non_null(l);
	if (under_valgrind()) {
		msglisten_free(l);
		SKIP("test_emfile_pause: valgrind keeps its own fd limit");
	}
	assert_true((c = msg_connect(path)) >= 0);
	/* no fd left for accept4: every number up to the limit is in use */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	top = dup(lfd);
	assert_true(top >= 0);
	close(top);
	low = old;
	low.rlim_cur = (rlim_t)top;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	if ((top = dup(lfd)) != -1) {
		/* the limit is not enforced here */
		close(top);
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
		close(c);
		msglisten_free(l);
		SKIP("test_emfile_pause: RLIMIT_NOFILE is not enforced here");
	}
	t0 = now_ms();
	spin(50);			/* EMFILE: pauses */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(ntaken, 0);
	spin(500);			/* fds again, but still paused */
	assert_int_equal(ntaken, 0);
	while (ntaken == 0 && now_ms() - t0 < 3000)
		spin(20);
	assert_int_equal(ntaken, 1);	/* resumed by itself */
	assert_true(now_ms() - t0 >= 900);
	close(c);
	msglisten_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emfile_pause, setup,
		    teardown),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	return rc ? rc : skipped ? SKIP_EXIT : 0;	/* a skip is no pass */
}
