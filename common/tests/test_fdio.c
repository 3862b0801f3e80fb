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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_interrupted),
		cmocka_unit_test(test_short_eof),
		cmocka_unit_test(test_reader_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
