/*
 * hp-send: plays watcherd for one job (test tool).
 *
 *   hp-send RUNDIR KIND ACTION SCRIPT BACKEND_PATH XENSTORED_PATH [VIF]
 *
 * Connects to RUNDIR/hotplugd.sock as the devsep-watcherd user (must be
 * started as root), sends one MSG_HOTPLUG_RUN, waits for its DONE and
 * prints "outcome=<name> code=<n> ms=<n> msg=<text>".  Exit 0 when the
 * script exited 0, 1 otherwise, 2 on usage or protocol errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "proto_hotplug.h"
#include "hp_harness.h"

int
main(int argc, char **argv)
{
	struct hp_run r = { 0 };
	struct hp_done d;
	int fd;

	if (argc < 7 || argc > 8) {
		fprintf(stderr, "usage: hp-send RUNDIR KIND ACTION SCRIPT "
		    "BACKEND_PATH XENSTORED_PATH [VIF]\n");
		return 2;
	}
	peer_init();
	snprintf(RUNDIR, sizeof(RUNDIR), "%s", argv[1]);
	r.id = 1;
	r.kind = argv[2];
	r.action = argv[3];
	r.script = argv[4];
	r.be_path = argv[5];
	r.xs_path = argv[6];
	r.vif = argc == 8 ? argv[7] : "";
	if ((fd = connect_watcherd()) == -1) {
		fprintf(stderr, "hp-send: cannot connect as %s\n",
		    USER_WATCHERD);
		return 2;
	}
	if (send_run(fd, 1, &r) == -1 || recv_done(fd, 60000, &d) == -1) {
		fprintf(stderr, "hp-send: no DONE\n");
		return 2;
	}
	printf("outcome=%s code=%lld ms=%llu msg=%s\n",
	    hotplug_outcome_name(d.outcome), (long long)d.code,
	    (unsigned long long)(d.dur_us / 1000), d.msg);
	return d.outcome == HOTPLUG_EXITED && d.code == 0 ? 0 : 1;
}
