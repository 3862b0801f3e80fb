/*
 * fake-watcherd: stands in for devsep-watcherd's MSG_WATCHER_CDROM_UPDATE
 * in the broker tests (the real one needs a xenstore world).  Listens on
 * RUNDIR/watcherd.sock, decodes each request exactly as proto_watcher.h
 * says, appends "domid devid params|type|mode" to LOG and answers:
 *   ok      MSG_COMMON_OK
 *   error   MSG_COMMON_ERROR ENOENT "no such vbd backend"
 *   silent  nothing (the broker must time out)
 * A malformed request is logged as "MALFORMED".
 *
 *   fake-watcherd RUNDIR LOG ok|error|silent
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"
#include "proto_watcher.h"
#include "reply.h"

static void
serve(int fd, FILE *log, const char *mode)
{
	struct watcher_cdrom_update u;
	struct msgbuf b;
	struct msg m;

	if (msg_recv_fd(fd, &m, WATCHER_MSG_MAX, 0, 5000) == -1)
		return;
	if (watcher_cdrom_update_get(&m, &u) == -1) {	/* as watcherd */
		fprintf(log, "MALFORMED\n");
		goto out;
	}
	fprintf(log, "%u %u %s|%s|%s\n", u.domid, u.devid, u.params, u.type,
	    u.mode);
	if (strcmp(mode, "silent") == 0) {
		sleep(30);
		goto out;
	}
	if (strcmp(mode, "ok") == 0)
		msgbuf_init(&b, MSG_COMMON_OK, m.hdr.reqid);
	else
		reply_error_init(&b, m.hdr.reqid, ENOENT, "no such vbd backend");
	msg_send_fd(fd, &b);
	msgbuf_dispose(&b);
out:
	fflush(log);
	msg_dispose(&m);
}

int
main(int argc, char **argv)
{
	char path[512];
	FILE *log;
	int lfd, fd;

	if (argc != 4 || (log = fopen(argv[2], "a")) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/%s", argv[1], SOCK_WATCHERD);
	if ((lfd = msg_listen(path, 0666)) == -1) {
		fclose(log);
		return 1;
	}
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				usleep(10000);
				continue;
			}
			return 1;
		}
		serve(fd, log, argv[3]);
		close(fd);
	}
}
