/*
 * libFuzzer target for the scoped xenstore proxy's pure parts
 * (watcherd/xsproxy.c): wire framing, path split, normalisation and the
 * scope check, on hostile byte streams.
 *
 * Input: byte 0 picks the job (vbd or vif backend dir), the rest is a
 * stream of xenstore frames as a client would send them.  Besides "no
 * crash, no sanitizer report", it asserts the proxy's security property:
 * a path allowed for writing is strictly below the job's backend dir, or
 * (vif) exactly the frontend's mtu node; a path allowed for reading is
 * inside the backend kind's dir, or a /local/domain/N/{vm,target} node,
 * or that mtu node.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "log.h"
#include "watcherd/xsproxy.h"

#define VBD "/local/domain/0/backend/vbd/5/51712"
#define VIF "/local/domain/0/backend/vif/5/0"
#define MTU "/local/domain/5/device/vif/0/mtu"

static int
under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(p, dir, n) == 0 && p[n] == '/';
}

static int
vm_or_target(const char *p)
{
	const char *q;

	if (strncmp(p, "/local/domain/", 14) != 0)
		return 0;
	q = strchr(p + 14, '/');
	return q != NULL && q > p + 14 &&
	    (strcmp(q, "/vm") == 0 || strcmp(q, "/target") == 0);
}

struct job {
	const struct xsproxy_scope	*s;
	const char			*be, *kinddir;
	int				 vif;
};

/* The property, for one normalised path. */
static void
check_one(const struct job *j, const char *norm)
{
	if (strstr(norm, "//") || strstr(norm, "..") || norm[0] != '/')
		abort();
	if (xsproxy_allowed(j->s, norm, XSP_WRITE) && !under(norm, j->be) &&
	    !(j->vif && strcmp(norm, MTU) == 0))
		abort();
	if (xsproxy_allowed(j->s, norm, XSP_READ) &&
	    !(strcmp(norm, j->kinddir) == 0 || under(norm, j->kinddir) ||
	    vm_or_target(norm) || (j->vif && strcmp(norm, MTU) == 0)))
		abort();
}

/* Normalises path and checks it and each of its ancestors. */
static void
check(const struct job *j, const char *path)
{
	char norm[XSPROXY_PATH_MAX];
	const char *why;
	char *slash;

	if (xsproxy_norm(j->s, path, norm, sizeof(norm), &why) == -1) {
		if (why == NULL)
			abort();
		return;
	}
	for (;;) {
		check_one(j, norm);
		if ((slash = strrchr(norm, '/')) == NULL || slash == norm)
			break;
		*slash = '\0';
	}
}

/* The fuzzed path as is and anchored below the interesting dirs, so short
 * inputs reach the paths the scope is about. */
static void
check_anchored(const struct job *j, const char *path)
{
	static const char *anchors[] = { VBD, VIF, MTU,
	    "/local/domain/0/backend/vbd", "/local/domain" };
	char buf[XSPROXY_PATH_MAX * 2];
	size_t i;

	check(j, path);
	if (path[0] != '/')
		return;
	for (i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++)
		if ((size_t)snprintf(buf, sizeof(buf), "%s%s", anchors[i],
		    path) < sizeof(buf))
			check(j, buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct xsproxy_scope s;
	struct job j;
	int vif;
	const char *be, *path;
	const uint8_t *rest;
	size_t restlen, off;
	long n;

	if (!init) {
		log_init("fuzz", 1, LOG_LEVEL_WARN);
		init = 1;
	}
	if (size < 1)
		return 0;
	vif = data[0] & 1;
	be = vif ? VIF : VBD;
	if (xsproxy_scope_for_backend(&s, 1, be) == -1)
		abort();
	j.s = &s;
	j.be = be;
	j.vif = vif;
	j.kinddir = vif ? "/local/domain/0/backend/vif" :
	    "/local/domain/0/backend/vbd";
	for (off = 1; off < size; off += (size_t)n) {
		n = xsproxy_frame(data + off, size - off);
		if (n <= 0)
			break;
		if (xsproxy_split(data + off + sizeof(struct xsd_sockmsg),
		    (size_t)n - sizeof(struct xsd_sockmsg), &path, &rest,
		    &restlen) == 0)
			check_anchored(&j, path);
	}
	return 0;
}
