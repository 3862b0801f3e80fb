/*
 * Job validation and the start of a script: the script must resolve inside
 * the script directory; the launcher's child gets the Linux hotplug calling
 * convention (libxl_linux.c) and nothing else from us.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotplugd.h"
#include "log.h"
#include "msg.h"
#include "parse.h"

#define HP_PATH_VAL "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Every '/'-separated component non-empty, not "." nor "..". */
static int
components_ok(const char *p)
{
	const char *c = p, *e;
	size_t n;

	if (*c == '/')
		c++;
	for (;;) {
		e = strchr(c, '/');
		n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
		c = e + 1;
	}
}

static int
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static int
inside(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* Refusal: *why = msg, errno = err (0: keep the syscall's); -1. */
static int
refuse(const char **why, const char *msg, int err)
{
	*why = msg;
	if (err != 0)
		errno = err;
	return -1;
}

/* The resolved script: a regular file, executable, not writable by
 * others.  0 or -1 (errno, *why). */
static int
script_file_ok(const char *real, const char **why)
{
	struct stat st;

	if (stat(real, &st) == -1)
		return refuse(why, "cannot stat script", 0);
	if (!S_ISREG(st.st_mode))
		return refuse(why, "script is not a regular file", EACCES);
	if ((st.st_mode & 0111) == 0)
		return refuse(why, "script is not executable", EACCES);
	if (st.st_mode & S_IWOTH)
		return refuse(why, "script is writable by others", EACCES);
	return 0;
}

/*
 * A bare name or relative path is taken below script_dir_real, an absolute
 * path as is; its realpath must be inside script_dir_real, a regular file,
 * executable and not writable by others.  Returns 0 or -1 (errno, *why).
 */
int
hp_script_resolve(const char *script_dir_real, const char *script,
    char *out, size_t outsz, const char **why)
{
	char cand[PATH_MAX], real[PATH_MAX];

	*why = NULL;
	if (*script == '\0' || strlen(script) >= HOTPLUG_SCRIPT_MAX ||
	    !printable(script) || !components_ok(script))
		return refuse(why, "script name is empty, too long, or has an "
		    "empty, \".\" or \"..\" component", EINVAL);
	if (xsnprintf(cand, sizeof(cand), "%s%s%s",
	    script[0] == '/' ? "" : script_dir_real,
	    script[0] == '/' ? "" : "/", script) == -1)
		return refuse(why, "script path too long", ENAMETOOLONG);
	if (realpath(cand, real) == NULL)
		return refuse(why, "script does not exist", 0);
	if (!inside(script_dir_real, real))
		return refuse(why, "script resolves outside the script "
		    "directory", EACCES);
	if (script_file_ok(real, why) == -1)
		return -1;
	if (xsnprintf(out, outsz, "%s", real) == -1)
		return refuse(why, "script path too long", ENAMETOOLONG);
	return 0;
}

/* Interface names as the kernel takes them: [A-Za-z0-9._-], 1..15. */
static int
valid_ifname(const char *s, int empty_ok)
{
	size_t n = strlen(s);

	if (n == 0)
		return empty_ok;
	if (n > 15)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/* libxl_linux.c: vif online/offline (type_if=vif), or add/remove of an
 * emulated NIC's tap (type_if=tap, devsep-relay only); others add/remove. */
static int
valid_action(const char *kind, const char *action)
{
	if (strcmp(kind, "vif") == 0 && (strcmp(action, "online") == 0 ||
	    strcmp(action, "offline") == 0))
		return 1;
	return strcmp(action, "add") == 0 || strcmp(action, "remove") == 0;
}

/* A vif job adding/removing the tap of an HVM guest's emulated NIC. */
static int
is_tap(const struct job *j)
{
	return strcmp(j->kind, "vif") == 0 && (strcmp(j->action, "add") == 0 ||
	    strcmp(j->action, "remove") == 0);
}

/*
 * Checks every field of a RUN and resolves the script into j->exe; fills
 * bdomid/domid/devid.  Returns 0 or -1 with errno and *why.
 */
int
hp_job_check(struct job *j, const char **why)
{
	struct backend_path bp;

	errno = EINVAL;
	if (!valid_kind(j->kind))
		return *why = "invalid kind", -1;
	if (!valid_action(j->kind, j->action))
		return *why = "invalid action for this kind (vif: "
		    "online|offline, or add|remove of its tap; others: "
		    "add|remove)", -1;
	if (parse_backend_path(j->be_path, &bp) == -1 || *bp.rest != '\0')
		return *why = "backend path is not "
		    "/local/domain/<B>/backend/<kind>/<D>/<N>", -1;
	if (strcmp(bp.kind, j->kind) != 0)
		return *why = "backend path kind differs from kind", -1;
	if (j->xs_path[0] != '\0' && (j->xs_path[0] != '/' ||
	    !printable(j->xs_path)))
		return *why = "xenstored path must be absolute", -1;
	if (strcmp(j->kind, "vif") == 0 ? !valid_ifname(j->vif, 0) :
	    j->vif[0] != '\0')
		return *why = "vif name invalid (required for vif only)", -1;
	if (!valid_ifname(j->netdev, 1))
		return *why = "netdev name invalid", -1;
	j->bdomid = bp.bdomid;
	j->domid = bp.domid;
	j->devid = bp.devid;
	return hp_script_resolve(hp->script_dir_real, j->script, j->exe,
	    sizeof(j->exe), why);
}

/* argv as libxl_linux.c: script action [type_if=vif|tap].  Returns argc. */
size_t
hp_build_argv(const struct job *j, const char **argv, size_t n)
{
	size_t i = 0;

	if (n < 4)
		return 0;
	argv[i++] = j->exe;
	argv[i++] = j->action;
	if (strcmp(j->kind, "vif") == 0)
		argv[i++] = is_tap(j) ? "type_if=tap" : "type_if=vif";
	argv[i] = NULL;
	return i;
}

static int
env_add(char **envp, size_t *ne, size_t n, char *store, size_t storesz,
    size_t *used, const char *k, const char *v)
{
	int r;

	if (*ne + 1 >= n)
		return -1;
	r = snprintf(store + *used, storesz - *used, "%s=%s", k, v);
	if (r < 0 || (size_t)r >= storesz - *used)
		return -1;
	envp[(*ne)++] = store + *used;
	envp[*ne] = NULL;
	*used += (size_t)r + 1;
	return 0;
}

/*
 * The complete environment of a script (see proto_hotplug.h), strings
 * stored in store.  Returns the number of entries, 0 on overflow.
 */
size_t
hp_build_env(const struct job *j, char *store, size_t storesz, char **envp,
    size_t n)
{
	char xbpath[HOTPLUG_PATH_MAX], tap[HOTPLUG_VIF_MAX];
	size_t ne = 0, used = 0;
	int ok = 1;

	if (n < 2 || xsnprintf(xbpath, sizeof(xbpath), "backend/%s/%u/%u",
	    j->kind, j->domid, j->devid) == -1)
		return 0;
	envp[0] = NULL;
	ok = env_add(envp, &ne, n, store, storesz, &used, "PATH",
	    HP_PATH_VAL) == 0;
	ok = ok && env_add(envp, &ne, n, store, storesz, &used, "script",
	    j->script) == 0;
	ok = ok && env_add(envp, &ne, n, store, storesz, &used, "XENBUS_TYPE",
	    j->kind) == 0;
	ok = ok && env_add(envp, &ne, n, store, storesz, &used, "XENBUS_PATH",
	    xbpath) == 0;
	ok = ok && env_add(envp, &ne, n, store, storesz, &used,
	    "XENBUS_BASE_PATH", "backend") == 0;
	if (ok && strcmp(j->kind, "vif") == 0) {
		ok = env_add(envp, &ne, n, store, storesz, &used, "vif",
		    j->vif) == 0;
		ok = ok && env_add(envp, &ne, n, store, storesz, &used,
		    "netdev", j->netdev) == 0;
	}
	/* the tap's name: libxl__device_nic_devname(..., VIF_IOEMU) */
	if (ok && is_tap(j))
		ok = xsnprintf(tap, sizeof(tap), "vif%u.%u-emu", j->domid,
		    j->devid) != -1 && env_add(envp, &ne, n, store, storesz,
		    &used, "INTERFACE", tap) == 0;
	if (ok && j->xs_path[0] != '\0')
		ok = env_add(envp, &ne, n, store, storesz, &used,
		    "XENSTORED_PATH", j->xs_path) == 0;
	return ok ? ne : 0;
}

static void
put_strs(struct msgbuf *b, char *const *v, size_t n)
{
	size_t i;

	msgbuf_put_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++)
		msgbuf_put_str(b, v[i]);
}

/*
 * Asks the launcher (launch.h) to start j's script in j's slot, moved into
 * its cgroup before exec.  The launcher's OK or ERROR arrives later
 * (job_launcher_msg).  Returns 0, or an errno value.
 */
int
hp_spawn(struct job *j)
{
	const char *argv[5];
	char *envp[HPL_ENV_MAX], store[2048];
	struct msgbuf b;
	size_t argc, envc;
	int cgfd, r = 0;

	if ((argc = hp_build_argv(j, argv, 5)) == 0 ||
	    (envc = hp_build_env(j, store, sizeof(store), envp,
	    HPL_ENV_MAX)) == 0)
		return E2BIG;
	cgfd = hpcg_job_create(j->cg_id);
	if (cgfd == -1 && errno != ENOTSUP)
		return errno;
	j->launch_reqid = ++hp->next_reqid;
	msgbuf_init(&b, MSG_HPL_SPAWN, j->launch_reqid);
	msgbuf_put_u64(&b, j->id);
	msgbuf_put_u32(&b, j->slot);
	msgbuf_put_str(&b, j->exe);
	put_strs(&b, (char *const *)argv, argc);
	put_strs(&b, envp, envc);
	if (cgfd != -1)
		msgbuf_set_fd(&b, cgfd);
	if (b.err || msgchan_send(hp->launcher, &b) == -1)
		r = b.err ? E2BIG : errno;
	msgbuf_dispose(&b);
	if (cgfd != -1)
		close(cgfd);
	if (r != 0)
		(void)hpcg_job_remove(j->cg_id);
	return r;
}
