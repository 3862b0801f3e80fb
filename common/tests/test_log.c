/*
 * test_log: proves common/log.c keeps "one line per event":
 *  - a message with embedded newlines / escape bytes (guest strings) is
 *    logged as exactly one line, control bytes shown as '?';
 *  - log_warn appends ": strerror(errno)" and preserves errno; log_warnx
 *    does not append;
 *  - levels: debug is suppressed at info, info suppressed at warn, warnings
 *    suppressed at LOG_LEVEL_QUIET (fatal still prints);
 *  - lines carry the process name; fatal/fatalx exit 1 (forked child);
 *  - an over-long message is truncated, not overflowed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static int saved_stderr = -1;
static char capfile[] = "/tmp/test_log.XXXXXX";

/* Sends stderr to a fresh temp file. */
static void
cap_start(void)
{
	int fd = mkstemp(capfile);

	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Restores stderr, returns what was written (malloc'ed). */
static char *
cap_end(void)
{
	FILE *f;
	char *buf = calloc(1, 65536);

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	f = fopen(capfile, "r");
	assert_non_null(f);
	buf[fread(buf, 1, 65535, f)] = '\0';
	fclose(f);
	unlink(capfile);
	strcpy(capfile, "/tmp/test_log.XXXXXX");
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_one_line(void **state)
{
	char *out;

	log_init("logtest", 1, LOG_LEVEL_INFO);
	cap_start();
	log_warnx("domid=%u kind=%s devid=%u value=%s", 1u, "vbd", 51712u,
	    "evil\nFAKE line\r\x1b[31m");
	out = cap_end();
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "logtest["));
	assert_non_null(strstr(out, "domid=1 kind=vbd devid=51712 "
	    "value=evil?FAKE line??[31m\n"));
	free(out);
}

static void
test_errno(void **state)
{
	char *out;

	log_init("logtest", 1, LOG_LEVEL_INFO);
	cap_start();
	errno = ENOENT;
	log_warn("open %s", "/x");
	assert_int_equal(errno, ENOENT);
	errno = EACCES;
	log_warnx("plain");
	assert_int_equal(errno, EACCES);
	out = cap_end();
	assert_non_null(strstr(out, "open /x: No such file or directory\n"));
	assert_non_null(strstr(out, "plain\n"));
	assert_null(strstr(out, "plain:"));
	free(out);
}

static void
test_levels(void **state)
{
	char *out;

	log_init("logtest", 1, LOG_LEVEL_INFO);
	cap_start();
	log_debug("hidden-debug");
	log_info("shown-info");
	log_setlevel(LOG_LEVEL_WARN);
	assert_int_equal(log_getlevel(), LOG_LEVEL_WARN);
	log_info("hidden-info");
	log_warnx("shown-warn");
	log_setlevel(LOG_LEVEL_QUIET);
	errno = EIO;
	log_warn("hidden-quiet-warn");
	log_warnx("hidden-quiet-warnx");
	log_setlevel(LOG_LEVEL_DEBUG);
	log_debug("shown-debug");
	out = cap_end();
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "shown-info"));
	assert_non_null(strstr(out, "shown-warn"));
	assert_non_null(strstr(out, "shown-debug"));
	assert_int_equal(count_lines(out), 3);
	assert_string_equal(log_procname(), "logtest");
	free(out);
}

static void
test_long(void **state)
{
	char *big = malloc(10000), *out;

	memset(big, 'x', 9999);
	big[9999] = '\0';
	log_init("logtest", 1, LOG_LEVEL_INFO);
	cap_start();
	log_warnx("%s", big);
	out = cap_end();
	assert_int_equal(count_lines(out), 1);
	assert_true(strlen(out) < 2100);
	free(out);
	free(big);
}

static void
test_fatal(void **state)
{
	pid_t pid;
	int st, which;

	for (which = 0; which < 2; which++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(2);
			log_init("logtest", 1, LOG_LEVEL_INFO);
			if (which)
				fatalx("bye");
			errno = EIO;
			fatal("bye");
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_fatal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
