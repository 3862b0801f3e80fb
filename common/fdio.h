/*
 * Whole-buffer I/O on a blocking descriptor: retries short transfers and
 * EINTR.  -1 (errno set; EIO for an end of file before n bytes on read,
 * or a write that moves nothing) when the buffer could not be moved whole.
 */
#ifndef DEVSEP_FDIO_H
#define DEVSEP_FDIO_H

#include <stddef.h>

int	write_all(int fd, const void *buf, size_t n);
int	read_all(int fd, void *buf, size_t n);

/*
 * Reads fd to its end into buf (cap bytes): 0 with *len, -EFBIG when the
 * data fill buf (at most cap - 1 bytes are accepted, so one byte is always
 * left, e.g. for a NUL), or -errno.
 */
int	read_upto(int fd, void *buf, size_t cap, size_t *len);

/*
 * Atomic replace of `name` in the directory `dirfd`: writes buf to `tmp`
 * (created 0600, never through a symlink), fsyncs it, renames it over
 * `name` and fsyncs the directory.  0, or -errno (tmp removed).
 */
int	fdio_replace_at(int dirfd, const char *tmp, const char *name,
	    const void *buf, size_t n);

#endif
