/*
 * The "qmp things" (seed 002), done by devsep-qemu-broker:
 *   cd-insert DOMID DEVID IMAGE     MSG_BROKER_CDROM_INSERT
 *   cd-eject DOMID DEVID            MSG_BROKER_CDROM_EJECT
 *   disk-add DOMID DEVID IMAGE [--ro] [--bus virtio|scsi]
 *                                   MSG_BROKER_DISK_ADD
 *   disk-remove DOMID DEVID         MSG_BROKER_DISK_REMOVE
 * The broker opens the image itself (only inside image_dirs), so a
 * relative IMAGE is made absolute here, nothing more.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "parse.h"
#include "proto_broker.h"
#include "table.h"

struct op_args {
	uint32_t	domid, devid, flags, bus;
	char		path[CONFIG_PATH_MAX * 2];
};

static int
abs_path(struct ctl *c, const char *in, char *out, size_t n)
{
	char cwd[CONFIG_PATH_MAX * 2];

	if (in[0] == '/') {
		if (xsnprintf(out, n, "%s", in) != -1)
			return 0;
	} else if (getcwd(cwd, sizeof(cwd)) != NULL &&
	    xsnprintf(out, n, "%s/%s", cwd, in) != -1)
		return 0;
	fprintf(stderr, "%s: image path too long: %s\n", c->prog, in);
	return -1;
}

static int
parse_bus(struct ctl *c, const char *v, uint32_t *bus)
{
	if (strcmp(v, "virtio") == 0)
		*bus = BROKER_BUS_VIRTIO;
	else if (strcmp(v, "scsi") == 0)
		*bus = BROKER_BUS_SCSI;
	else {
		fprintf(stderr, "%s: --bus virtio or scsi\n", c->prog);
		return -1;
	}
	return 0;
}

/* Options (disk-add only), then DOMID DEVID [IMAGE]. */
static int
parse_op(struct ctl *c, int argc, char **argv, int want_image,
    int allow_opts, const char *synopsis, struct op_args *a)
{
	static const struct option lo[] = {
		{ "ro",	 no_argument,	    NULL, 'r' },
		{ "bus", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, n = want_image ? 3 : 2;

	memset(a, 0, sizeof(*a));
	a->bus = BROKER_BUS_VIRTIO;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", allow_opts ? lo : lo + 2,
	    NULL)) != -1) {
		if (ch == 'r')
			a->flags |= BROKER_F_RO;
		else if (ch != 'b' || parse_bus(c, optarg, &a->bus) == -1)
			goto usage;
	}
	if (argc - optind != n)
		goto usage;
	argv += optind;
	if (ctl_arg_domid(c, argv[0], &a->domid) == -1 ||
	    ctl_arg_u32(c, "device id", argv[1], &a->devid) == -1 ||
	    (want_image && abs_path(c, argv[2], a->path, sizeof(a->path))))
		return CTL_USAGE;
	return CTL_OK;
usage:
	fprintf(stderr, "usage: %s %s\n", c->prog, synopsis);
	return CTL_USAGE;
}

/* Sends b to the broker, prints the outcome; consumes b. */
static int
broker_op(struct ctl *c, struct msgbuf *b, const char *done,
    int (*show)(struct ctl *, struct msg *, const char *done))
{
	const struct ctl_daemon *d = ctl_daemon_find("broker");
	struct ctl_reply r;
	int rc;

	rc = ctl_call(c, d, b, MSG_COMMON_OK,
	    ctl_timeout(c, CTL_TIMEOUT_OP_MS), &r);
	msgbuf_dispose(b);
	if (rc == CTL_OK && show(c, &r.m, done) == -1) {
		rc = CTL_NOANSWER;
		snprintf(r.why, sizeof(r.why), "malformed reply from the "
		    "broker");
	}
	ctl_report(c, d, rc, &r);
	ctl_reply_dispose(&r);
	return rc;
}

static void
say(struct ctl *c, const char *done, json_t *extra)
{
	json_t *j;

	if (c->json) {
		j = json_pack("{s:s}", "result", done);
		json_object_update(j, extra);
		ctl_print_json(j);
		json_decref(j);
	} else {
		char buf[512], clean[512];

		ctl_json_brief(extra, buf, sizeof(buf));
		table_sanitize(clean, sizeof(clean), buf);
		printf("%s%s%s\n", done, strcmp(clean, "-") ? ": " : "",
		    strcmp(clean, "-") ? clean : "");
	}
	json_decref(extra);
}

/* OK: u32 fdset_id, str xenstore */
static int
show_insert(struct ctl *c, struct msg *m, const char *done)
{
	struct broker_cdrom_inserted r;

	if (broker_cdrom_inserted_get(m, &r) == -1)
		return -1;
	say(c, done, json_pack("{s:i, s:s}", "fdset", (int)r.fdset,
	    "xenstore", r.xenstore));
	return 0;
}

/* OK: str xenstore */
static int
show_eject(struct ctl *c, struct msg *m, const char *done)
{
	struct broker_cdrom_ejected r;

	if (broker_cdrom_ejected_get(m, &r) == -1)
		return -1;
	say(c, done, json_pack("{s:s}", "xenstore", r.xenstore));
	return 0;
}

/* OK: u32 fdset_id */
static int
show_fdset(struct ctl *c, struct msg *m, const char *done)
{
	struct broker_disk_added r;

	if (broker_disk_added_get(m, &r) == -1)
		return -1;
	say(c, done, json_pack("{s:i}", "fdset", (int)r.fdset));
	return 0;
}

/* OK: empty */
static int
show_empty(struct ctl *c, struct msg *m, const char *done)
{
	if (msg_end(m) == -1)
		return -1;
	say(c, done, json_object());
	return 0;
}

int
cmd_cd_insert(struct ctl *c, int argc, char **argv)
{
	struct broker_cdrom_insert r;
	struct op_args a;
	struct msgbuf b;
	int rc;

	if ((rc = parse_op(c, argc, argv, 1, 0, "cd-insert DOMID DEVID IMAGE",
	    &a)) != CTL_OK)
		return rc;
	r = (struct broker_cdrom_insert){ a.domid, a.devid, "", BROKER_F_RO };
	memcpy(r.path, a.path, sizeof(r.path));
	msgbuf_init(&b, MSG_BROKER_CDROM_INSERT, ctl_next_reqid(c));
	broker_cdrom_insert_put(&b, &r);
	return broker_op(c, &b, "inserted", show_insert);
}

int
cmd_cd_eject(struct ctl *c, int argc, char **argv)
{
	struct broker_cdrom_eject r;
	struct op_args a;
	struct msgbuf b;
	int rc;

	if ((rc = parse_op(c, argc, argv, 0, 0, "cd-eject DOMID DEVID",
	    &a)) != CTL_OK)
		return rc;
	r = (struct broker_cdrom_eject){ a.domid, a.devid };
	msgbuf_init(&b, MSG_BROKER_CDROM_EJECT, ctl_next_reqid(c));
	broker_cdrom_eject_put(&b, &r);
	return broker_op(c, &b, "ejected", show_eject);
}

int
cmd_disk_add(struct ctl *c, int argc, char **argv)
{
	struct broker_disk_add r;
	struct op_args a;
	struct msgbuf b;
	int rc;

	if ((rc = parse_op(c, argc, argv, 1, 1, "disk-add DOMID DEVID IMAGE "
	    "[--ro] [--bus virtio|scsi]", &a)) != CTL_OK)
		return rc;
	r = (struct broker_disk_add){ a.domid, a.devid, "", a.flags, a.bus };
	memcpy(r.path, a.path, sizeof(r.path));
	msgbuf_init(&b, MSG_BROKER_DISK_ADD, ctl_next_reqid(c));
	broker_disk_add_put(&b, &r);
	return broker_op(c, &b, "added", show_fdset);
}

int
cmd_disk_remove(struct ctl *c, int argc, char **argv)
{
	struct broker_disk_remove r;
	struct op_args a;
	struct msgbuf b;
	int rc;

	if ((rc = parse_op(c, argc, argv, 0, 0, "disk-remove DOMID DEVID",
	    &a)) != CTL_OK)
		return rc;
	r = (struct broker_disk_remove){ a.domid, a.devid };
	msgbuf_init(&b, MSG_BROKER_DISK_REMOVE, ctl_next_reqid(c));
	broker_disk_remove_put(&b, &r);
	return broker_op(c, &b, "removed", show_empty);
}
