/*
 * xsutil - small helpers shared by the test-world programs (actors and
 * xenworld-ctl): bounded number parsing, libxenstore wrappers, the world
 * control-channel client.  Test code only; daemons use common/.
 */
#ifndef XSUTIL_H
#define XSUTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <xenstore.h>

/* Strict decimal parse of all of s into [min,max] (no blanks, no '+');
 * 0 ok, -1 otherwise. */
int xsu_parse_long(const char *s, long min, long max, long *out);

/* xs_open() on XENSTORED_PATH (or DIR/socket when dir != NULL). */
struct xs_handle *xsu_open(const char *dir);

/* Read path; malloc'd NUL-terminated string or NULL (errno set). */
char *xsu_read(struct xs_handle *xs, xs_transaction_t t, const char *path);
/* Read path as integer in [min,max]; 0 ok, -1 missing or malformed. */
int xsu_read_long(struct xs_handle *xs, xs_transaction_t t, const char *path,
		  long min, long max, long *out);
/* printf-style value write; 0 ok, -1 error (errno). */
int xsu_write(struct xs_handle *xs, xs_transaction_t t, const char *path,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Create path (empty) with the given permissions. */
int xsu_mknod(struct xs_handle *xs, xs_transaction_t t, const char *path,
	      struct xs_permissions *perms, unsigned int n);

/* xsu_transact (the retried transaction) is common/xsutil.h's, shared
 * with watcherd. */
#include "common/xsutil.h"

/* Set by SIGTERM/SIGINT once xsu_stop_on_signals() was called. */
extern volatile sig_atomic_t xsu_stop;
void xsu_stop_on_signals(void);

/* Send one line to DIR/control.sock; reply (without "\n") in buf. */
int xsu_ctl(const char *dir, const char *line, char *buf, size_t cap);

/* Monotonic milliseconds. */
long long xsu_now_ms(void);

#endif
