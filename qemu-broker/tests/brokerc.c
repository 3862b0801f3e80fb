/*
 * brokerc: the broker tests' client.  Speaks the broker protocol
 * (proto_broker.h) and the lockd blocking client API, one command per run,
 * so shell tests can drive a real broker + lockd.  Not a product: it sends
 * exactly what it is told (also malformed messages, `raw`).
 *
 *   brokerc RUNDIR CMD ARGS...
 *   exit 0 = OK (payload printed), 10+errno = MSG_COMMON_ERROR,
 *   2 = usage / connection refused, 3 = connection dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockd_client.h"
#include "codec.h"
#include "msg.h"
#include "parse.h"
#include "proto_broker.h"
#include "reply.h"

static const char *rundir;

static uint32_t
num(const char *s)
{
	uint32_t v;

	if (strcmp(s, "all") == 0)
		return BROKER_DOMID_ALL;
	if (parse_u32(s, UINT32_MAX, &v) == -1) {
		fprintf(stderr, "brokerc: bad number %s\n", s);
		exit(2);
	}
	return v;
}

/* Sends b, waits for the reply, prints it; returns the exit code. */
static int
xfer(struct msgbuf *b, const char *fmt)
{
	char path[512], s[1 << 20];
	struct msg m;
	uint32_t u, err;
	int64_t i;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", rundir, SOCK_BROKER);
	if ((fd = msg_connect(path)) == -1) {
		perror("brokerc: connect");
		msgbuf_dispose(b);
		return 2;
	}
	rc = msg_send_fd(fd, b);
	msgbuf_dispose(b);
	if (rc == -1 ||
	    msg_recv_fd(fd, &m, BROKER_REPLY_MAX * 2, 0, 60000) == -1) {
		fprintf(stderr, "brokerc: %s\n", strerror(errno));
		close(fd);
		return 3;
	}
	if (m.hdr.type == MSG_COMMON_ERROR) {
		if (reply_error_get(&m, &err, s, sizeof(s)) == -1) {
			rc = 4;
			goto out;
		}
		printf("error %u: %s\n", err, s);
		rc = 10 + (int)err;
		goto out;
	}
	for (; *fmt; fmt++) {	/* u: u32, i: i64, s: string */
		if ((*fmt == 'u' && msg_get_u32(&m, &u) == -1) ||
		    (*fmt == 'i' && msg_get_i64(&m, &i) == -1) ||
		    (*fmt == 's' && msg_get_str(&m, s, sizeof(s)) == -1)) {
			rc = 4;
			goto out;
		}
		if (*fmt == 'u')
			printf("%u%s", u, fmt[1] ? " " : "\n");
		else if (*fmt == 'i')
			printf("%lld%s", (long long)i, fmt[1] ? " " : "\n");
		else
			printf("%s%s", s, fmt[1] ? " " : "\n");
	}
	if (msg_end(&m) == -1)
		rc = 4;
out:
	msg_dispose(&m);
	close(fd);
	return rc;
}

static int
lockcmd(int argc, char **argv)
{
	struct lockc *l = lockc_open(rundir);
	const char *cmd = argv[0];
	char *json = NULL;
	int rc = -EINVAL;

	if (l == NULL) {
		perror("brokerc: lockd");
		return 2;
	}
	if (strcmp(cmd, "lock-create") == 0 && argc == 2)
		rc = lockc_domain_create(l, num(argv[1]), "{}", NULL);
	else if (strcmp(cmd, "lock-destroy-begin") == 0 && argc == 2)
		rc = lockc_destroy_begin(l, num(argv[1]), 0, 10000);
	else if (strcmp(cmd, "lock-destroy-finish") == 0 && argc == 2)
		rc = lockc_destroy_finish(l, num(argv[1]));
	else if (strcmp(cmd, "lock-list") == 0 && argc == 1)
		rc = lockc_list(l, &json);
	else if (strcmp(cmd, "lock-query") == 0 && argc == 2)
		rc = lockc_query(l, num(argv[1]), &json);
	else if (strcmp(cmd, "lock-hold") == 0 && argc == 3) {
		/* takes the slow lock of DOMID, holds it SECONDS */
		rc = lockc_acquire(l, num(argv[1]), LOCK_SLOW,
		    LOCK_TIMEOUT_INFINITE, NULL);
		if (rc == 0) {
			printf("held\n");
			fflush(stdout);
			sleep(num(argv[2]));
		}
	} else {
		fprintf(stderr, "brokerc: bad lock command\n");
		return 2;
	}
	if (json != NULL)
		printf("%s\n", json);
	if (rc < 0)
		printf("error %d: %s\n", -rc, lockc_errmsg(l));
	free(json);
	lockc_close(l);
	return rc < 0 ? 10 - rc : 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: brokerc RUNDIR dm-start DOMID [--run] [CD...] |"
	    " dm-destroy DOMID [MS] | cd-insert DOMID DEVID PATH |"
	    " cd-eject DOMID DEVID | cd-list DOMID |"
	    " disk-add DOMID DEVID PATH ro|rw virtio|scsi |"
	    " disk-remove DOMID DEVID | list DOMID|all |"
	    " qdisk-attach|qdisk-detach DOMID DEVID | status | stats |"
	    " raw TYPE [U32...] | lock-create|lock-destroy-begin|"
	    "lock-destroy-finish|lock-query DOMID | lock-list |"
	    " lock-hold DOMID SECONDS\n");
	return 2;
}

/* cd-eject, disk-remove, qdisk-attach, qdisk-detach: {domid, devid}. */
static void
dev_req(struct msgbuf *b, const char *c, uint32_t domid, uint32_t devid)
{
	struct broker_cdrom_eject e = { domid, devid };
	struct broker_disk_remove r = { domid, devid };
	struct broker_qdisk_attach a = { domid, devid };
	struct broker_qdisk_detach d = { domid, devid };

	if (c[0] == 'c') {
		msgbuf_init(b, MSG_BROKER_CDROM_EJECT, 1);
		broker_cdrom_eject_put(b, &e);
	} else if (c[0] == 'd') {
		msgbuf_init(b, MSG_BROKER_DISK_REMOVE, 1);
		broker_disk_remove_put(b, &r);
	} else if (c[6] == 'a') {
		msgbuf_init(b, MSG_BROKER_QDISK_ATTACH, 1);
		broker_qdisk_attach_put(b, &a);
	} else {
		msgbuf_init(b, MSG_BROKER_QDISK_DETACH, 1);
		broker_qdisk_detach_put(b, &d);
	}
}

static int
dm_start(int argc, char **argv)
{
	struct broker_dm_start s = { .domid = num(argv[1]) };
	struct msgbuf b;
	int i;

	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "--run") == 0)
			s.flags |= BROKER_DM_RUN;
		else if (s.n_cdrom < BROKER_MAX_CDROMS)
			s.cdrom[s.n_cdrom++] = num(argv[i]);
		else
			return usage();
	msgbuf_init(&b, MSG_BROKER_DM_START, 1);
	broker_dm_start_put(&b, &s);
	return xfer(&b, "uu");
}

int
main(int argc, char **argv)
{
	struct msgbuf b;
	const char *c;
	int i;

	if (argc < 3)
		return usage();
	peer_init();
	rundir = argv[1];
	c = argv[2];
	argc -= 2;
	argv += 2;
	if (strncmp(c, "lock-", 5) == 0)
		return lockcmd(argc, argv);
	if (strcmp(c, "dm-start") == 0 && argc >= 2)
		return dm_start(argc, argv);
	if (strcmp(c, "dm-destroy") == 0 && argc >= 2) {
		struct broker_dm_destroy d = { num(argv[1]),
		    argc > 2 ? num(argv[2]) : 0 };

		msgbuf_init(&b, MSG_BROKER_DM_DESTROY, 1);
		broker_dm_destroy_put(&b, &d);
		return xfer(&b, "uiu");
	}
	if (strcmp(c, "cd-insert") == 0 && argc == 4) {
		struct broker_cdrom_insert r = { num(argv[1]), num(argv[2]),
		    "", BROKER_F_RO };

		if (CODEC_SET_STR(r.path, argv[3]) == -1)
			return usage();
		msgbuf_init(&b, MSG_BROKER_CDROM_INSERT, 1);
		broker_cdrom_insert_put(&b, &r);
		return xfer(&b, "us");
	}
	if (strcmp(c, "disk-add") == 0 && argc == 6) {
		struct broker_disk_add r = { num(argv[1]), num(argv[2]), "",
		    strcmp(argv[4], "ro") == 0 ? BROKER_F_RO : 0,
		    strcmp(argv[5], "scsi") == 0 ? BROKER_BUS_SCSI :
		    BROKER_BUS_VIRTIO };

		if (CODEC_SET_STR(r.path, argv[3]) == -1)
			return usage();
		msgbuf_init(&b, MSG_BROKER_DISK_ADD, 1);
		broker_disk_add_put(&b, &r);
		return xfer(&b, "u");
	}
	if ((strcmp(c, "cd-eject") == 0 || strcmp(c, "disk-remove") == 0 ||
	    strcmp(c, "qdisk-attach") == 0 || strcmp(c, "qdisk-detach") == 0) &&
	    argc == 3) {
		dev_req(&b, c, num(argv[1]), num(argv[2]));
		return xfer(&b, c[0] == 'c' ? "s" : c[0] == 'd' ? "" :
		    c[6] == 'a' ? "uu" : "u");
	}
	if ((strcmp(c, "cd-list") == 0 || strcmp(c, "list") == 0) &&
	    argc == 2) {
		struct broker_cdrom_list cl = { num(argv[1]) };
		struct broker_list l = { num(argv[1]) };

		if (c[0] == 'c') {
			msgbuf_init(&b, MSG_BROKER_CDROM_LIST, 1);
			broker_cdrom_list_put(&b, &cl);
		} else {
			msgbuf_init(&b, MSG_BROKER_LIST, 1);
			broker_list_put(&b, &l);
		}
		return xfer(&b, "s");
	}
	if ((strcmp(c, "status") == 0 || strcmp(c, "stats") == 0) &&
	    argc == 1) {
		msgbuf_init(&b, c[1] == 't' && c[4] == 's' ? MSG_COMMON_STATS :
		    MSG_COMMON_STATUS, 1);
		return xfer(&b, "s");
	}
	if (strcmp(c, "raw") == 0 && argc >= 2) {
		msgbuf_init(&b, num(argv[1]), 1);
		for (i = 2; i < argc; i++)
			msgbuf_put_u32(&b, num(argv[i]));
		return xfer(&b, "");
	}
	return usage();
}
