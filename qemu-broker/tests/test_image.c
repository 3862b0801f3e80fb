/*
 * Proves the image path rules (image.c): only paths literally under one of
 * image_dirs whose realpath stays inside are opened; "..", "/./", relative
 * paths, prefix look-alikes (/img2 for /img), a symlink as the last
 * component, a symlinked directory leading outside, directories and FIFOs
 * are all refused with a clear errno and message; a missing file is
 * ENOENT; a good image opens read-only or read-write with O_CLOEXEC.
 * (File-permission refusals need a non-root broker: see
 * test-broker-qemu.sh.)
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "qemu-broker/broker.h"

static char dir[64], out[80];
static struct devsep_config cfg;

static const char *
P(const char *rel)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, rel);
	return p[i];
}

static int
setup(void **state)
{
	char look[128];

	strcpy(dir, "/tmp/broker-img-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s-out", dir);
	assert_int_equal(mkdir(P("img"), 0755), 0);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(close(open(P("img/a.raw"), O_CREAT | O_WRONLY, 0644)),
	    0);
	assert_int_equal(mkdir(P("img/sub"), 0755), 0);
	assert_int_equal(close(open(P("img/sub/b.raw"), O_CREAT | O_WRONLY,
	    0644)), 0);
	assert_int_equal(close(open(P("secret"), O_CREAT | O_WRONLY, 0644)), 0);
	assert_int_equal(symlink(P("secret"), P("img/link.raw")), 0);
	assert_int_equal(symlink(out, P("img/outdir")), 0);
	snprintf(look, sizeof(look), "%s/x", out);
	assert_int_equal(close(open(look, O_CREAT | O_WRONLY, 0644)), 0);
	assert_int_equal(mkfifo(P("img/fifo"), 0644), 0);
	config_defaults(&cfg);
	snprintf(cfg.image_dirs[0], CONFIG_PATH_MAX, "%s/img", dir);
	strcpy(cfg.image_dirs[1], "/nonexistent-dir");
	cfg.n_image_dirs = 2;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, out);
	return system(cmd);
}

static void
expect(const char *path, int ro, int err)
{
	char msg[256] = "";
	int fd = image_open(&cfg, path, ro, msg, sizeof(msg));

	if (err == 0) {
		assert_true(fd >= 0);
		assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE,
		    ro ? O_RDONLY : O_RDWR);
		close(fd);
		return;
	}
	if (fd != -err)
		fail_msg("%s: got %d (%s), want %d", path, fd, msg, -err);
	assert_true(strlen(msg) > 0);
}

static void
test_good(void **state)
{
	expect(P("img/a.raw"), 1, 0);
	expect(P("img/a.raw"), 0, 0);
	expect(P("img/sub/b.raw"), 1, 0);
	expect(P("img//sub/b.raw"), 1, 0);
}

static void
test_refused(void **state)
{
	char look[256];

	expect(P("img/../secret"), 1, EACCES);
	expect(P("img/./a.raw"), 1, EACCES);
	expect("img/a.raw", 1, EACCES);
	expect("/etc/passwd", 1, EACCES);
	snprintf(look, sizeof(look), "%s/img2/a.raw", dir);
	expect(look, 1, EACCES);
	expect(P("img"), 1, EACCES);
	expect(P("img/"), 1, EACCES);
	expect(P("img/link.raw"), 1, EACCES);	/* realpath leaves the dir */
	expect(P("img/outdir/x"), 1, EACCES);	/* dir symlink leads out */
	expect(P("img/sub"), 1, EACCES);	/* a directory */
	expect(P("img/fifo"), 1, EACCES);	/* not a regular file */
	expect(P("img/missing.raw"), 1, ENOENT);
}

static void
test_symlink_inside(void **state)
{
	/* a last-component symlink is refused even when it stays inside */
	assert_int_equal(symlink(P("img/a.raw"), P("img/in.raw")), 0);
	expect(P("img/in.raw"), 1, ELOOP);
}

static void
test_prefix_rule(void **state)
{
	char dirs[3][CONFIG_PATH_MAX] = { "/img", "/", "/data/x/" };

	assert_int_equal(image_path_allowed(dirs, 1, "/img/a"), 0);
	assert_int_equal(image_path_allowed(dirs, 1, "/img"), -1);
	assert_int_equal(image_path_allowed(dirs, 1, "/img/"), -1);
	assert_int_equal(image_path_allowed(dirs, 1, "/img2/a"), -1);
	assert_int_equal(image_path_allowed(dirs, 3, "/data/x/y"), 1);
	assert_int_equal(image_path_allowed(dirs + 2, 1, "/data/x/y"), 0);
	assert_int_equal(image_path_allowed(dirs + 2, 1, "/data/xy"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_symlink_inside),
		cmocka_unit_test(test_prefix_rule),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
