/*
 * A xenstore transaction retried while its commit conflicts (EAGAIN), the
 * loop written once for watcherd (CD-ROM update, removal clean-up, the
 * scoped proxy's buffered transactions) and the test-world programs
 * (tests/actors, xenworld-ctl).
 */
#ifndef DEVSEP_XSUTIL_H
#define DEVSEP_XSUTIL_H

#include <stdbool.h>
#include <xenstore.h>

/* The work done inside one attempt: 0, or -1 with errno to abort. */
typedef int (*xsu_tx_fn)(struct xs_handle *, xs_transaction_t, void *);

/*
 * Runs fn(xs, t, arg) in a transaction, started again (up to tries times)
 * while the commit fails with EAGAIN; a failing fn aborts the transaction
 * and keeps fn's errno.  0 committed; -1 otherwise with errno (EAGAIN when
 * every try conflicted).
 */
int	xsu_transact(struct xs_handle *xs, int tries, xsu_tx_fn fn, void *arg);

#endif
