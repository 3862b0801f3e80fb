/*
 * Image files: the broker opens them (QEMU cannot: it runs chrooted in an
 * empty directory under its own uid) and passes the fd with add-fd.
 *
 * A path is accepted only when
 *   - it is absolute and literally starts with one of config image_dirs,
 *   - its realpath() is inside that directory's realpath() too,
 *   - openat2() relative to that directory with RESOLVE_BENEATH and
 *     RESOLVE_NO_MAGICLINKS, O_NOFOLLOW on the last component, succeeds as
 *     the broker's own user (so the image's permissions apply),
 *   - the opened file is a regular file.
 * Opened O_CLOEXEC, O_RDONLY or O_RDWR.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broker.h"

/* Index of the dir that contains `resolved` (both absolute), or -1. */
int
image_path_allowed(const char dirs[][CONFIG_PATH_MAX], size_t ndirs,
    const char *resolved)
{
	size_t i, n;

	for (i = 0; i < ndirs; i++) {
		n = strlen(dirs[i]);
		while (n > 1 && dirs[i][n - 1] == '/')
			n--;
		if (n == 0 || strncmp(resolved, dirs[i], n) != 0)
			continue;
		if (n == 1 && resolved[1] != '\0')
			return (int)i;		/* dir "/" */
		if (n > 1 && resolved[n] == '/' && resolved[n + 1] != '\0')
			return (int)i;
	}
	return -1;
}

static int
open_beneath(const char *dir, const char *rel, int ro)
{
	struct open_how how = { 0 };
	int dfd, fd, err;

	if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	how.flags = (uint64_t)((ro ? O_RDONLY : O_RDWR) | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	err = errno;
	close(dfd);
	return fd == -1 ? -err : fd;
}

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errsz, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return rc;
}

int
image_open(const struct devsep_config *c, const char *path, int ro,
    char *err, size_t errsz)
{
	char real[PATH_MAX], rdirs[CONFIG_MAX_DIRS][CONFIG_PATH_MAX];
	const char *rel;
	struct stat st;
	size_t i;
	int k, fd;

	if (path[0] != '/' || strstr(path, "/../") || strstr(path, "/./"))
		return fail(err, errsz, -EACCES, "%s: not a plain absolute path",
		    path);
	if ((k = image_path_allowed(c->image_dirs, c->n_image_dirs,
	    path)) == -1)
		return fail(err, errsz, -EACCES, "%s: outside image_dirs", path);
	if (realpath(path, real) == NULL)
		return fail(err, errsz, -errno, "%s: %m", path);
	for (i = 0; i < c->n_image_dirs; i++)
		if (realpath(c->image_dirs[i], rdirs[i]) == NULL)
			rdirs[i][0] = '\0';
	if (image_path_allowed(rdirs, c->n_image_dirs, real) != k)
		return fail(err, errsz, -EACCES,
		    "%s: resolves outside its image dir", path);
	rel = path + strlen(c->image_dirs[k]);
	while (*rel == '/')
		rel++;
	if ((fd = open_beneath(c->image_dirs[k], rel, ro)) < 0) {
		errno = -fd;
		return fail(err, errsz, fd, "%s: %m", path);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errsz, -EACCES, "%s: not a regular file", path);
	}
	return fd;
}
