/*
 * test_msgsock: proves the blocking helpers msg_send_fd / msg_recv_fd over a
 * real socketpair(AF_UNIX, SOCK_SEQPACKET):
 *  - a message and its header fields arrive intact; a msgbuf with err set
 *    is not sent;
 *  - an fd passed with SCM_RIGHTS arrives (and works) when allowed; when
 *    not allowed it is closed and the call fails with EBADMSG; two fds, or
 *    more than fit in the control buffer, in one message: all closed, EBADMSG;
 *  - a datagram bigger than maxsize (truncated by the kernel) and one that is
 *    exactly one byte over fail with EBADMSG and are consumed, so the next
 *    message is read normally; an empty datagram with an fd does not leak it;
 *  - no message within the timeout -> ETIMEDOUT; peer closed -> ECONNRESET;
 *  - a message of MSG_MAX_LIMIT payload bytes can be sent and received even
 *    though it is bigger than the default socket send buffer;
 *  - msg_listen/msg_connect: mode, nonblock/cloexec, SO_PEERCRED, a stale
 *    socket is replaced but a regular file at the path is not unlinked,
 *    ENAMETOOLONG for paths that do not fit;
 *  - no fd leaks on any of these paths (counted in /proc/self/fd).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "msg.h"

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
}

/* Sends a raw datagram with nfds copies of fd attached. */
static void
send_raw_fds(int s, const void *data, size_t len, int fd, int nfds)
{
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	char cbuf[CMSG_SPACE(sizeof(int) * 16)];
	struct cmsghdr *c;
	int i;

	assert_true(nfds <= 16);
	if (nfds > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)len);
}

static void
send_u32(int s, uint32_t type, uint32_t v, int fd)
{
	struct msgbuf b;

	msgbuf_init(&b, type, type + 1000);
	msgbuf_put_u32(&b, v);
	msgbuf_set_fd(&b, fd);
	assert_int_equal(msg_send_fd(s, &b), 0);
	msgbuf_dispose(&b);
}

static void
expect_u32(int s, uint32_t type, uint32_t v)
{
	struct msg m;
	uint32_t got;

	assert_int_equal(msg_recv_fd(s, &m, 64, 0, 1000), 0);
	assert_int_equal(m.hdr.type, type);
	assert_int_equal(m.hdr.reqid, type + 1000);
	assert_int_equal(msg_get_u32(&m, &got), 0);
	assert_int_equal(got, v);
	assert_int_equal(msg_end(&m), 0);
	assert_int_equal(m.fd, -1);
	msg_dispose(&m);
}

static void
test_roundtrip(void **state)
{
	struct msgbuf b;
	struct msg m;
	char s[32];
	int sv[2], nfd = count_fds();

	pair(sv);
	msgbuf_init(&b, 301, 9);
	msgbuf_put_str(&b, "/dev/fdset/1");
	assert_int_equal(msg_send_fd(sv[0], &b), 0);
	msgbuf_dispose(&b);
	assert_int_equal(msg_recv_fd(sv[1], &m, MSG_MAX_DEFAULT, 0, 1000), 0);
	assert_int_equal(m.hdr.type, 301);
	assert_int_equal(m.hdr.reqid, 9);
	assert_int_equal(m.hdr.pid, (uint32_t)getpid());
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), 0);
	assert_string_equal(s, "/dev/fdset/1");
	assert_int_equal(msg_end(&m), 0);
	msg_dispose(&m);

	/* a caller's absurd maxsize is clamped, not overflowed */
	send_u32(sv[0], 4, 5, -1);
	assert_int_equal(msg_recv_fd(sv[1], &m, SIZE_MAX, 0, 1000), 0);
	assert_int_equal(m.hdr.type, 4);
	msg_dispose(&m);

	/* a disposed msgbuf is refused, not sent as an empty datagram */
	msgbuf_init(&b, 1, 0);
	msgbuf_dispose(&b);
	assert_int_equal(msg_send_fd(sv[0], &b), -1);
	assert_int_equal(errno, EINVAL);

	/* a failed build is never sent */
	msgbuf_init(&b, 1, 0);
	msgbuf_put_blob(&b, s, MSG_MAX_LIMIT + 1);
	assert_int_equal(msg_send_fd(sv[0], &b), -1);
	assert_int_equal(errno, EMSGSIZE);
	msgbuf_dispose(&b);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 0), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), nfd);
}

static void
test_fd_allowed(void **state)
{
	struct msg m;
	int sv[2], p[2], fd, nfd = count_fds();
	char c;

	pair(sv);
	assert_int_equal(pipe(p), 0);
	send_u32(sv[0], 7, 1, p[1]);
	close(p[1]);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 1, 1000), 0);
	assert_int_not_equal(m.fd, -1);
	fd = msg_take_fd(&m);
	msg_dispose(&m);
	assert_int_equal(write(fd, "z", 1), 1);	/* it is the pipe's end */
	close(fd);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'z');
	assert_int_equal(read(p[0], &c, 1), 0);	/* no copy left open */
	close(p[0]);

	/* a received, untaken fd is closed by msg_dispose */
	assert_int_equal(pipe(p), 0);
	send_u32(sv[0], 7, 1, p[1]);
	close(p[1]);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 1, 1000), 0);
	msg_dispose(&m);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), nfd);
}

static void
test_fd_refused(void **state)
{
	struct msgbuf b;
	struct msg m;
	int sv[2], p[2], nfd = count_fds();
	char c;

	pair(sv);
	assert_int_equal(pipe(p), 0);
	/* not allowed on this receiver: closed, EBADMSG */
	send_u32(sv[0], 7, 1, p[1]);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 1000), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(m.fd, -1);

	/* two fds in one message, even where fds are allowed */
	msgbuf_init(&b, 7, 0);
	msgbuf_put_u32(&b, 1);
	send_raw_fds(sv[0], b.data, b.len, p[1], 2);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 1, 1000), -1);
	assert_int_equal(errno, EBADMSG);

	/* more fds than the receiver's control buffer holds (MSG_CTRUNC) */
	send_raw_fds(sv[0], b.data, b.len, p[1], 16);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 1, 1000), -1);
	assert_int_equal(errno, EBADMSG);
	msgbuf_dispose(&b);

	/* every received copy was closed: the pipe sees EOF */
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	/* and the channel still works */
	send_u32(sv[0], 8, 2, -1);
	expect_u32(sv[1], 8, 2);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), nfd);
}

static void
test_truncated(void **state)
{
	uint8_t buf[MSG_HDR_SIZE + 200];
	struct msg_hdr h = { 5, 100, 0, 0 };
	struct msg m;
	int sv[2], p[2], nfd = count_fds();
	char c;

	pair(sv);
	memset(buf, 'x', sizeof(buf));
	/* 100-byte payload, receiver's max 64: kernel truncates */
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(send(sv[0], buf, MSG_HDR_SIZE + 100, 0),
	    MSG_HDR_SIZE + 100);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 1000), -1);
	assert_int_equal(errno, EBADMSG);
	/* exactly one byte over: fits the buffer, refused by msg_parse */
	h.len = 65;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(send(sv[0], buf, MSG_HDR_SIZE + 65, 0),
	    MSG_HDR_SIZE + 65);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 1000), -1);
	assert_int_equal(errno, EBADMSG);
	/* truncated, and carrying an fd that must not leak */
	assert_int_equal(pipe(p), 0);
	h.len = 200;
	memcpy(buf, &h, sizeof(h));
	send_raw_fds(sv[0], buf, sizeof(buf), p[1], 1);
	close(p[1]);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 1, 1000), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	/* header len lies (says 4, datagram has 8) */
	h.len = 4;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(send(sv[0], buf, MSG_HDR_SIZE + 8, 0),
	    MSG_HDR_SIZE + 8);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 1000), -1);
	assert_int_equal(errno, EBADMSG);
	/* runt datagram */
	assert_int_equal(send(sv[0], buf, 3, 0), 3);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 1000), -1);
	assert_int_equal(errno, EBADMSG);
	/* an empty datagram carrying an fd (found by fuzz_msg): reads as
	 * EOF and the fd is closed, not leaked */
	assert_int_equal(pipe(p), 0);
	send_raw_fds(sv[0], buf, 0, p[1], 1);
	close(p[1]);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 1, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	/* exactly maxsize is fine, and each bad datagram was consumed */
	send_u32(sv[0], 9, 3, -1);
	expect_u32(sv[1], 9, 3);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), nfd);
}

static void
test_timeout_eof(void **state)
{
	struct msg m;
	int sv[2], nfd = count_fds();
	uint64_t t0;
	struct timespec ts;

	pair(sv);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 100), -1);
	assert_int_equal(errno, ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_true(ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000 - t0 >= 90);
	/* a queued message is still read after the peer closed, then EOF */
	send_u32(sv[0], 4, 4, -1);
	close(sv[0]);
	expect_u32(sv[1], 4, 4);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(msg_recv_fd(sv[1], &m, 64, 0, -1), -1);
	assert_int_equal(errno, ECONNRESET);
	close(sv[1]);
	/* sending to a closed peer fails (EPIPE) without SIGPIPE */
	pair(sv);
	close(sv[1]);
	{
		struct msgbuf b;

		msgbuf_init(&b, 1, 0);
		assert_int_equal(msg_send_fd(sv[0], &b), -1);
		assert_int_equal(errno, EPIPE);
		msgbuf_dispose(&b);
	}
	close(sv[0]);
	assert_int_equal(count_fds(), nfd);
}

static void
test_max_size(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint8_t *big;
	const void *p;
	size_t n, i;
	int sv[2];

	big = malloc(MSG_MAX_LIMIT);
	assert_non_null(big);
	for (i = 0; i < MSG_MAX_LIMIT; i++)
		big[i] = (uint8_t)(i * 7);
	pair(sv);
	msgbuf_init(&b, 2, 0);
	msgbuf_put_blob(&b, big, MSG_MAX_LIMIT - 4);
	assert_int_equal(b.err, 0);
	assert_int_equal(msg_send_fd(sv[0], &b), 0);
	msgbuf_dispose(&b);
	assert_int_equal(msg_recv_fd(sv[1], &m, MSG_MAX_LIMIT, 0, 1000), 0);
	assert_int_equal(msg_get_blob(&m, &p, &n, MSG_MAX_LIMIT), 0);
	assert_int_equal(n, MSG_MAX_LIMIT - 4);
	assert_memory_equal(p, big, n);
	assert_int_equal(msg_end(&m), 0);
	msg_dispose(&m);
	close(sv[0]);
	close(sv[1]);
	free(big);
}

static void
test_listen_connect(void **state)
{
	char dir[] = "/tmp/test_msgsock.XXXXXX", path[128], big[200];
	struct ucred cr;
	struct stat st;
	int l, c, a, fd, nfd = count_fds();

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.sock", dir);
	l = msg_listen(path, 0660);
	assert_true(l >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_true(fcntl(l, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(l, F_GETFD) & FD_CLOEXEC);
	c = msg_connect(path);
	assert_true(c >= 0);
	assert_true(fcntl(c, F_GETFD) & FD_CLOEXEC);
	a = accept(l, NULL, NULL);
	assert_true(a >= 0);
	assert_int_equal(msg_peercred(a, &cr), 0);
	assert_int_equal(cr.pid, getpid());
	assert_int_equal(cr.uid, getuid());
	send_u32(c, 3, 33, -1);
	expect_u32(a, 3, 33);
	close(a);
	close(c);
	/* a stale socket is replaced */
	close(l);
	l = msg_listen(path, 0600);
	assert_true(l >= 0);
	close(l);
	/* anything else at the path is left alone */
	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(msg_listen(path, 0600), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
	/* nobody listening; a path that does not fit sun_path */
	assert_int_equal(msg_connect(path), -1);
	assert_int_equal(errno, ENOENT);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(msg_connect(big), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(msg_listen(big, 0600), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	rmdir(dir);
	assert_int_equal(count_fds(), nfd);
}

/*
 * Issue 14, attack 7: a live socket is never unlinked (the second
 * msg_listen says EADDRINUSE and the first keeps accepting); attack 5:
 * msg_connect_server accepts a socket made by us, refuses (EPERM, naming
 * the uid) one made by uid 65534 before anything is sent; the group is
 * set and the mode exact (no chmod after bind).
 */
static void
test_live_and_impostor(void **state)
{
	char dir[] = "/tmp/test_msgsock.XXXXXX", path[128];
	struct stat st;
	int l, c, a, p[2];
	uid_t uid = 0;
	pid_t pid;
	char ch;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.sock", dir);
	l = msg_listen_group(path, 0660, getgid());
	assert_true(l >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getgid());
	errno = 0;
	assert_int_equal(msg_listen(path, 0660), -1);
	assert_int_equal(errno, EADDRINUSE);
	c = msg_connect_server(path, PEER_BROKER, &uid);
	assert_true(c >= 0);		/* our own euid */
	assert_int_equal(uid, geteuid());
	a = accept(l, NULL, NULL);
	assert_true(a >= 0);		/* the first still serves */
	close(a);
	close(c);
	close(l);
	unlink(path);
	if (getuid() != 0) {
		rmdir(dir);
		return;
	}
	/* an impostor (uid 65534) listens: refused before sending */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1 ||
		    (l = msg_listen(path, 0666)) == -1)
			_exit(1);
		(void)write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &ch, 1), 1);
	errno = 0;
	assert_int_equal(msg_connect_server(path, PEER_BROKER, &uid), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(uid, 65534);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_live_and_impostor),
		cmocka_unit_test(test_fd_allowed),
		cmocka_unit_test(test_fd_refused),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_timeout_eof),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_listen_connect),
	};

	log_init("test_msgsock", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
