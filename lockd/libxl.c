/* libxl's per-domain lock files and userdata JSON (see libxl.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "libxl.h"
#include "parse.h"
#include "proto_lock.h"

#define LX_JSON_USERID	"libxl-json"
#define LX_NAME_MAX	128
#define LX_STALE_TRIES	16	/* stat(path) != fstat(fd) retries per try */
#define NS_PER_S	1000000000ull

const char *
lx_lock_name(uint32_t which)
{
	return which == LOCK_SLOW ? "libxl-device-changes-lock" :
	    "domain-userdata-lock";
}

/* userdata-<wh>.<domid>.<uuid>.<userid> */
static int
lx_path(char *buf, uint32_t domid, const char *uuid, char wh,
    const char *userid)
{
	return xsnprintf(buf, LX_NAME_MAX, "userdata-%c.%u.%s.%s", wh, domid,
	    uuid, userid);
}

static int
uuid_ok(const char *s, size_t n)
{
	size_t i;

	if (n != LX_UUID_LEN)
		return 0;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* 1 and uuid set when name is "<uuid>.libxl-json", 0 otherwise. */
static int
match_json(const char *name, char *uuid)
{
	static const char suffix[] = "." LX_JSON_USERID;

	if (strlen(name) != LX_UUID_LEN + sizeof(suffix) - 1 ||
	    strcmp(name + LX_UUID_LEN, suffix) != 0 ||
	    !uuid_ok(name, LX_UUID_LEN))
		return 0;
	memcpy(uuid, name, LX_UUID_LEN);
	uuid[LX_UUID_LEN] = '\0';
	return 1;
}

int
lx_scan(int dirfd, lx_scan_fn fn, void *arg)
{
	static const char prefix[] = "userdata-d.";
	char num[16], uuid[LX_UUID_LEN + 1];
	struct dirent *de;
	const char *p, *dot;
	uint32_t domid;
	DIR *d;
	int fd, n = 0;

	if ((fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		n = -errno;
		close(fd);
		return n;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, sizeof(prefix) - 1) != 0)
			continue;
		p = de->d_name + sizeof(prefix) - 1;
		if ((dot = strchr(p, '.')) == NULL ||
		    (size_t)(dot - p) >= sizeof(num))
			continue;
		memcpy(num, p, (size_t)(dot - p));
		num[dot - p] = '\0';
		if (parse_domid(num, &domid) == -1 ||
		    !match_json(dot + 1, uuid))
			continue;
		n++;
		fn(arg, domid, uuid);
	}
	closedir(d);
	return n;
}

struct probe {
	uint32_t	 domid;
	int		 found;
	char		*uuid;
};

static void
probe_one(void *arg, uint32_t domid, const char *uuid)
{
	struct probe *pr = arg;

	if (domid != pr->domid)
		return;
	if (pr->found++ == 0)
		memcpy(pr->uuid, uuid, LX_UUID_LEN + 1);
}

int
lx_probe(int dirfd, uint32_t domid, char uuid[LX_UUID_LEN + 1])
{
	struct probe pr = { domid, 0, uuid };
	int n;

	if ((n = lx_scan(dirfd, probe_one, &pr)) < 0)
		return n;
	return pr.found > 1 ? -EEXIST : pr.found;
}

/* 0: fd is the file now at name; 1: it is not (unlinked or replaced). */
static int
same_file(int dirfd, const char *name, int fd)
{
	struct stat st, fst;

	if (fstat(fd, &fst) == -1)
		return -errno;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 1 : -errno;
	return st.st_dev == fst.st_dev && st.st_ino == fst.st_ino ? 0 : 1;
}

int
lx_lock_try(int dirfd, uint32_t domid, const char *uuid, const char *lock,
    int *fd)
{
	char name[LX_NAME_MAX];
	int i, r;

	if (lx_path(name, domid, uuid, 'l', lock) == -1)
		return -EINVAL;
	for (i = 0; i < LX_STALE_TRIES; i++) {
		if (*fd == -1 && (*fd = openat(dirfd, name, O_RDWR | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0666)) == -1)
			return -errno;
		if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
			r = errno == EINTR ? EWOULDBLOCK : errno;
			if (r != EWOULDBLOCK)
				lx_lock_abandon(fd);
			return -r;
		}
		if ((r = same_file(dirfd, name, *fd)) == 0)
			return 0;
		/* the holder we waited for unlinked it: lock the new one */
		lx_lock_abandon(fd);
		if (r < 0)
			return r;
	}
	return -EWOULDBLOCK;
}

void
lx_lock_release(int dirfd, uint32_t domid, const char *uuid,
    const char *lock, int *fd)
{
	char name[LX_NAME_MAX];

	if (*fd == -1)
		return;
	if (lx_path(name, domid, uuid, 'l', lock) != -1)
		unlinkat(dirfd, name, 0);
	lx_lock_abandon(fd);
}

void
lx_lock_abandon(int *fd)
{
	if (*fd == -1)
		return;
	flock(*fd, LOCK_UN);
	close(*fd);
	*fd = -1;
}

int
lx_json_stamp(int dirfd, uint32_t domid, const char *uuid,
    struct lx_stamp *s)
{
	char name[LX_NAME_MAX];
	struct stat st;

	if (lx_path(name, domid, uuid, 'd', LX_JSON_USERID) == -1)
		return -EINVAL;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	s->ino = st.st_ino;
	s->size = (uint64_t)st.st_size;
	s->mtime_ns = (uint64_t)st.st_mtim.tv_sec * NS_PER_S +
	    (uint64_t)st.st_mtim.tv_nsec;
	return 0;
}

static int
parse_json(const char *buf, size_t len, json_t **out, char *err,
    size_t errsz)
{
	json_error_t je;

	if (len > 0 && buf[len - 1] == '\0')
		len--;			/* libxl writes strlen + 1 bytes */
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL) {
		snprintf(err, errsz, "libxl JSON: %s (line %d)", je.text,
		    je.line);
		return -EINVAL;
	}
	if (!json_is_object(*out)) {
		snprintf(err, errsz, "libxl JSON: not an object");
		json_decref(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

int
lx_json_read(int dirfd, uint32_t domid, const char *uuid, json_t **out,
    char *err, size_t errsz)
{
	char name[LX_NAME_MAX], *buf = NULL;
	size_t len;
	int fd, rc;

	*out = NULL;
	if (lx_path(name, domid, uuid, 'd', LX_JSON_USERID) == -1)
		return -EINVAL;
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1) {
		rc = -errno;
		snprintf(err, errsz, "%s: %s", name, strerror(-rc));
		return rc;
	}
	if ((buf = malloc(LX_JSON_MAX + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = read_upto(fd, buf, LX_JSON_MAX + 1, &len)) != 0) {
		snprintf(err, errsz, "%s: %s", name, strerror(-rc));
		goto out;
	}
	rc = parse_json(buf, len, out, err, errsz);
out:
	free(buf);
	close(fd);
	return rc;
}

int
lx_json_write(int dirfd, uint32_t domid, const char *uuid, const json_t *o)
{
	char name[LX_NAME_MAX], tmp[LX_NAME_MAX], *s;
	int rc = 0;

	if (lx_path(name, domid, uuid, 'd', LX_JSON_USERID) == -1 ||
	    lx_path(tmp, domid, uuid, 'n', LX_JSON_USERID) == -1)
		return -EINVAL;
	/* libxl's own layout: pretty-printed, 4-space indent */
	if ((s = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER)) == NULL)
		return -ENOMEM;
	if (strlen(s) > LX_JSON_MAX) {
		rc = -E2BIG;
		goto out;
	}
	/* strlen + 1: libxl stores the terminating NUL too */
	rc = fdio_replace_at(dirfd, tmp, name, s, strlen(s) + 1);
out:
	free(s);
	return rc;
}
