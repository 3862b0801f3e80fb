/*
 * check-dominfo - prints what the real libxenctrl (xc_domain_getinfo)
 * reports for a domain; run under the shim (LD_PRELOAD=libxenshim.so with
 * XENSTORED_RUNDIR=DIR).  Proves the fake hypervisor's domain state is the
 * one any toolstack would see.
 *
 *   check-dominfo DOMID   -> "domid=N dying=0 shutdown=0 crashed=0 reason=0
 *                            running=1 paused=0 hvm=0"
 * Exit: 0 found, 1 no such domain, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

int main(int argc, char **argv)
{
	xc_dominfo_t info;
	xc_interface *xch;
	unsigned long d;
	char *end;
	int n;

	if (argc != 2 || !argv[1][0]) {
		fprintf(stderr, "usage: check-dominfo DOMID\n");
		return 2;
	}
	errno = 0;
	d = strtoul(argv[1], &end, 10);
	if (errno || *end || d > 0x7fef) {
		fprintf(stderr, "usage: check-dominfo DOMID\n");
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		perror("xc_interface_open");
		return 1;
	}
	n = xc_domain_getinfo(xch, (uint32_t)d, 1, &info);
	xc_interface_close(xch);
	if (n != 1 || info.domid != d) {
		printf("domid=%lu absent\n", d);
		return 1;
	}
	printf("domid=%u dying=%u shutdown=%u crashed=%u reason=%u running=%u "
	       "paused=%u hvm=%u\n", info.domid, info.dying, info.shutdown,
	       info.crashed, info.shutdown_reason, info.running, info.paused,
	       info.hvm);
	return 0;
}
