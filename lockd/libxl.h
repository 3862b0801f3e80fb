/*
 * libxl's own per-domain files in its state dir (XEN_LIB_DIR,
 * /var/lib/xen on a real dom0; config key libxl_dir), used by lockd for
 * domains that xl manages.  Pure file I/O relative to one directory fd.
 *
 *   userdata-d.<domid>.<uuid>.libxl-json         the domain's JSON ("d")
 *   userdata-n.<domid>.<uuid>.libxl-json         its temp file while written
 *   userdata-l.<domid>.<uuid>.libxl-device-changes-lock   slow lock
 *   userdata-l.<domid>.<uuid>.domain-userdata-lock        fast lock
 *
 * Lock protocol (libxl__lock_file, libxl__ev_slowlock): open the lock file
 * O_RDWR|O_CREAT 0666, flock(LOCK_EX), then the file at the path must be
 * the one locked (stat(path) == fstat(fd)), otherwise close and retry: the
 * previous holder unlinked it.  Release: unlink the path, LOCK_UN, close
 * (unlink first, so that no one can lock the old inode and believe it holds
 * the lock).  lockd never blocks in flock: lx_lock_try uses LOCK_NB and the
 * caller polls (lockd/xlk.c).
 *
 * A domain is "managed by libxl" when exactly one userdata-d.<domid>.*.
 * libxl-json file exists; its uuid names the lock files.
 */
#ifndef DEVSEP_LOCKD_LIBXL_H
#define DEVSEP_LOCKD_LIBXL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define LX_UUID_LEN	36		/* 8-4-4-4-12 hex */
#define LX_JSON_MAX	(256 * 1024)	/* = LOCK_JSON_MAX */

/* Calls fn for every userdata-d.<domid>.<uuid>.libxl-json; returns the
 * number seen or -errno. */
typedef void (*lx_scan_fn)(void *arg, uint32_t domid, const char *uuid);
int	lx_scan(int dirfd, lx_scan_fn, void *arg);
/* Returns 1 (managed, uuid set), 0 (not), -EEXIST (two JSON files for
 * the domid: ambiguous, a stale file), or -errno. */
int	lx_probe(int dirfd, uint32_t domid, char uuid[LX_UUID_LEN + 1]);

/* which: LOCK_SLOW or LOCK_FAST (proto_lock.h). */
const char *lx_lock_name(uint32_t which);
#define LX_QMP_LOCK	"qmp-socket-lock"	/* held while on QMP */

/*
 * One non-blocking attempt.  *fd is -1 on the first call (the file is
 * opened) and is kept across attempts while the lock is busy.  Returns 0
 * (held: *fd is the lock), -EWOULDBLOCK (busy: call again later), or
 * -errno (*fd closed).
 */
int	lx_lock_try(int dirfd, uint32_t domid, const char *uuid,
	    const char *lock, int *fd);
/* Releases a held lock: unlink, LOCK_UN, close.  *fd becomes -1. */
void	lx_lock_release(int dirfd, uint32_t domid, const char *uuid,
	    const char *lock, int *fd);
/* Drops a lock attempt that does not hold the lock (no unlink). */
void	lx_lock_abandon(int *fd);

/* Identity of the JSON file: 0, -ENOENT (domain gone) or -errno. */
struct lx_stamp {
	uint64_t	 ino, size, mtime_ns;
};
int	lx_json_stamp(int dirfd, uint32_t domid, const char *uuid,
	    struct lx_stamp *);
/* Reads the JSON (libxl stores a trailing NUL; tolerated).  0 or -errno
 * (-EINVAL with err set: not a JSON object). */
int	lx_json_read(int dirfd, uint32_t domid, const char *uuid, json_t **,
	    char *err, size_t errsz);
/* Writes like libxl__userdata_store: userdata-n... 0600 (with the trailing
 * NUL), fsync, rename over userdata-d....  0 or -errno; nothing changes on
 * failure. */
int	lx_json_write(int dirfd, uint32_t domid, const char *uuid,
	    const json_t *);

#endif
