/*
 * Per-job cgroups (cgroup v2): nothing of a job survives its end.
 *
 * At start, as root and before the sandbox (hpcg_setup), hotplugd makes its
 * delegated subtree D = <its own cgroup>/devsep-hotplugd@<run dir>:
 *
 *   D/              owned by devsep-hotplugd (dir and cgroup.procs)
 *   D/hotplugd/     hotplugd itself
 *   D/launcher/     the script launcher (launch.c)
 *   D/job-<n>/      one per running job (n: a sequence number, never a
 *                   job id, which comes back for the same device), made
 *                   and removed by hotplugd
 *
 * Every open is O_NOFOLLOW relative to D's fd, ownership is given with
 * fchown on an fd, and D must come out owned by hotplugd's uid (checked).
 * Root here has no CAP_DAC_OVERRIDE (devsep-hotplugd.service): D is made
 * in our own cgroup (the unit's, root 0755 with Delegate=yes), D/hotplugd
 * and D/launcher while D is root's, and a dead instance's D is made root's
 * again before it is removed.
 * A job's script is moved into D/job-<n> by the launcher's child before
 * exec (it writes "0" to a cgroup.procs fd hotplugd opened: the kernel checks
 * the opener's rights, and D/cgroup.procs, the common ancestor, is
 * hotplugd's).  So every process of a job, whatever it does (setsid, double
 * fork, env -i), stays in D/job-<n>: only root or hotplugd can move a
 * process out, and a script is neither.  At the end of a job, on timeout,
 * on cancel and at shutdown, hotplugd writes "1" to D/job-<n>/cgroup.kill
 * (SIGKILL to every member, including members that fork meanwhile) and
 * removes the directory once it is empty; its job slot (uid) is reused only
 * then.
 *
 * A restarted hotplugd (hpcg_kill_stale, run after the sandbox, as
 * devsep-hotplugd) kills and removes every leftover D/job-*: the processes
 * of a crashed predecessor's jobs, and nothing else - no process can be in
 * D/job-* unless hotplugd or root put it there, and cgroup.kill needs no
 * signal rights at all.  This replaces the jobs file that scripts could
 * forge (issue 14, attack 1).
 *
 * Requires cgroup v2 with cgroup.kill (Linux 5.14).  The unified hierarchy
 * is found in /proc/self/mountinfo (pure v2: /sys/fs/cgroup; hybrid:
 * /sys/fs/cgroup/unified).  Not root (tests): no cgroups, warned; jobs are
 * then killed by process group only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "hotplugd.h"
#include "log.h"
#include "parse.h"

#define CG2_MAGIC	0x63677270	/* CGROUP2_SUPER_MAGIC */
#define CG2_DEFAULT	"/sys/fs/cgroup"	/* pure v2 hosts mount it here */
#define CG_LINE_MAX	4096
#define CG_NAME_MAX	200		/* of D's last component */
#define CG_RMDIR_TRIES	100		/* x CG_RMDIR_SLEEP_MS at start */
#define CG_RMDIR_SLEEP_MS 10
#define CG_EVENTS_MAX	256		/* cgroup.events: "populated N\nfrozen N\n" */
#define CG_STALE_S	60		/* an empty sibling subtree older than this
					 * is another instance's leftover */

/* The cgroup2 mount point from /proc/self/mountinfo.  0 or -1. */
static int
cg2_mount(char *out, size_t sz)
{
	char line[CG_LINE_MAX], *f[10], *save, *sep;
	FILE *m;
	int i, rc = -1;

	if ((m = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	while (rc == -1 && fgets(line, sizeof(line), m) != NULL) {
		/* "... mountpoint opts [optional...] - fstype source" */
		if ((sep = strstr(line, " - ")) == NULL ||
		    strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		save = NULL;
		for (i = 0; i < 5; i++)
			if ((f[i] = strtok_r(i ? NULL : line, " ", &save)) ==
			    NULL)
				break;
		if (i == 5 && strchr(f[4], '\\') == NULL &&
		    xsnprintf(out, sz, "%s", f[4]) != -1)
			rc = 0;
	}
	fclose(m);
	return rc;
}

/* Our cgroup v2 path ("0::/x/y") from /proc/self/cgroup.  0 or -1. */
static int
cg2_self(char *out, size_t sz)
{
	char line[CG_LINE_MAX];
	size_t n;
	FILE *f;
	int rc = -1;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return -1;
	while (rc == -1 && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		n = strcspn(line, "\n");
		line[n] = '\0';
		if (strstr(line, "/..") == NULL && strchr(line, '\\') == NULL &&
		    xsnprintf(out, sz, "%s", line + 3) != -1)
			rc = 0;
	}
	fclose(f);
	return rc;
}

/* D's name: "devsep-hotplugd@" + run dir with '/' and odd bytes as '-'. */
static void
subtree_name(const char *run_dir, char *out, size_t sz)
{
	size_t i, n;

	n = (size_t)snprintf(out, sz, "devsep-hotplugd@%s", run_dir);
	if (n >= sz)
		n = sz - 1;
	for (i = sizeof("devsep-hotplugd@") - 1; i < n; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= '0' && out[i] <= '9') || out[i] == '_' ||
		    out[i] == '.'))
			out[i] = '-';
}

/* mkdirat + open O_DIRECTORY|O_NOFOLLOW; the fd or -1. */
static int
cg_mkdir_open(int at, const char *name)
{
	if (mkdirat(at, name, 0755) == -1 && errno != EEXIST)
		return -1;
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/* Writes s to the file name below dir fd at (O_NOFOLLOW).  0 or -1. */
static int
cg_write(int at, const char *name, const char *s)
{
	ssize_t n;
	int fd, e;

	if ((fd = openat(at, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* fchown of name below at to uid/gid, through an O_NOFOLLOW fd. */
static int
cg_chown(int at, const char *name, uid_t uid, gid_t gid)
{
	int fd, r;

	fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	r = fchown(fd, uid, gid);
	close(fd);
	return r;
}

/* D opened: a directory on cgroup2, owned by uid, with cgroup.kill. */
static int
subtree_check(int dfd, uid_t uid)
{
	struct statfs sf;
	struct stat st;

	if (fstatfs(dfd, &sf) == -1 || fstat(dfd, &st) == -1)
		return -1;
	if (sf.f_type != CG2_MAGIC || !S_ISDIR(st.st_mode) ||
	    st.st_uid != uid) {
		errno = EPERM;
		return -1;
	}
	if (faccessat(dfd, "cgroup.kill", F_OK, AT_SYMLINK_NOFOLLOW) == -1) {
		log_warnx("cgroup: no cgroup.kill (Linux >= 5.14 needed)");
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}

/* name below at has no process in its subtree ("populated 0" in its
 * cgroup.events). */
static int
cg_unpopulated(int at, const char *name)
{
	char p[CG_NAME_MAX + 32], buf[CG_EVENTS_MAX];
	ssize_t n;
	int fd;

	if (xsnprintf(p, sizeof(p), "%s/cgroup.events", name) == -1 ||
	    (fd = openat(at, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "populated 0\n") != NULL;
}

/* rmdir of name below at and of its child cgroups (hotplugd, launcher,
 * a killed instance's job-<n>), which have none of their own. */
static void
prune_one(int at, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_type == DT_DIR && de->d_name[0] != '.')
			(void)unlinkat(fd, de->d_name, AT_REMOVEDIR);
	closedir(d);
	(void)unlinkat(at, name, AT_REMOVEDIR);
}

/*
 * Removes what another hotplugd instance (another run dir: tests) left in
 * base: a sibling devsep-hotplugd@* with no process left in it (its
 * cgroup.events says "populated 0": a live instance's hotplugd is in its
 * D/hotplugd) and older than CG_STALE_S, with its child cgroups (a
 * killed instance's job-<n> too).
 */
static void
prune_siblings(int bfd, const char *mine)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if ((fd = openat(bfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, mine) == 0 ||
		    strncmp(de->d_name, "devsep-hotplugd@", 16) != 0 ||
		    fstatat(bfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    st.st_mtime + CG_STALE_S > time(NULL))
			continue;
		/* root's again first: root has no CAP_DAC_OVERRIDE to
		 * remove entries of a dir devsep-hotplugd owns */
		if (cg_unpopulated(bfd, de->d_name) &&
		    fchownat(bfd, de->d_name, 0, 0, AT_SYMLINK_NOFOLLOW) == 0)
			prune_one(bfd, de->d_name);
	}
	closedir(d);
}

/* D made and given to uid (its cgroup.procs too), D/hotplugd and
 * D/launcher made while D is still root's (root has no CAP_DAC_OVERRIDE:
 * devsep-hotplugd.service); we move into D/hotplugd.  Returns D's fd or
 * -1. */
static int
subtree_make(const char *base, const char *name, uid_t uid, gid_t gid)
{
	int bfd, dfd = -1, hfd = -1, lfd = -1, ok = 0;

	bfd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd == -1)
		return -1;
	prune_siblings(bfd, name);
	if ((dfd = cg_mkdir_open(bfd, name)) == -1 ||
	    fchown(dfd, 0, 0) == -1 ||	/* a predecessor's D is uid's */
	    (hfd = cg_mkdir_open(dfd, "hotplugd")) == -1 ||
	    (lfd = cg_mkdir_open(dfd, "launcher")) == -1 ||
	    fchown(dfd, uid, gid) == -1 ||
	    cg_chown(dfd, "cgroup.procs", uid, gid) == -1 ||
	    cg_write(hfd, "cgroup.procs", "0") == -1 ||
	    subtree_check(dfd, uid) == -1)
		log_warn("cgroup: %s/%s", base, name);
	else
		ok = 1;
	close(bfd);
	if (hfd != -1)
		close(hfd);
	if (lfd != -1)
		close(lfd);
	if (!ok && dfd != -1) {
		close(dfd);
		dfd = -1;
	}
	return dfd;
}

/*
 * No cgroup2 mount visible (e.g. started by `ip netns exec`, which mounts a
 * fresh sysfs): mount it on /sys/fs/cgroup in a private mount namespace of
 * our own (the launcher and the scripts inherit it).  0 or -1.
 */
static int
cg2_mount_private(char *out, size_t sz)
{
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1 ||
	    mount("cgroup2", CG2_DEFAULT, "cgroup2", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL) == -1) {
		log_warn("cgroup: mount cgroup2 on %s", CG2_DEFAULT);
		return -1;
	}
	log_info("cgroup: cgroup2 mounted on %s in a private mount namespace",
	    CG2_DEFAULT);
	return cg2_mount(out, sz);
}

int
hpcg_setup(const char *run_dir, uid_t uid, gid_t gid)
{
	char mnt[CG_LINE_MAX], self[CG_LINE_MAX], base[2 * CG_LINE_MAX];
	char name[CG_NAME_MAX];

	hp->cg_fd = -1;
	if ((cg2_mount(mnt, sizeof(mnt)) == -1 &&
	    cg2_mount_private(mnt, sizeof(mnt)) == -1) ||
	    cg2_self(self, sizeof(self)) == -1 ||
	    xsnprintf(base, sizeof(base), "%s%s", mnt,
	    strcmp(self, "/") == 0 ? "" : self) == -1) {
		log_warnx("cgroup: no cgroup v2 hierarchy found");
		return -1;
	}
	subtree_name(run_dir, name, sizeof(name));
	if ((hp->cg_fd = subtree_make(base, name, uid, gid)) == -1)
		return -1;
	log_info("cgroup: jobs in %s/%s/job-<id>", base, name);
	return 0;
}

/* The launcher child moves itself to D/launcher (root, before its sandbox). */
int
hpcg_enter_launcher(void)
{
	if (hp->cg_fd == -1)
		return 0;
	return cg_write(hp->cg_fd, "launcher/cgroup.procs", "0");
}

static void
job_dir(uint64_t id, char *out, size_t sz)
{
	snprintf(out, sz, "job-%llu", (unsigned long long)id);
}

/* Makes D/job-<n>; returns its cgroup.procs opened for writing, or -1
 * (also when there are no cgroups: errno ENOTSUP). */
int
hpcg_job_create(uint64_t id)
{
	char d[64], p[80];

	if (hp->cg_fd == -1) {
		errno = ENOTSUP;
		return -1;
	}
	job_dir(id, d, sizeof(d));
	snprintf(p, sizeof(p), "%s/cgroup.procs", d);
	if (mkdirat(hp->cg_fd, d, 0755) == -1 && errno != EEXIST)
		return -1;
	return openat(hp->cg_fd, p, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* SIGKILL to every process in D/job-<n>.  0 or -1 (ENOENT: gone). */
int
hpcg_job_kill(uint64_t id)
{
	char p[80];

	if (hp->cg_fd == -1) {
		errno = ENOTSUP;
		return -1;
	}
	snprintf(p, sizeof(p), "job-%llu/cgroup.kill", (unsigned long long)id);
	return cg_write(hp->cg_fd, p, "1");
}

/* rmdir D/job-<n>: 0 (gone), -1 (EBUSY: members still exiting). */
int
hpcg_job_remove(uint64_t id)
{
	char d[64];

	if (hp->cg_fd == -1)
		return 0;
	job_dir(id, d, sizeof(d));
	if (unlinkat(hp->cg_fd, d, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Kills one leftover job cgroup and waits (bounded) until it is gone. */
static void
kill_stale_one(const char *name)
{
	char p[300];
	int i;

	snprintf(p, sizeof(p), "%s/cgroup.kill", name);
	if (cg_write(hp->cg_fd, p, "1") == -1 && errno != ENOENT)
		log_warn("cgroup: %s", p);
	for (i = 0; i < CG_RMDIR_TRIES; i++) {
		if (unlinkat(hp->cg_fd, name, AT_REMOVEDIR) == 0 ||
		    errno == ENOENT) {
			log_warnx("cgroup: stale %s of a previous hotplugd "
			    "killed and removed", name);
			return;
		}
		sleep_ms(CG_RMDIR_SLEEP_MS);
	}
	log_warn("cgroup: stale %s killed but not removable", name);
}

/* Every D/job-* left by a predecessor (called once, before any job). */
void
hpcg_kill_stale(void)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (hp->cg_fd == -1)
		return;
	if ((fd = openat(hp->cg_fd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("cgroup: cannot list the job cgroups");
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_type == DT_DIR && strncmp(de->d_name, "job-", 4) == 0)
			kill_stale_one(de->d_name);
	closedir(d);
}
