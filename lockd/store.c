/* The per-domain JSON config store (see store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "parse.h"
#include "store.h"

#define STORE_PREFIX	"dom"
#define STORE_SUFFIX	".json"
#define STORE_TMP	".tmp"

static int
store_name(char *buf, size_t sz, uint32_t domid, const char *suffix)
{
	return xsnprintf(buf, sz, STORE_PREFIX "%u" STORE_SUFFIX "%s", domid,
	    suffix);
}

int
store_open(const char *path)
{
	int fd;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

static char *
store_serialize(const struct store_rec *r)
{
	json_t *o;
	char *s;

	o = json_pack("{s:I, s:I, s:s, s:b, s:O?}", "domid", (json_int_t)r->domid,
	    "generation", (json_int_t)r->gen, "state",
	    r->dying ? "dying" : "active", "dm_gone", r->dm_gone, "config",
	    r->config);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* Writes tmp, fsyncs it, renames it over the file, fsyncs the dir. */
int
store_write(int dirfd, const struct store_rec *r)
{
	char tmp[64], name[64], *s = NULL;
	size_t len;
	int rc;

	if (store_name(tmp, sizeof(tmp), r->domid, STORE_TMP) == -1 ||
	    store_name(name, sizeof(name), r->domid, "") == -1)
		return -EINVAL;
	if ((s = store_serialize(r)) == NULL)
		return -ENOMEM;
	/* one line: the NUL after the JSON becomes its newline */
	len = strlen(s);
	s[len] = '\n';
	rc = fdio_replace_at(dirfd, tmp, name, s, len + 1);
	free(s);
	return rc;
}

int
store_remove(int dirfd, uint32_t domid)
{
	char name[64];

	if (store_name(name, sizeof(name), domid, "") == -1)
		return -EINVAL;
	if (unlinkat(dirfd, name, 0) == -1)
		return -errno;
	return fsync(dirfd) == -1 ? -errno : 0;
}

int
store_quarantine(int dirfd, uint32_t domid)
{
	char name[64], bad[64];

	if (store_name(name, sizeof(name), domid, "") == -1 ||
	    store_name(bad, sizeof(bad), domid, ".corrupt") == -1)
		return -EINVAL;
	if (renameat(dirfd, name, dirfd, bad) == -1)
		return -errno;
	return fsync(dirfd) == -1 ? -errno : 0;
}

void
store_rec_dispose(struct store_rec *r)
{
	if (r->config != NULL)
		json_decref(r->config);
	r->config = NULL;
}

static int
parse_fail(char *err, size_t errsz, const char *what)
{
	snprintf(err, errsz, "%s", what);
	return -EINVAL;
}

static int
store_validate(json_t *o, uint32_t domid, struct store_rec *r, char *err,
    size_t errsz)
{
	json_int_t id, gen;
	const char *state;
	int dm_gone;
	json_t *cfg = NULL;
	json_error_t je;

	if (json_unpack_ex(o, &je, JSON_STRICT, "{s:I, s:I, s:s, s:b, s:o}",
	    "domid", &id, "generation", &gen, "state", &state, "dm_gone",
	    &dm_gone, "config", &cfg) == -1)
		return parse_fail(err, errsz, je.text);
	if (id != (json_int_t)domid)
		return parse_fail(err, errsz, "domid does not match file name");
	if (gen < 1)
		return parse_fail(err, errsz, "generation must be >= 1");
	if (strcmp(state, "active") != 0 && strcmp(state, "dying") != 0)
		return parse_fail(err, errsz, "state is not active/dying");
	r->dying = strcmp(state, "dying") == 0;
	if (!json_is_object(cfg) && !(json_is_null(cfg) && r->dying))
		return parse_fail(err, errsz, "config is not an object");
	r->domid = domid;
	r->gen = (uint64_t)gen;
	r->dm_gone = dm_gone;
	r->config = json_is_object(cfg) ? json_incref(cfg) : NULL;
	return 0;
}

int
store_parse(const char *buf, size_t len, uint32_t domid,
    struct store_rec *r, char *err, size_t errsz)
{
	json_error_t je;
	json_t *o;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errsz, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	rc = store_validate(o, domid, r, err, errsz);
	json_decref(o);
	return rc;
}

int
store_load(int dirfd, uint32_t domid, struct store_rec *r, char *err,
    size_t errsz)
{
	char name[64], *buf = NULL;
	size_t len;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	if (store_name(name, sizeof(name), domid, "") == -1)
		return -EINVAL;
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -errno;
	if ((buf = malloc(STORE_FILE_MAX)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = read_upto(fd, buf, STORE_FILE_MAX, &len)) != 0) {
		snprintf(err, errsz, "read: %s", strerror(-rc));
		rc = -EINVAL;
		goto out;
	}
	rc = store_parse(buf, len, domid, r, err, errsz);
out:
	close(fd);
	free(buf);
	return rc;
}

/* "dom<N>.json" -> N; "dom<N>.json.tmp" -> tmp=1.  -1 on other names. */
static int
store_parse_name(const char *name, uint32_t *domid, int *tmp)
{
	char num[16];
	const char *p = name + strlen(STORE_PREFIX), *e;
	size_t n;

	if (strncmp(name, STORE_PREFIX, strlen(STORE_PREFIX)) != 0 ||
	    (e = strstr(p, STORE_SUFFIX)) == NULL)
		return -1;
	n = (size_t)(e - p);
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = '\0';
	if (parse_domid(num, domid) == -1)
		return -1;
	e += strlen(STORE_SUFFIX);
	*tmp = strcmp(e, STORE_TMP) == 0;
	return (*e == '\0' || *tmp) ? 0 : -1;
}

static void
scan_one(int dirfd, const char *name, store_scan_fn fn, void *arg, int *n)
{
	struct store_rec r;
	char err[256];
	uint32_t domid;
	int tmp;

	if (store_parse_name(name, &domid, &tmp) == -1)
		return;
	if (tmp) {
		log_info("store: removing left-over %s (interrupted write)",
		    name);
		unlinkat(dirfd, name, 0);
		return;
	}
	(*n)++;
	if (store_load(dirfd, domid, &r, err, sizeof(err)) != 0) {
		fn(arg, domid, NULL, err);
		return;
	}
	fn(arg, domid, &r, NULL);
	store_rec_dispose(&r);
}

int
store_scan(int dirfd, store_scan_fn fn, void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd, n = 0;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL)
		scan_one(dirfd, de->d_name, fn, arg, &n);
	closedir(d);
	return n;
}
