/*
 * Proves the QMP client's connection state machine (the table in qmp.h),
 * one test per row, against an in-process peer on a real socketpair and a
 * real libevent loop: greeting -> capabilities -> ready; protocol errors
 * (reply before greeting, second greeting, garbage, 64 KiB+ line) kill the
 * connection and fail every queued command with EPROTO; EOF gives EPIPE;
 * replies are matched by id (a wrong id is counted as a lie and ignored);
 * a command with no answer times out alone and the connection stays usable;
 * events are delivered in between; an fd travels with SCM_RIGHTS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "qemu-broker/qmp.h"

#define TMO 200

struct fx {
	struct event_base	*base;
	int			 peer;
	struct qmp		*q;
	int			 ready, dead, dead_rc, events, replies;
	int			 last_rc;
	char			 last_event[64], last_desc[128];
	json_t			*last_ret;
};

static void
on_ready(struct qmp *q, int rc, void *arg)
{
	((struct fx *)arg)->ready++;
}

static void
on_dead(struct qmp *q, int rc, void *arg)
{
	struct fx *f = arg;

	f->dead++;
	f->dead_rc = rc;
}

static void
on_event(struct qmp *q, const char *ev, json_t *data, void *arg)
{
	struct fx *f = arg;

	f->events++;
	strncpy(f->last_event, ev, sizeof(f->last_event) - 1);
}

static void
on_reply(struct qmp *q, int rc, json_t *ret, const char *desc, void *arg)
{
	struct fx *f = arg;

	f->replies++;
	f->last_rc = rc;
	json_decref(f->last_ret);
	f->last_ret = ret ? json_incref(ret) : NULL;
	snprintf(f->last_desc, sizeof(f->last_desc), "%s", desc ? desc : "");
}

/* Runs the loop for ms milliseconds. */
static void
pump(struct fx *f, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

static void
say(struct fx *f, const char *s)
{
	assert_int_equal(write(f->peer, s, strlen(s)), (ssize_t)strlen(s));
}

/* The next command line the client sent (blocking, 1 s). */
static json_t *
read_cmd(struct fx *f, int *fdp)
{
	char line[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh = { 0 };
	struct pollfd p = { f->peer, POLLIN, 0 };
	size_t n = 0;
	char c;

	if (fdp)
		*fdp = -1;
	while (n < sizeof(line) - 1) {
		assert_int_equal(poll(&p, 1, 1000), 1);
		iov.iov_base = &c;
		iov.iov_len = 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		assert_int_equal(recvmsg(f->peer, &mh, 0), 1);
		if (mh.msg_controllen > 0 && fdp)
			memcpy(fdp, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return json_loads(line, 0, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->base = event_base_new();
	f->peer = sv[1];
	f->q = qmp_new(f->base, sv[0], TMO, on_ready, on_dead, on_event, f);
	assert_non_null(f->q);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	qmp_free(f->q);
	close(f->peer);
	json_decref(f->last_ret);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* GREETING -> NEGOT -> READY (rows 1 and 4). */
static void
negotiate(struct fx *f)
{
	json_t *c;

	say(f, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n");
	pump(f, 20);
	c = read_cmd(f, NULL);
	assert_string_equal(json_string_value(json_object_get(c, "execute")),
	    "qmp_capabilities");
	assert_int_equal(json_integer_value(json_object_get(c, "id")), 0);
	json_decref(c);
	assert_int_equal(f->ready, 0);
	say(f, "{\"return\": {}, \"id\": 0}\n");
	pump(f, 20);
	assert_int_equal(f->ready, 1);
	assert_true(qmp_is_ready(f->q));
}

static void
test_greeting_to_ready(void **state)
{
	negotiate(*state);
}

static void
test_reply_before_greeting(void **state)
{
	struct fx *f = *state;

	say(f, "{\"return\": {}, \"id\": 0}\n");
	pump(f, 20);
	assert_int_equal(f->dead, 1);
	assert_int_equal(f->dead_rc, -EPROTO);
}

static void
test_no_greeting_times_out(void **state)
{
	struct fx *f = *state;

	pump(f, TMO + 100);
	assert_int_equal(f->dead, 1);
	assert_int_equal(f->dead_rc, -ETIMEDOUT);
}

static void
test_capabilities_refused(void **state)
{
	struct fx *f = *state;

	say(f, "{\"QMP\": {}}\n");
	pump(f, 20);
	json_decref(read_cmd(f, NULL));
	say(f, "{\"error\": {\"class\": \"C\", \"desc\": \"no\"}, \"id\": 0}\n");
	pump(f, 20);
	assert_int_equal(f->ready, 0);
	assert_int_equal(f->dead_rc, -EPROTO);
}

static void
test_matching_reply_and_error(void **state)
{
	struct fx *f = *state;
	json_t *c;
	int id;

	negotiate(f);
	assert_int_equal(qmp_cmd(f->q, "add-fd", json_pack("{s:s}", "opaque",
	    "x"), -1, on_reply, f), 0);
	pump(f, 20);
	c = read_cmd(f, NULL);
	id = (int)json_integer_value(json_object_get(c, "id"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    c, "arguments"), "opaque")), "x");
	json_decref(c);
	dprintf(f->peer, "{\"return\": {\"fdset-id\": 4}, \"id\": %d}\n", id);
	pump(f, 20);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last_rc, 0);
	assert_int_equal(json_integer_value(json_object_get(f->last_ret,
	    "fdset-id")), 4);
	assert_int_equal(qmp_cmd(f->q, "eject", NULL, -1, on_reply, f), 0);
	pump(f, 20);
	c = read_cmd(f, NULL);
	id = (int)json_integer_value(json_object_get(c, "id"));
	json_decref(c);
	dprintf(f->peer, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
	    "\"Device 'cd1' not found\"}, \"id\": %d}\n", id);
	pump(f, 20);
	assert_int_equal(f->last_rc, -EREMOTEIO);
	assert_string_equal(f->last_desc, "Device 'cd1' not found");
}

static void
test_wrong_id_is_a_lie_then_timeout(void **state)
{
	struct fx *f = *state;
	json_t *c;
	int id;

	negotiate(f);
	assert_int_equal(qmp_cmd(f->q, "query-block", NULL, -1, on_reply, f),
	    0);
	assert_int_equal(qmp_cmd(f->q, "query-fdsets", NULL, -1, on_reply, f),
	    0);
	pump(f, 20);
	c = read_cmd(f, NULL);
	id = (int)json_integer_value(json_object_get(c, "id"));
	json_decref(c);
	dprintf(f->peer, "{\"return\": [], \"id\": %d}\n", id + 1000);
	pump(f, 20);
	assert_int_equal(f->replies, 0);
	assert_int_equal(qmp_counters(f->q)->lies, 1);
	pump(f, TMO + 50);	/* the head times out alone */
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last_rc, -ETIMEDOUT);
	assert_int_equal(f->dead, 0);
	c = read_cmd(f, NULL);	/* the next command went out */
	assert_string_equal(json_string_value(json_object_get(c, "execute")),
	    "query-fdsets");
	/* the late reply to the first one is ignored (another lie) */
	dprintf(f->peer, "{\"return\": [], \"id\": %d}\n", id);
	dprintf(f->peer, "{\"return\": [1], \"id\": %d}\n",
	    (int)json_integer_value(json_object_get(c, "id")));
	json_decref(c);
	pump(f, 20);
	assert_int_equal(f->replies, 2);
	assert_int_equal(f->last_rc, 0);
	assert_int_equal(json_array_size(f->last_ret), 1);
	assert_int_equal(qmp_counters(f->q)->lies, 2);
	assert_int_equal(qmp_counters(f->q)->timeouts, 1);
}

static void
test_events_interleaved(void **state)
{
	struct fx *f = *state;
	json_t *c;

	negotiate(f);
	assert_int_equal(qmp_cmd(f->q, "device_del", NULL, -1, on_reply, f),
	    0);
	pump(f, 20);
	c = read_cmd(f, NULL);
	say(f, "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"d\"}}\n");
	dprintf(f->peer, "{\"return\": {}, \"id\": %d}\n",
	    (int)json_integer_value(json_object_get(c, "id")));
	json_decref(c);
	pump(f, 20);
	assert_int_equal(f->events, 1);
	assert_string_equal(f->last_event, "DEVICE_DELETED");
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last_rc, 0);
}

static void
expect_death(struct fx *f, const char *what, size_t len, int rc)
{
	negotiate(f);
	assert_int_equal(qmp_cmd(f->q, "a", NULL, -1, on_reply, f), 0);
	assert_int_equal(qmp_cmd(f->q, "b", NULL, -1, on_reply, f), 0);
	pump(f, 20);
	if (what != NULL)
		assert_int_equal(write(f->peer, what, len), (ssize_t)len);
	else
		shutdown(f->peer, SHUT_WR);
	pump(f, 50);
	assert_int_equal(f->dead, 1);
	assert_int_equal(f->dead_rc, rc);
	assert_int_equal(f->replies, 2);	/* both queued commands failed */
	assert_int_equal(f->last_rc, rc);
	assert_int_equal(qmp_cmd(f->q, "c", NULL, -1, on_reply, f), -EPIPE);
}

static void
test_garbage_kills(void **state)
{
	expect_death(*state, "this is not json\n", 17, -EPROTO);
}

static void
test_second_greeting_kills(void **state)
{
	expect_death(*state, "{\"QMP\": {}}\n", 12, -EPROTO);
}

static void
test_long_line_kills(void **state)
{
	size_t n = 70 * 1024;
	char *big = malloc(n);

	memset(big, 'x', n);
	expect_death(*state, big, n, -EPROTO);
	free(big);
}

static void
test_eof_kills(void **state)
{
	expect_death(*state, NULL, 0, -EPIPE);
}

static void
test_fd_passing(void **state)
{
	struct fx *f = *state;
	int fd = open("/dev/null", O_RDONLY), got;
	json_t *c;

	negotiate(f);
	assert_int_equal(qmp_cmd(f->q, "add-fd", NULL, fd, on_reply, f), 0);
	close(fd);	/* the client keeps its own dup until it is sent */
	pump(f, 20);
	c = read_cmd(f, &got);
	json_decref(c);
	assert_true(got >= 0);
	assert_int_equal(fcntl(got, F_GETFD), 0);
	close(got);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_greeting_to_ready), T(test_reply_before_greeting),
		T(test_no_greeting_times_out), T(test_capabilities_refused),
		T(test_matching_reply_and_error),
		T(test_wrong_id_is_a_lie_then_timeout),
		T(test_events_interleaved), T(test_garbage_kills),
		T(test_second_greeting_kills), T(test_long_line_kills),
		T(test_eof_kills), T(test_fd_passing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
