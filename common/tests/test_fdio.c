/*
 * test_fdio: proves common/fdio.c moves whole buffers:
 *  - write_all/read_all carry 4 MiB through a pipe intact while SIGALRM
 *    (no SA_RESTART) fires every 50 us on both sides: each short transfer
 *    and EINTR is resumed at the right offset (a version that returns
 *    after one write() or read() loses or repeats bytes here);
 *  - read_all fails with EIO at an end of file before n bytes;
 *  - write_all fails (EPIPE) when the reader is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdio.h"

#define BIG		(4u << 20)
#define TICK_US		50

static void
on_alarm(int sig)
{
	(void)sig;
}

/* SIGALRM every TICK_US, without SA_RESTART: syscalls get EINTR. */
static void
storm(int on)
{
	struct sigaction sa;
	struct itimerval it;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_alarm : SIG_IGN;
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	if (on) {
		it.it_interval.tv_usec = TICK_US;
		it.it_value.tv_usec = TICK_US;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

static uint8_t *
pattern(void)
{
	uint8_t *b = malloc(BIG);
	size_t i;

	assert_non_null(b);
	for (i = 0; i < BIG; i++)
		b[i] = (uint8_t)(i * 7 + i / 251);
	return b;
}

static void
test_big_interrupted(void **state)
{
	uint8_t *want = pattern(), *got = calloc(1, BIG);
	int fds[2], st;
	pid_t pid;

	assert_non_null(got);
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		storm(1);
		_exit(write_all(fds[1], want, BIG) == 0 ? 0 : 1);
	}
	close(fds[1]);
	storm(1);
	assert_int_equal(read_all(fds[0], got, BIG), 0);
	storm(0);
	assert_memory_equal(got, want, BIG);
	assert_int_equal(read(fds[0], got, 1), 0);	/* nothing more */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fds[0]);
	free(want);
	free(got);
}

static void
test_short_eof(void **state)
{
	char buf[16];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write_all(fds[1], "abc", 3), 0);
	close(fds[1]);
	errno = 0;
	assert_int_equal(read_all(fds[0], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EIO);
	assert_memory_equal(buf, "abc", 3);
	close(fds[0]);
}

static void
test_reader_gone(void **state)
{
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	errno = 0;
	assert_int_equal(write_all(fds[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(write_all(fds[1], "", 0), 0);	/* nothing to do */
	close(fds[1]);
}

/* fdio_replace_at: the new content replaces the old, mode 0600, no tmp
 * left; a symlink planted at the tmp name is not followed (its target is
 * untouched, the old file stays, the error is returned). */
static void
test_replace_at(void **state)
{
	char dir[] = "/tmp/test_fdio.XXXXXX", buf[32], victim[64];
	struct stat st;
	int dfd, fd;
	ssize_t n;

	assert_non_null(mkdtemp(dir));
	assert_true((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	assert_int_equal(fdio_replace_at(dfd, "f.tmp", "f", "old", 3), 0);
	assert_int_equal(fdio_replace_at(dfd, "f.tmp", "f", "new\n", 4), 0);
	assert_true((fd = openat(dfd, "f", O_RDONLY)) >= 0);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "new\n", 4);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	close(fd);
	assert_int_equal(faccessat(dfd, "f.tmp", F_OK, 0), -1);

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	assert_int_equal(symlinkat(victim, dfd, "f.tmp"), 0);
	assert_int_equal(fdio_replace_at(dfd, "f.tmp", "f", "evil", 4), -ELOOP);
	assert_int_equal(faccessat(dfd, "victim", F_OK, 0), -1);
	assert_true((fd = openat(dfd, "f", O_RDONLY)) >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "new\n", 4);
	close(fd);
	unlinkat(dfd, "f.tmp", 0);
	unlinkat(dfd, "f", 0);
	close(dfd);
	rmdir(dir);
}

/* read_upto: cap - 1 bytes are read whole; cap bytes are too many. */
static void
test_read_upto(void **state)
{
	char buf[8];
	size_t len;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "1234567", 7), 7);
	close(p[1]);
	assert_int_equal(read_upto(p[0], buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "1234567", 7);
	close(p[0]);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "12345678", 8), 8);
	close(p[1]);
	assert_int_equal(read_upto(p[0], buf, sizeof(buf), &len), -EFBIG);
	close(p[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_interrupted),
		cmocka_unit_test(test_short_eof),
		cmocka_unit_test(test_reader_gone),
		cmocka_unit_test(test_replace_at),
		cmocka_unit_test(test_read_upto),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
