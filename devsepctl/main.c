/* devsepctl entry point; everything else is in cli.c and cmd_*.c. */
#include <string.h>

#include "ctl.h"

int
main(int argc, char **argv)
{
	struct ctl c;
	int i, rc;

	memset(&c, 0, sizeof(c));
	c.prog = "devsepctl";
	if ((i = ctl_parse_global(&c, argc, argv, &rc)) == -1)
		return rc;
	return ctl_run(&c, argc - i, argv + i);
}
