/* devsep.conf parser.  See config.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "parse.h"

enum ktype { K_MS, K_U32, K_PATH, K_DIRS, K_LEVEL, K_BOOL, K_MODE };

struct key {
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	uint32_t	 min, max;	/* K_U32 / K_MS bounds */
	int		 runtime;	/* may change on SIGHUP */
};

#define OFF(f) offsetof(struct devsep_config, f)
static const struct key keys[] = {
	{ "init_timeout",	K_MS,	OFF(init_timeout_ms), 100, 3600000, 1 },
	{ "destroy_timeout",	K_MS,	OFF(destroy_timeout_ms), 100, 3600000, 1 },
	{ "hotplug_timeout",	K_MS,	OFF(hotplug_timeout_ms), 100, 3600000, 1 },
	{ "qemu_bodge_timeout",	K_MS,	OFF(qemu_bodge_timeout_ms), 0, 60000, 1 },
	{ "qmp_cmd_timeout",	K_MS,	OFF(qmp_cmd_timeout_ms), 100, 600000, 1 },
	{ "io_drain_timeout",	K_MS,	OFF(io_drain_timeout_ms), 0, 3600000, 1 },
	{ "script_kill_grace",	K_MS,	OFF(script_kill_grace_ms), 0, 60000, 1 },
	{ "lock_timeout",	K_MS,	OFF(lock_timeout_ms), 0, 3600000, 1 },
	{ "peer_retry",		K_MS,	OFF(peer_retry_ms), 10, 60000, 1 },
	{ "peer_idle_timeout",	K_MS,	OFF(peer_idle_timeout_ms), 100, 3600000, 1 },
	{ "busy_retry",		K_MS,	OFF(busy_retry_ms), 10, 60000, 1 },
	{ "busy_tries",		K_U32,	OFF(busy_tries), 0, 100, 1 },
	{ "script_dir",		K_PATH,	OFF(script_dir), 0, 0, 0 },
	{ "max_jobs",		K_U32,	OFF(max_jobs), 1, 1024, 1 },
	{ "script_output_max",	K_U32,	OFF(script_output_max), 0, 16 << 20, 1 },
	{ "image_dirs",		K_DIRS,	OFF(image_dirs), 0, 0, 1 },
	{ "qemu_uid_base",	K_U32,	OFF(qemu_uid_base), 1000, 0x7fffffff, 0 },
	{ "script_uid_base",	K_U32,	OFF(script_uid_base), 1000, 0x7fffffff - 1024, 0 },
	{ "qemu_binary",	K_PATH,	OFF(qemu_binary), 0, 0, 0 },
	{ "qemu_chroot",	K_PATH,	OFF(qemu_chroot), 0, 0, 0 },
	{ "run_dir",		K_PATH,	OFF(run_dir), 0, 0, 0 },
	{ "state_dir",		K_PATH,	OFF(state_dir), 0, 0, 0 },
	{ "libxl_dir",		K_PATH,	OFF(libxl_dir), 0, 0, 0 },
	{ "libxl_run_dir",	K_PATH,	OFF(libxl_run_dir), 0, 0, 0 },
	{ "log_level",		K_LEVEL, OFF(log_level), 0, 0, 1 },
	{ "seccomp_log",	K_BOOL,	OFF(seccomp_log), 0, 0, 0 },
	{ "backend_mode",	K_MODE,	OFF(backend_mode), 0, 0, 0 },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void
config_defaults(struct devsep_config *c)
{
	memset(c, 0, sizeof(*c));
	/* libxl 4.17, tools/libs/light/libxl_internal.h (seconds there) */
	c->init_timeout_ms = 10000;		/* LIBXL_INIT_TIMEOUT 10 */
	c->destroy_timeout_ms = 10000;		/* LIBXL_DESTROY_TIMEOUT 10 */
	c->hotplug_timeout_ms = 40000;		/* LIBXL_HOTPLUG_TIMEOUT 40 */
	c->qemu_bodge_timeout_ms = 2000;	/* LIBXL_QEMU_BODGE_TIMEOUT 2 */
	c->qmp_cmd_timeout_ms = 10000;		/* LIBXL_QMP_CMD_TIMEOUT 10 */
	/* devsep's own */
	c->io_drain_timeout_ms = 10000;
	c->script_kill_grace_ms = 2000;
	c->lock_timeout_ms = 10000;
	c->peer_retry_ms = 500;
	c->peer_idle_timeout_ms = 60000;
	c->busy_retry_ms = 1000;
	c->busy_tries = 5;
	strcpy(c->script_dir, "/etc/xen/scripts");
	c->max_jobs = 16;
	c->script_output_max = 64 * 1024;
	strcpy(c->image_dirs[0], "/var/lib/xen/images");
	c->n_image_dirs = 1;
	c->qemu_uid_base = 16777216;	/* 2^24: far above ordinary uids */
	c->script_uid_base = 16842752;	/* 2^24 + 2^16: above every QEMU uid */
	strcpy(c->qemu_binary, "/usr/bin/qemu-system-x86_64");
	strcpy(c->qemu_chroot, "/var/empty");
	strcpy(c->run_dir, DEVSEP_RUNDIR);
	strcpy(c->state_dir, DEVSEP_STATEDIR);
	strcpy(c->libxl_dir, XEN_LIB_DIR);
	strcpy(c->libxl_run_dir, XEN_RUN_DIR);
	c->log_level = LOG_LEVEL_INFO;
}

/* Absolute, no "..", printable ASCII only (no control bytes in paths). */
static int
set_path(char *dst, const char *v)
{
	const char *p;

	for (p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return -1;
	if (v[0] != '/' || strlen(v) >= CONFIG_PATH_MAX || strstr(v, "/../") ||
	    (strlen(v) >= 3 && strcmp(v + strlen(v) - 3, "/..") == 0))
		return -1;
	strcpy(dst, v);
	return 0;
}

static int
set_dirs(struct devsep_config *c, char *v)
{
	char *save = NULL, *tok;
	size_t n = 0;
	char dirs[CONFIG_MAX_DIRS][CONFIG_PATH_MAX];

	memset(dirs, 0, sizeof(dirs));
	for (tok = strtok_r(v, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save)) {
		if (n == CONFIG_MAX_DIRS || set_path(dirs[n], tok) == -1)
			return -1;
		n++;
	}
	memcpy(c->image_dirs, dirs, sizeof(dirs));
	c->n_image_dirs = n;
	return 0;
}

static int
set_level(int *dst, const char *v)
{
	if (strcmp(v, "warn") == 0)
		*dst = LOG_LEVEL_WARN;
	else if (strcmp(v, "info") == 0)
		*dst = LOG_LEVEL_INFO;
	else if (strcmp(v, "debug") == 0)
		*dst = LOG_LEVEL_DEBUG;
	else
		return -1;
	return 0;
}

static const char *const mode_names[] = { "auto", "devsep", "libxl" };
#define NMODES (sizeof(mode_names) / sizeof(mode_names[0]))

const char *
backend_mode_name(int m)
{
	return m >= 0 && (size_t)m < NMODES ? mode_names[m] : "invalid";
}

static int
set_mode(int *dst, const char *v)
{
	size_t i;

	for (i = 0; i < NMODES; i++)
		if (strcmp(v, mode_names[i]) == 0) {
			*dst = (int)i;
			return 0;
		}
	return -1;
}

static int
set_value(struct devsep_config *c, const struct key *k, char *v)
{
	void *dst = (char *)c + k->off;
	uint32_t u;

	switch (k->type) {
	case K_MS:
		if (parse_duration_ms(v, &u) == -1 || u < k->min || u > k->max)
			return -1;
		*(uint32_t *)dst = u;
		return 0;
	case K_U32:
		if (parse_u32(v, k->max, &u) == -1 || u < k->min)
			return -1;
		*(uint32_t *)dst = u;
		return 0;
	case K_PATH:
		return set_path(dst, v);
	case K_DIRS:
		return set_dirs(c, v);
	case K_LEVEL:
		return set_level(dst, v);
	case K_BOOL:
		return parse_bool(v, dst);
	case K_MODE:
		return set_mode(dst, v);
	}
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Parses one line; returns 0 or -1 with a message in err. */
static int
config_line(struct devsep_config *c, char *line, unsigned char *seen,
    char *err, size_t errsz)
{
	char *eq, *key, *val;
	size_t i;

	if ((eq = strchr(line, '#')) != NULL)
		*eq = '\0';
	line = trim(line);
	if (*line == '\0')
		return 0;
	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(err, errsz, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, key) == 0)
			break;
	if (i == NKEYS) {
		snprintf(err, errsz, "unknown key '%.64s'", key);
		return -1;
	}
	if (seen[i]) {
		snprintf(err, errsz, "duplicate key '%s'", key);
		return -1;
	}
	seen[i] = 1;
	if (set_value(c, &keys[i], val) == -1) {
		snprintf(err, errsz, "bad value for '%s': '%.64s'", key, val);
		return -1;
	}
	return 0;
}

int
config_parse_buf(struct devsep_config *c, const char *buf, size_t len,
    const char *name, char *err, size_t errsz)
{
	unsigned char seen[NKEYS] = { 0 };
	struct devsep_config tmp = *c;
	char line[1024], msg[256];
	size_t i = 0, n;
	unsigned lineno = 0;

	while (i < len) {
		lineno++;
		for (n = 0; i + n < len && buf[i + n] != '\n'; n++)
			;
		if (n >= sizeof(line) || memchr(buf + i, '\0', n)) {
			snprintf(err, errsz, "%s:%u: line too long or binary",
			    name, lineno);
			return -1;
		}
		memcpy(line, buf + i, n);
		line[n] = '\0';
		i += n + 1;
		if (config_line(&tmp, line, seen, msg, sizeof(msg)) == -1) {
			snprintf(err, errsz, "%s:%u: %s", name, lineno, msg);
			return -1;
		}
	}
	*c = tmp;
	return 0;
}

int
config_load(struct devsep_config *c, const char *path, int missing_ok,
    char *err, size_t errsz)
{
	char buf[64 * 1024];
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	close(fd);
	if (n == -1 || len == sizeof(buf)) {
		snprintf(err, errsz, "%s: %s", path,
		    n == -1 ? strerror(errno) : "file too large");
		return -1;
	}
	return config_parse_buf(c, buf, len, path, err, errsz);
}

void
config_reload_runtime(struct devsep_config *dst,
    const struct devsep_config *src)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!keys[i].runtime)
			continue;
		if (keys[i].type == K_DIRS) {
			memcpy(dst->image_dirs, src->image_dirs,
			    sizeof(dst->image_dirs));
			dst->n_image_dirs = src->n_image_dirs;
		} else if (keys[i].type == K_LEVEL || keys[i].type == K_BOOL ||
		    keys[i].type == K_MODE)
			*(int *)((char *)dst + keys[i].off) =
			    *(const int *)((const char *)src + keys[i].off);
		else
			*(uint32_t *)((char *)dst + keys[i].off) =
			    *(const uint32_t *)((const char *)src + keys[i].off);
	}
}

/* log_level is set by code too (daemon -d): clamp it into the name table. */
static size_t
level_index(int level)
{
	if (level <= LOG_LEVEL_WARN)
		return 0;
	if (level >= LOG_LEVEL_DEBUG)
		return 2;
	return (size_t)level;
}

void
config_dump(const struct devsep_config *c, int fd)
{
	static const char *const lv[] = { "warn", "info", "debug" };
	size_t i, j;

	for (i = 0; i < NKEYS; i++) {
		const void *p = (const char *)c + keys[i].off;

		switch (keys[i].type) {
		case K_MS:
			dprintf(fd, "%s = %ums\n", keys[i].name,
			    *(const uint32_t *)p);
			break;
		case K_U32:
			dprintf(fd, "%s = %u\n", keys[i].name,
			    *(const uint32_t *)p);
			break;
		case K_PATH:
			dprintf(fd, "%s = %s\n", keys[i].name, (const char *)p);
			break;
		case K_DIRS:
			dprintf(fd, "%s =", keys[i].name);
			for (j = 0; j < c->n_image_dirs; j++)
				dprintf(fd, " %s", c->image_dirs[j]);
			dprintf(fd, "\n");
			break;
		case K_LEVEL:
			dprintf(fd, "%s = %s\n", keys[i].name,
			    lv[level_index(*(const int *)p)]);
			break;
		case K_BOOL:
			dprintf(fd, "%s = %s\n", keys[i].name,
			    *(const int *)p ? "yes" : "no");
			break;
		case K_MODE:
			dprintf(fd, "%s = %s\n", keys[i].name,
			    backend_mode_name(*(const int *)p));
			break;
		}
	}
}
