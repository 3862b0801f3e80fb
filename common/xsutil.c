/* xenstore transaction retry: see xsutil.h. */
#include <errno.h>

#include "xsutil.h"

int
xsu_transact(struct xs_handle *xs, int tries, xsu_tx_fn fn, void *arg)
{
	xs_transaction_t t;
	int i, e;

	for (i = 0; i < tries; i++) {
		if ((t = xs_transaction_start(xs)) == XBT_NULL)
			return -1;
		if (fn(xs, t, arg) != 0) {
			e = errno;
			xs_transaction_end(xs, t, true);
			errno = e;
			return -1;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}
