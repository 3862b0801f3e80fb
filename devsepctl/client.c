/*
 * devsepctl's side of the daemon sockets: which daemons exist, connecting
 * with an explanation when one is not running, one request/reply exchange
 * with a timeout and reqid matching, decoding MSG_COMMON_ERROR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "parse.h"
#include "proto.h"
#include "reply.h"
#include "table.h"

const struct ctl_daemon ctl_daemons[] = {
	{ "watcherd",	"devsep-watcherd",	SOCK_WATCHERD,	1 },
	{ "hotplugd",	"devsep-hotplugd",	SOCK_HOTPLUGD,	1 },
	{ "lockd",	"devsep-lockd",		SOCK_LOCKD,	0 },
	{ "broker",	"devsep-qemu-broker",	SOCK_BROKER,	0 },
};
const size_t ctl_ndaemons = sizeof(ctl_daemons) / sizeof(ctl_daemons[0]);

const struct ctl_daemon *
ctl_daemon_find(const char *name)
{
	size_t i;

	for (i = 0; i < ctl_ndaemons; i++)
		if (strcmp(name, ctl_daemons[i].name) == 0 ||
		    strcmp(name, ctl_daemons[i].prog) == 0)
			return &ctl_daemons[i];
	return NULL;
}

static void
why_absent(const struct ctl_daemon *d, const char *path, int e, char *why,
    size_t n)
{
	const char *hint = d->driverdomain ?
	    "start it (systemctl start devsep.target in dom0, "
	    "devsep-driverdomain.target in a driver domain)" :
	    "or this is a driver domain where only watcherd and hotplugd run";

	if (e == ENOENT && d->driverdomain)
		snprintf(why, n, "%s is not running here (no %s): %s",
		    d->prog, path, hint);
	else if (e == ENOENT)
		snprintf(why, n, "%s is not running here (no %s): start "
		    "%s.service, %s", d->prog, path, d->prog, hint);
	else if (e == ECONNREFUSED)
		snprintf(why, n, "%s is not running here (stale socket %s, "
		    "nobody listening): it may have crashed; see journalctl "
		    "-u %s.service", d->prog, path, d->prog);
	else
		snprintf(why, n, "%s is not running here (%s: %s)", d->prog,
		    path, strerror(e));
}

int
ctl_connect(struct ctl *c, const struct ctl_daemon *d, int *fd, char *why,
    size_t whysz)
{
	char path[CONFIG_PATH_MAX + 32];
	uid_t uid;

	if (xsnprintf(path, sizeof(path), "%s/%s", c->rundir, d->sock) == -1) {
		snprintf(why, whysz, "run dir too long: %s", c->rundir);
		return CTL_USAGE;
	}
	if ((*fd = msg_connect_server(path, peer_class_parse(d->name),
	    &uid)) != -1)
		return CTL_OK;
	if (errno == EPERM) {
		snprintf(why, whysz, "%s is answered by uid %u, not by root or "
		    "%s's user: an impostor; nothing was sent to it", path,
		    (unsigned)uid, d->prog);
		return CTL_FAILED;
	}
	if (errno == EACCES || errno == EPERM) {
		snprintf(why, whysz, "cannot connect to %s: %s: run devsepctl "
		    "as root (the daemons answer only uid 0)", path,
		    strerror(errno));
		return CTL_FAILED;
	}
	why_absent(d, path, errno, why, whysz);
	return CTL_NODAEMON;
}

static int
reply_error(struct ctl_reply *r)
{
	if (reply_error_get(&r->m, &r->err, r->errmsg,
	    sizeof(r->errmsg)) == -1) {
		snprintf(r->why, sizeof(r->why), "malformed error reply");
		return CTL_NOANSWER;
	}
	if (r->err == 0)
		r->err = EIO;
	return CTL_FAILED;
}

static int
recv_reply(struct ctl *c, const struct ctl_daemon *d, int fd, uint32_t reqid,
    int timeout_ms, struct ctl_reply *r)
{
	int e;

	if (msg_recv_fd(fd, &r->m, CTL_REPLY_MAX, 0, timeout_ms) == 0) {
		if (r->m.hdr.reqid == reqid)
			return CTL_OK;
		snprintf(r->why, sizeof(r->why), "%s answered reqid %u to "
		    "request %u", d->prog, r->m.hdr.reqid, reqid);
		return CTL_NOANSWER;
	}
	e = errno;
	if (e == ETIMEDOUT)
		snprintf(r->why, sizeof(r->why), "%s did not answer within %d "
		    "ms (-t to wait longer); if it is stuck see journalctl -u "
		    "%s.service", d->prog, timeout_ms, d->prog);
	else if (e == ECONNRESET)
		snprintf(r->why, sizeof(r->why), "%s closed the connection "
		    "without answering (it drops peers that may not send a "
		    "request: run devsepctl as root; or it does not know this "
		    "request - version mismatch?)", d->prog);
	else
		snprintf(r->why, sizeof(r->why), "reading %s's reply: %s",
		    d->prog, strerror(e));
	(void)c;
	return CTL_NOANSWER;
}

int
ctl_exchange(struct ctl *c, const struct ctl_daemon *d, int fd,
    struct msgbuf *req, uint32_t expect, int timeout_ms, struct ctl_reply *r)
{
	uint32_t reqid = ((struct msg_hdr *)(void *)req->data)->reqid;
	int rc;

	memset(r, 0, sizeof(*r));
	r->m.fd = -1;
	if (msg_send_fd(fd, req) == -1) {
		snprintf(r->why, sizeof(r->why), "sending to %s: %s", d->prog,
		    strerror(errno));
		return errno == EPIPE || errno == ECONNRESET ? CTL_NOANSWER :
		    CTL_FAILED;
	}
	if ((rc = recv_reply(c, d, fd, reqid, timeout_ms, r)) != CTL_OK)
		return rc;
	if (r->m.hdr.type == expect)
		return CTL_OK;
	if (r->m.hdr.type == MSG_COMMON_ERROR)
		return reply_error(r);
	snprintf(r->why, sizeof(r->why), "%s answered with message type %u "
	    "(expected %u)", d->prog, r->m.hdr.type, expect);
	return CTL_NOANSWER;
}

int
ctl_call(struct ctl *c, const struct ctl_daemon *d, struct msgbuf *req,
    uint32_t expect, int timeout_ms, struct ctl_reply *r)
{
	int fd, rc;

	memset(r, 0, sizeof(*r));
	r->m.fd = -1;
	if ((rc = ctl_connect(c, d, &fd, r->why, sizeof(r->why))) != CTL_OK)
		return rc;
	rc = ctl_exchange(c, d, fd, req, expect, timeout_ms, r);
	close(fd);
	return rc;
}

int
ctl_call_json(struct ctl *c, const struct ctl_daemon *d, struct msgbuf *req,
    uint32_t expect, int timeout_ms, struct ctl_reply *r, json_t **j)
{
	int rc;

	*j = NULL;
	rc = ctl_call(c, d, req, expect, timeout_ms, r);
	if (rc == CTL_OK && ctl_get_json(&r->m, j) == -1) {
		rc = CTL_NOANSWER;
		snprintf(r->why, sizeof(r->why), "%s sent a reply that is not "
		    "valid JSON", d->prog);
	}
	return rc;
}

int
ctl_query(struct ctl *c, const char *name, struct msgbuf *b,
    uint32_t expect, int (*render)(struct ctl *, json_t *))
{
	const struct ctl_daemon *d = ctl_daemon_find(name);
	struct ctl_reply r;
	json_t *j;
	int rc;

	rc = ctl_call_json(c, d, b, expect, ctl_timeout(c,
	    CTL_TIMEOUT_QUERY_MS), &r, &j);
	msgbuf_dispose(b);
	if (rc != CTL_OK)
		ctl_report(c, d, rc, &r);
	else if (c->json)
		ctl_print_json(j);
	else
		rc = render(c, j);
	json_decref(j);
	ctl_reply_dispose(&r);
	return rc;
}

void
ctl_reply_dispose(struct ctl_reply *r)
{
	msg_dispose(&r->m);
}

/* Daemon messages may quote guest- or user-supplied text: sanitized. */
void
ctl_report(struct ctl *c, const struct ctl_daemon *d, int rc,
    const struct ctl_reply *r)
{
	char buf[sizeof(r->why) + sizeof(r->errmsg)];

	if (rc == CTL_FAILED && r->err != 0) {
		table_sanitize(buf, sizeof(buf), r->errmsg[0] ? r->errmsg :
		    "request failed");
		fprintf(stderr, "%s: %s: %s (%s)\n", c->prog, d->prog, buf,
		    strerror(r->err));
	} else if (rc != CTL_OK) {
		table_sanitize(buf, sizeof(buf), r->why[0] ? r->why :
		    "request failed");
		fprintf(stderr, "%s: %s\n", c->prog, buf);
	}
}

int
ctl_get_json(struct msg *m, json_t **out)
{
	struct reply_json r;
	json_error_t jerr;

	*out = NULL;
	if (reply_json_get(m, m->hdr.type, CTL_REPLY_MAX, &r) == -1)
		return -1;
	*out = json_loadb(r.json, r.len, JSON_REJECT_DUPLICATES, &jerr);
	return *out == NULL ? -1 : 0;
}

int
ctl_timeout(const struct ctl *c, int dflt)
{
	return c->timeout_ms >= 0 ? c->timeout_ms : dflt;
}

uint32_t
ctl_next_reqid(struct ctl *c)
{
	return ++c->reqid;
}
