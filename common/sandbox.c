/*
 * sandbox_enter(): applies policy/<daemon>.policy in the order of
 * sandbox.h.  Each step either succeeds or the daemon exits; the only
 * steps that may be skipped are those a non-root test run cannot do
 * (mount namespace, chroot, uid/capabilities: warned) and Landlock on a
 * kernel without it (warned).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cap-ng.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include "log.h"
#include "policy.h"
#include "sandbox.h"

static char status_json[512] = "{}";

#if defined(__SANITIZE_ADDRESS__)
/*
 * ASan builds (make asan) only: LeakSanitizer's exit-time check stops the
 * world with clone + ptrace and reads /proc/self/maps, all of which the
 * sandbox forbids (it would die by SIGSYS on exit).  LSan asks this hook
 * first; once a process is sandboxed the leak check is skipped.  Every
 * other ASan/UBSan check still runs.  Not compiled into normal builds.
 */
static int lsan_off;
int __lsan_is_turned_off(void);
int
__lsan_is_turned_off(void)
{
	return lsan_off;
}
#define SANITIZER_SANDBOXED()	(lsan_off = 1)
#else
#define SANITIZER_SANDBOXED()	((void)0)
#endif

const char *
sandbox_status_json(void)
{
	return status_json;
}

/* Hides one path in our private mount namespace. */
static int
hide_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (S_ISLNK(st.st_mode) && stat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode))
		return mount("devsep-hidden", path, "tmpfs",
		    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    "size=4k,mode=0555");
	/* A socket or device node: /dev/null on top (connect: refused). */
	return mount("/dev/null", path, NULL, MS_BIND, NULL);
}

/* A policy's hide path; "@VAR": the path in our environment variable VAR
 * (NULL when unset: nothing to hide). */
static const char *
hide_entry(const struct policy *p, size_t i)
{
	const char *path = p->hide[i];

	return path[0] == '@' ? getenv(path + 1) : path;
}

/*
 * Without CAP_SYS_ADMIN (a systemd unit that hides the paths itself with
 * InaccessiblePaths=, so the daemon needs no namespace of its own): fine
 * when every path to hide is absent or already an inaccessible node
 * (mode 0000, what InaccessiblePaths= mounts).  1 when hidden, else 0.
 */
static int
already_hidden(const struct policy *p)
{
	const char *path;
	struct stat st;
	size_t i;

	for (i = 0; i < p->nhide; i++) {
		if ((path = hide_entry(p, i)) == NULL)
			continue;
		if (lstat(path, &st) == -1)
			continue;	/* absent or unreachable */
		if ((st.st_mode & 07777) != 0) {
			log_warnx("sandbox: no private mount namespace (%s) "
			    "and %s is not hidden (InaccessiblePaths=)",
			    strerror(EPERM), path);
			return 0;
		}
	}
	log_info("sandbox: every path to hide is already inaccessible: no "
	    "mount namespace of our own");
	return 1;
}

static int
step_mountns(const struct policy *p)
{
	const char *path;
	size_t i;

	if (!p->mountns)
		return 0;
	if (unshare(CLONE_NEWNS) == -1) {
		if (errno == EPERM)
			return already_hidden(p) ? 0 : -1;
		log_warn("sandbox: private mount namespace");
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1) {
		log_warn("sandbox: private mount namespace");
		return -1;
	}
	for (i = 0; i < p->nhide; i++) {
		if ((path = hide_entry(p, i)) == NULL)
			continue;
		if (hide_path(path) == -1) {
			log_warn("sandbox: hide %s", path);
			return -1;
		}
	}
	return 0;
}

static int
step_root(const struct policy *p, const struct sandbox_spec *s, int root)
{
	const char *dir = s->workdir ? s->workdir : "/";

	if (p->chroot && s->chroot_dir == NULL) {
		log_warnx("sandbox: policy %s wants a chroot, daemon gave no "
		    "directory", p->name);
		return -1;
	}
	if (p->chroot && root) {
		if (chroot(s->chroot_dir) == -1) {
			log_warn("sandbox: chroot %s", s->chroot_dir);
			return -1;
		}
		dir = "/";
	} else if (p->chroot) {
		log_warnx("sandbox: not root: no chroot into %s", s->chroot_dir);
		dir = s->chroot_dir;
	}
	if (chdir(dir) == -1) {
		log_warn("sandbox: chdir %s", dir);
		return -1;
	}
	return 0;
}

static void
caps_select(const struct policy *p, capng_type_t type)
{
	size_t i;

	capng_clear(CAPNG_SELECT_BOTH);
	for (i = 0; i < p->ncaps; i++)
		capng_update(CAPNG_ADD, type, (unsigned)p->caps[i].cap);
}

/* Root stays root with only the policy's capabilities, bounding set too. */
static int
caps_root(const struct policy *p)
{
	if (setgroups(0, NULL) == -1) {
		log_warn("sandbox: setgroups");
		return -1;
	}
	caps_select(p, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET);
	if (capng_apply(CAPNG_SELECT_BOTH) != 0) {
		log_warnx("sandbox: capng_apply failed");
		return -1;
	}
	return 0;
}

/*
 * Programs we execute get the kept capabilities through the ambient set
 * (they are not setuid and have no file capabilities; NO_NEW_PRIVS allows
 * ambient capabilities, and the bounding set bounds them).
 */
static int
caps_ambient(const struct policy *p)
{
	size_t i;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		goto fail;
	for (i = 0; i < p->ncaps; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
		    (unsigned long)p->caps[i].cap, 0, 0) == -1)
			goto fail;
	return 0;
fail:
	log_warn("sandbox: ambient capabilities");
	return -1;
}

/*
 * Supplementary groups: none, or exactly the policy's peer-group (the
 * group of the daemon sockets, for a daemon that connects to others).
 * 0, or the capng_change_id flag when groups are to be dropped.
 */
static int
step_groups(const struct policy *p, gid_t pgid, int *flags)
{
	*flags = CAPNG_DROP_SUPP_GRP;
	if (p->peer_group == NULL)
		return 0;
	if (setgroups(1, &pgid) == -1) {
		log_warn("sandbox: setgroups(%s)", p->peer_group);
		return -1;
	}
	*flags = 0;
	return 0;
}

static int
step_user(const struct policy *p, const struct passwd *pw, gid_t pgid,
    int root)
{
	int r, gflags;

	if (!root)
		return 0;
	if (pw == NULL)
		return caps_root(p);
	if (step_groups(p, pgid, &gflags) == -1)
		return -1;
	if (p->ambient) {
		/* inheritable + bounding = the kept caps: needed to raise
		 * them as ambient after the uid change */
		caps_select(p, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_INHERITABLE | CAPNG_BOUNDING_SET);
		r = capng_apply(CAPNG_SELECT_BOUNDS);
		if (r == 0)
			r = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
			    gflags);
	} else {
		caps_select(p, CAPNG_EFFECTIVE | CAPNG_PERMITTED);
		r = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
		    gflags | CAPNG_CLEAR_BOUNDING);
	}
	if (r != 0) {
		log_warnx("sandbox: capng_change_id(%s) failed: %d",
		    p->user, r);
		return -1;
	}
	return p->ambient ? caps_ambient(p) : 0;
}

static int
step_rlimits(const struct policy *p)
{
	struct rlimit rl;
	size_t i;

	for (i = 0; i < p->nrlimits; i++) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)p->rlimits[i].value;
		if (setrlimit(p->rlimits[i].resource, &rl) == -1) {
			log_warn("sandbox: setrlimit %s", p->rlimits[i].name);
			return -1;
		}
	}
	return 0;
}

static int
landlock_add_dir(int ruleset, const char *dir)
{
	struct landlock_path_beneath_attr pb = {
		.allowed_access = LANDLOCK_ACCESS_FS_EXECUTE,
	};
	int r;

	pb.parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pb.parent_fd == -1)
		return errno == ENOENT ? 0 : -1;
	r = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	return r;
}

/* 1: applied, 0: kernel without Landlock, -1: error. */
static int
step_landlock(const struct policy *p, const struct sandbox_spec *s)
{
	struct landlock_ruleset_attr ra = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE,
	};
	const char *dir;
	size_t i;
	int fd, rc = -1;

	if (p->nexec_dirs == 0)
		return 0;
	for (i = 0; i < p->nexec_dirs; i++)
		if (strcmp(p->exec_dirs[i], "@spec") == 0 && s->exec_dir == NULL) {
			/* Restricting would break the daemon's own dir. */
			log_warnx("sandbox: %s gave no exec_dir: Landlock NOT "
			    "applied, exec is not limited to the exec-dirs",
			    p->name);
			return 0;
		}
	fd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (fd == -1 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		log_warnx("sandbox: kernel has no Landlock: exec not limited "
		    "to the exec-dirs");
		return 0;
	}
	if (fd == -1)
		goto out;
	for (i = 0; i < p->nexec_dirs; i++) {
		dir = strcmp(p->exec_dirs[i], "@spec") == 0 ? s->exec_dir :
		    p->exec_dirs[i];
		if (dir != NULL && landlock_add_dir(fd, dir) == -1) {
			log_warn("sandbox: landlock rule %s", dir);
			goto out;
		}
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) == 0)
		rc = 1;
out:
	if (rc == -1)
		log_warn("sandbox: landlock");
	if (fd != -1)
		close(fd);
	return rc;
}

static int
step_seccomp(const struct policy *p, int seccomp_log)
{
	scmp_filter_ctx ctx;
	int r;

	if ((ctx = policy_seccomp_build(p, seccomp_log)) == NULL)
		return -1;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		log_warnx("sandbox: seccomp_load: %s", strerror(-r));
		return -1;
	}
	if (seccomp_log)
		log_warnx("sandbox: *** SECCOMP IN LOG MODE for %s: violations "
		    "are logged, NOT blocked (development only) ***", p->name);
	return 0;
}

static int
lookup_group(const struct policy *p, int root, gid_t *gidp)
{
	struct group *gr;

	if (!root || p->peer_group == NULL)
		return 0;
	if ((gr = getgrnam(p->peer_group)) == NULL) {
		log_warnx("sandbox: no group %s (scripts/create-users)",
		    p->peer_group);
		return -1;
	}
	*gidp = gr->gr_gid;
	return 0;
}

static int
lookup_user(const struct policy *p, int root, struct passwd **pwp)
{
	*pwp = NULL;
	if (!root || strcmp(p->user, "root") == 0)
		return 0;
	if ((*pwp = getpwnam(p->user)) == NULL) {
		log_warnx("sandbox: no user %s (scripts/create-users)",
		    p->user);
		return -1;
	}
	return 0;
}

int
sandbox_enter(const struct sandbox_spec *s)
{
	const struct policy *p = policy_find(s->daemon);
	struct passwd *pw;
	gid_t pgid = (gid_t)-1;
	int root, ll;

	if (p == NULL) {
		log_warnx("sandbox: no policy for \"%s\"", s->daemon);
		return -1;
	}
	root = getuid() == 0 && !s->no_user;
	if (!root)
		log_warnx("sandbox: %s not started as root: uid, capabilities, "
		    "chroot and mount namespace unchanged", p->name);
	if (lookup_user(p, root, &pw) == -1 ||
	    lookup_group(p, root, &pgid) == -1 ||
	    (root && step_mountns(p) == -1) ||
	    step_root(p, s, root) == -1 ||
	    step_user(p, pw, pgid, root) == -1 ||
	    step_rlimits(p) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("sandbox: PR_SET_NO_NEW_PRIVS");
		return -1;
	}
	SANITIZER_SANDBOXED();
	if ((ll = step_landlock(p, s)) == -1 ||
	    step_seccomp(p, s->seccomp_log) == -1)
		return -1;
	snprintf(status_json, sizeof(status_json),
	    "{\"policy\":\"%s\",\"seccomp\":\"%s\",\"uid\":%u,"
	    "\"ncaps\":%zu,\"landlock\":%d,\"chroot\":%s}",
	    p->name, s->seccomp_log ? "log" : "kill", (unsigned)getuid(),
	    root ? p->ncaps : 0, ll, p->chroot && root ? "true" : "false");
	log_info("sandbox: %s entered (%s)", p->name, status_json);
	return 0;
}
