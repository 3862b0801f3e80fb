/*
 * Pipelined xenstore reads on a second raw connection (see xsbatch.c).
 */
#ifndef WATCHERD_XSBATCH_H
#define WATCHERD_XSBATCH_H

#include <stddef.h>

#define XSB_DEVS	64		/* devices per burst */
#define XSB_MAX		XSB_DEVS	/* reads per burst */
#define XSB_VAL_MAX	64		/* bytes kept of a value */
#define XSB_ABSENT	(-1)

struct xsb_val {
	int	len;			/* real length, or XSB_ABSENT */
	char	buf[XSB_VAL_MAX];	/* first bytes, NUL-terminated */
};

int	xsb_open(void);
void	xsb_close(void);
int	xsb_available(void);
int	xsb_read(const char *const *paths, size_t n, struct xsb_val *);

#endif
