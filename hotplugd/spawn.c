/*
 * Job validation and script execution: the script must resolve inside the
 * script directory; the child gets the Linux hotplug calling convention
 * (libxl_linux.c) and nothing else from us.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotplugd.h"
#include "log.h"
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
	char xbpath[HOTPLUG_PATH_MAX], mark[64], tap[HOTPLUG_VIF_MAX];
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
	/* escape.c: finds the job's descendants outside its group */
	ok = ok && hp_env_marker(j->id, mark, sizeof(mark)) > 0 &&
	    env_add(envp, &ne, n, store, storesz, &used, HP_JOB_ENV,
	    mark + sizeof(HP_JOB_ENV)) == 0;
	return ok ? ne : 0;
}

static int
spawn_attrs(posix_spawnattr_t *a, posix_spawn_file_actions_t *fa, int wfd)
{
	sigset_t none, def;
	int sig, r;

	sigemptyset(&none);
	sigemptyset(&def);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaddset(&def, sig);
	if ((r = posix_spawnattr_setflags(a, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (r = posix_spawnattr_setsigmask(a, &none)) != 0 ||
	    (r = posix_spawnattr_setsigdefault(a, &def)) != 0)
		return r;
	if ((r = posix_spawn_file_actions_addopen(fa, 0, "/dev/null",
	    O_RDONLY, 0)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(fa, wfd, 1)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(fa, wfd, 2)) != 0 ||
	    (r = posix_spawn_file_actions_addclosefrom_np(fa, 3)) != 0)
		return r;
	return 0;
}

/*
 * Starts j's script in its own session (pgid == pid), stdin /dev/null,
 * stdout+stderr into a pipe, every other fd closed, default signal
 * dispositions, empty mask.  Returns 0, or an errno value.
 */
int
hp_spawn(struct job *j)
{
	const char *argv[5];
	char *envp[16], store[2048];
	posix_spawnattr_t a;
	posix_spawn_file_actions_t fa;
	int p[2], r;
	pid_t pid;

	if (hp_build_argv(j, argv, 5) == 0 ||
	    hp_build_env(j, store, sizeof(store), envp, 16) == 0)
		return E2BIG;
	if (pipe2(p, O_CLOEXEC) == -1)
		return errno;
	posix_spawnattr_init(&a);
	posix_spawn_file_actions_init(&fa);
	r = spawn_attrs(&a, &fa, p[1]);
	if (r == 0)
		r = posix_spawn(&pid, j->exe, &fa, &a, (char **)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return r;
	}
	j->pid = pid;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1 || output_start(j, p[0])) {
		/* Still track the child; it just has no reader. */
		log_warn("job=%llu: output pipe", (unsigned long long)j->id);
		close(p[0]);
	}
	return 0;
}
