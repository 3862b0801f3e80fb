/* Whole-buffer read/write (see fdio.h). */
#include <errno.h>
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
