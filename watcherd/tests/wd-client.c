/*
 * wd-client: a test client for watcherd.sock (integration tests only).
 *
 *   wd-client [--as USER] SOCK status | stats | devices [DOMID]
 *   wd-client [--as USER] SOCK cdrom DOMID DEVID PARAMS TYPE MODE
 *   wd-client [--as USER] SOCK raw TYPE [u32...]   (arbitrary payload)
 *
 * --as USER switches to that system user before connecting, so the
 * daemon classifies the client as that peer class.  Prints the reply's
 * string (JSON), "OK", "ERROR <errno> <message>", or "DROPPED" when the
 * daemon closed the connection instead of answering.  Exit 0 when a reply
 * (OK or a typed reply) came, 1 on ERROR, 3 on DROPPED, 2 on usage.
 */
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "msg.h"
#include "parse.h"
#include "proto_watcher.h"
#include "reply.h"

static int
usage(void)
{
	fprintf(stderr, "usage: wd-client [--as USER] SOCK status|stats|"
	    "devices [DOMID]|cdrom D N PARAMS TYPE MODE|raw TYPE [u32...]\n");
	return 2;
}

/*
 * Becomes user with the socket group GROUP_PEERS as its one supplementary
 * group (as watcherd and the broker run): the daemon's own class checks,
 * not the socket's mode, must then refuse what the user may not send.
 */
static int
become(const char *user)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr = getgrnam(GROUP_PEERS);
	gid_t g;

	if (pw == NULL || gr == NULL)
		return -1;
	g = gr->gr_gid;
	if (setgroups(1, &g) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		perror("wd-client: become");
		return -1;
	}
	return 0;
}

static int
build(struct msgbuf *b, int argc, char **argv)
{
	uint32_t v, i;

	if (strcmp(argv[0], "status") == 0)
		msgbuf_init(b, MSG_COMMON_STATUS, 7);
	else if (strcmp(argv[0], "stats") == 0)
		msgbuf_init(b, MSG_COMMON_STATS, 7);
	else if (strcmp(argv[0], "devices") == 0) {
		struct watcher_devices d = { WATCHER_DOMID_ALL };

		if (argc > 1 && parse_u32(argv[1], UINT32_MAX, &d.domid) == -1)
			return -1;
		msgbuf_init(b, MSG_WATCHER_DEVICES, 7);
		watcher_devices_put(b, &d);
	} else if (strcmp(argv[0], "cdrom") == 0 && argc == 6) {
		struct watcher_cdrom_update u;

		if (parse_u32(argv[1], UINT32_MAX, &u.domid) == -1 ||
		    parse_u32(argv[2], UINT32_MAX, &u.devid) == -1 ||
		    CODEC_SET_STR(u.params, argv[3]) == -1 ||
		    CODEC_SET_STR(u.type, argv[4]) == -1 ||
		    CODEC_SET_STR(u.mode, argv[5]) == -1)
			return -1;
		msgbuf_init(b, MSG_WATCHER_CDROM_UPDATE, 7);
		watcher_cdrom_update_put(b, &u);
	} else if (strcmp(argv[0], "raw") == 0 && argc >= 2) {
		if (parse_u32(argv[1], UINT32_MAX, &v) == -1)
			return -1;
		msgbuf_init(b, v, 7);
		for (i = 2; i < (uint32_t)argc; i++) {
			if (parse_u32(argv[i], UINT32_MAX, &v) == -1)
				return -1;
			msgbuf_put_u32(b, v);
		}
	} else
		return -1;
	return 0;
}

/* Prints the reply; the exit code (see the top). */
static int
print_reply(struct msg *m)
{
	static char text[WATCHER_REPLY_MAX];
	struct reply_json r;
	uint32_t err;

	if (m->hdr.type == MSG_COMMON_OK) {
		printf("OK\n");
		return 0;
	}
	if (m->hdr.type == MSG_COMMON_ERROR) {
		if (reply_error_get(m, &err, text, sizeof(text)) == -1)
			return 2;
		printf("ERROR %u %s\n", err, text);
		return 1;
	}
	if (reply_json_get(m, m->hdr.type, WATCHER_REPLY_MAX, &r) == -1)
		return 2;
	printf("%.*s\n", (int)r.len, r.json);
	return 0;
}

int
main(int argc, char **argv)
{
	struct msgbuf b = { 0 };
	struct msg m = { .fd = -1 };
	int fd, rc, i = 1;

	if (argc > 2 && strcmp(argv[1], "--as") == 0) {
		if (become(argv[2]) == -1)
			return 2;
		i = 3;
	}
	if (argc - i < 2 || build(&b, argc - i - 1, argv + i + 1) == -1) {
		rc = usage();
		goto out;
	}
	if ((fd = msg_connect(argv[i])) == -1) {
		perror("wd-client: connect");
		rc = 2;
		goto out;
	}
	if (msg_send_fd(fd, &b) == -1 ||
	    msg_recv_fd(fd, &m, WATCHER_REPLY_MAX + 64, 0, 5000) == -1) {
		printf("DROPPED\n");
		rc = 3;
	} else
		rc = print_reply(&m);
	close(fd);
out:
	msg_dispose(&m);
	msgbuf_dispose(&b);
	return rc;
}
