/*
 * The per-domain JSON config store: one file per domain in the state dir,
 * "dom<N>.json", always replaced atomically (write "dom<N>.json.tmp",
 * fsync, renameat, fsync the directory).  Every access is relative to one
 * directory fd, so the sandbox can confine lockd to that directory.
 *
 * File format (lockd's envelope around the client's config object):
 *   {"domid":N, "generation":G, "state":"active"|"dying",
 *    "dm_gone":bool, "config":{...} | null}
 * config is null only for a destroy tombstone (state "dying").
 * Left-over "*.tmp" files (a crash mid-write) are removed at startup; a
 * file that does not parse or validate is reported corrupt, left in place
 * and never overwritten until an admin destroys the domain (it is then
 * renamed "dom<N>.json.corrupt").
 */
#ifndef DEVSEP_LOCKD_STORE_H
#define DEVSEP_LOCKD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto_lock.h"

#define STORE_FILE_MAX	(LOCK_JSON_MAX + 4096)

struct store_rec {
	uint32_t	 domid;
	int		 dying;
	int		 dm_gone;
	uint64_t	 gen;
	json_t		*config;	/* owned reference, NULL: tombstone */
};

/* Creates the directory (0700) if missing; returns an O_DIRECTORY fd. */
int	store_open(const char *path);
/* Atomic replace.  0 or -errno. */
int	store_write(int dirfd, const struct store_rec *);
/* Removes the file (and fsyncs the dir).  0 or -errno (-ENOENT). */
int	store_remove(int dirfd, uint32_t domid);
/* Renames a corrupt file aside ("dom<N>.json.corrupt"). */
int	store_quarantine(int dirfd, uint32_t domid);
/* Reads and validates one file.  0, -ENOENT, or -EINVAL with err set. */
int	store_load(int dirfd, uint32_t domid, struct store_rec *,
	    char *err, size_t errsz);
/* Parses/validates a file image (the fuzzable core of store_load). */
int	store_parse(const char *buf, size_t len, uint32_t domid,
	    struct store_rec *, char *err, size_t errsz);
void	store_rec_dispose(struct store_rec *);

/*
 * Startup scan: removes "*.tmp" files, then for every "dom<N>.json" calls
 * fn with the record (rec NULL and err set when corrupt).  Other names are
 * ignored.  Returns the number of files seen, or -errno.
 */
typedef void (*store_scan_fn)(void *arg, uint32_t domid,
    const struct store_rec *rec, const char *err);
int	store_scan(int dirfd, store_scan_fn, void *arg);

#endif
