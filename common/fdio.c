/* Whole-buffer read/write (see fdio.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>

#include "fdio.h"

int
write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* no progress: do not spin */
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
read_all(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* end of file before n bytes */
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
fdio_replace_at(int dirfd, const char *tmp, const char *name,
    const void *buf, size_t n)
{
	int fd, rc = 0;

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return -errno;
	if (write_all(fd, buf, n) == -1 || fsync(fd) == -1)
		rc = -errno;
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	if (rc == 0 && (renameat(dirfd, tmp, dirfd, name) == -1 ||
	    fsync(dirfd) == -1))
		rc = -errno;
	if (rc != 0)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

int
read_upto(int fd, void *buf, size_t cap, size_t *len)
{
	char *p = buf;
	ssize_t r;

	*len = 0;
	for (;;) {
		r = read(fd, p + *len, cap - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -errno;
		if (r == 0)
			return 0;
		*len += (size_t)r;
		if (*len == cap)
			return -EFBIG;
	}
}
