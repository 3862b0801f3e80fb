/*
 * devsepctl entry point; everything else is in cli.c and cmd_*.c.
 *
 * With --json, a failure is JSON too: when a command ends with an exit
 * code other than 0 and printed no JSON document, one object goes to
 * stdout (the messages still go to stderr):
 *   {"error": {"exit": 3, "reason": "daemon-not-running",
 *              "message": "devsep-lockd is not running here: ..."}}
 * "exit" is the exit code (devsepctl(8) EXIT STATUS), "reason" its name,
 * "message" what devsepctl printed on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char *
exit_reason(int rc)
{
	switch (rc) {
	case CTL_FAILED:	return "failed";
	case CTL_USAGE:		return "usage";
	case CTL_NODAEMON:	return "daemon-not-running";
	case CTL_INVARIANT:	return "check-found-problems";
	case CTL_NOANSWER:	return "no-answer";
	default:		return "error";
	}
}

/* "--json" or "-j" among the global options (before the command). */
static int
json_asked(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			return 1;
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	return 0;
}

static void
json_error(int rc, const char *msg, size_t len)
{
	json_t *o;

	while (len > 0 && msg[len - 1] == '\n')
		len--;
	o = json_pack("{s:{s:i, s:s, s:s%}}", "error", "exit", rc, "reason",
	    exit_reason(rc), "message", msg, len);
	if (o != NULL)
		ctl_print_json(o);
	json_decref(o);
}

int
main(int argc, char **argv)
{
	struct ctl c;
	FILE *real_err = stderr, *cap = NULL;
	char *buf = NULL;
	size_t len = 0;
	int i, rc;

	memset(&c, 0, sizeof(c));
	c.prog = "devsepctl";
	/* --json: keep what goes to stderr for the error object */
	if (json_asked(argc, argv) && (cap = open_memstream(&buf, &len)) != NULL)
		stderr = cap;
	peer_init();	/* the daemons' uids: every server is checked */
	if ((i = ctl_parse_global(&c, argc, argv, &rc)) != -1)
		rc = ctl_run(&c, argc - i, argv + i);
	if (cap == NULL)
		return rc;
	stderr = real_err;
	fclose(cap);
	fwrite(buf, 1, len, stderr);
	if (rc != CTL_OK && !ctl_json_printed)
		json_error(rc, buf, len);
	free(buf);
	return rc;
}
