/*
 * Unit tests of lockd/dispatch.c through a real socket and libevent, with
 * the real lock table, domain records and store (temp dir).
 * Proves: every message type lockd accepts has an exact-size decoder — the
 * right payload is answered, one byte less or one byte more drops that
 * peer (and only that peer); unknown types drop the peer; a peer whose
 * class may not send a type (hotplugd's uid) is dropped; and the handler
 * table is exactly the IPC matrix of policy/lockd.policy.
 */
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "domain.h"
#include "lockd.h"
#include "msg.h"
#include "policy.h"
#include "proto_lock.h"
#include "store.h"

struct lockd *lockd;
#define SKIP_EXIT	77	/* tests/run-tests: a skip, never a pass */
static int skipped;		/* a case skipped: the binary exits SKIP_EXIT */

static struct lockd L;
static char dir[64], sock[128];

static int
setup(void **state)
{
	char sd[96];

	strcpy(dir, "/tmp/lockd-disp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sd, sizeof(sd), "%s/state", dir);
	snprintf(sock, sizeof(sock), "%s/lockd.sock", dir);
	memset(&L, 0, sizeof(L));
	lockd = &L;
	config_defaults(&L.cfg);
	peer_init();
	assert_non_null(L.lt = lt_new(lockd_lt_done, NULL));
	assert_true((L.statefd = store_open(sd)) >= 0);
	assert_true(dom_init(L.statefd, L.lt, 0) >= 0);
	assert_non_null(L.base = event_base_new());
	assert_true((L.listenfd = msg_listen(sock, 0666)) >= 0);
	assert_non_null(L.listen = msglisten_new(L.base, L.listenfd,
	    LOCKD_MAX_CONNS, "lockd", lockd_accept, NULL));
	L.ev_timer = evtimer_new(L.base, lockd_timer_cb, NULL);
	L.timer_at = LT_NO_DEADLINE;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs lockd's loop until fd has a reply (1) or was closed (0). */
static int
answer(int fd)
{
	char buf[65536];
	ssize_t n;
	int i;

	for (i = 0; i < 200; i++) {
		event_base_loop(L.base, EVLOOP_NONBLOCK);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		usleep(1000);
	}
	return -1;	/* neither: no reply (RELEASE) */
}

static void
send_raw(int fd, uint32_t type, size_t len)
{
	uint8_t buf[MSG_HDR_SIZE + 64] = { 0 };
	struct msg_hdr h = { type, (uint32_t)len, 7, 0 };

	memcpy(buf, &h, sizeof(h));
	assert_int_equal(send(fd, buf, MSG_HDR_SIZE + len, 0),
	    (ssize_t)(MSG_HDR_SIZE + len));
}

/* Payload sizes of the decoders, with blobs empty. */
static const struct { uint32_t type; size_t len; int reply; } sizes[] = {
	{ MSG_COMMON_STATUS, 0, 1 },	{ MSG_COMMON_STATS, 0, 1 },
	{ MSG_LOCK_ACQUIRE, 20, 1 },	{ MSG_LOCK_RELEASE, 12, 0 },
	{ MSG_LOCK_CONFIG_READ, 8, 1 },	{ MSG_LOCK_CONFIG_WRITE, 20, 1 },
	{ MSG_LOCK_DOMAIN_CREATE, 8, 1 }, { MSG_LOCK_DESTROY_BEGIN, 12, 1 },
	{ MSG_LOCK_DM_GONE, 4, 1 },	{ MSG_LOCK_DESTROY_FINISH, 4, 1 },
	{ MSG_LOCK_QUERY, 4, 1 },	{ MSG_LOCK_LIST, 0, 1 },
};

static void
test_exact_sizes(void **state)
{
	size_t i, n;
	int fd;

	lockd_handlers(&n);
	assert_int_equal(n, sizeof(sizes) / sizeof(sizes[0]));
	for (i = 0; i < n; i++) {
		fd = msg_connect(sock);
		send_raw(fd, sizes[i].type, sizes[i].len);
		assert_int_equal(answer(fd), sizes[i].reply ? 1 : -1);
		send_raw(fd, sizes[i].type, sizes[i].len + 1);
		assert_int_equal(answer(fd), 0);	/* trailing byte */
		close(fd);
		if (sizes[i].len == 0)
			continue;
		fd = msg_connect(sock);
		send_raw(fd, sizes[i].type, sizes[i].len - 1);
		assert_int_equal(answer(fd), 0);	/* short */
		close(fd);
	}
}

static void
test_unknown_type_drops_only_that_peer(void **state)
{
	int a = msg_connect(sock), b = msg_connect(sock);

	send_raw(a, 299, 0);
	assert_int_equal(answer(a), 0);
	send_raw(b, MSG_COMMON_STATUS, 0);
	assert_int_equal(answer(b), 1);
	close(a);
	close(b);
}

static void
test_unpermitted_peer(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct passwd *pw;
	pid_t pid;
	int fd, st;

	if (getuid() != 0 || (pw = getpwnam("devsep-hotplugd")) == NULL) {
		printf("SKIP: test_unpermitted_peer needs root and the "
		    "devsep-hotplugd user (scripts/create-users)\n");
		skipped = 1;
		skip();
	}
	strcpy(sun.sun_path, sock);
	chmod(dir, 0755);	/* let the other uid reach the socket */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if ((pid = fork()) == 0)	/* connect as hotplugd: its cred sticks */
		_exit(setuid(pw->pw_uid) == 0 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ?
		    0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	send_raw(fd, MSG_LOCK_QUERY, 4);	/* hotplugd may not send it */
	assert_int_equal(answer(fd), 0);
	close(fd);
}

static void
test_table_is_policy(void **state)
{
	const struct policy *p = policy_find("lockd");
	const struct msg_handler *h;
	size_t i, j, n;

	assert_non_null(p);
	h = lockd_handlers(&n);
	assert_int_equal(n, p->nmsgs);
	for (i = 0; i < n; i++) {
		for (j = 0; j < p->nmsgs && p->msgs[j].type != h[i].type; j++)
			;
		assert_true(j < p->nmsgs);
		if (p->msgs[j].peers != h[i].peers)
			fail_msg("%s: handler peers %#x, policy %#x", h[i].name,
			    h[i].peers, p->msgs[j].peers);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_sizes),
		cmocka_unit_test(test_unknown_type_drops_only_that_peer),
		cmocka_unit_test(test_unpermitted_peer),
		cmocka_unit_test(test_table_is_policy),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, setup, teardown);
	return rc ? rc : skipped ? SKIP_EXIT : 0;	/* a skip is no pass */
}
