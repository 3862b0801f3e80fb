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

/*
 * Removes what another hotplugd instance (another run dir: tests) left in
 * base: a sibling devsep-hotplugd@* whose cgroups are all empty and older
 * than CG_STALE_S.  rmdir of a cgroup fails while it has a process or a
 * child, so a live instance (its D/hotplugd holds it) is never touched.
 */
static void
prune_siblings(int bfd, const char *mine)
{
	static const char *const kids[] = { "hotplugd", "launcher" };
	struct dirent *de;
	struct stat st;
	DIR *d;
	size_t i;
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
		for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
			char p[300];

			snprintf(p, sizeof(p), "%s/%s", de->d_name, kids[i]);
			(void)unlinkat(bfd, p, AT_REMOVEDIR);
		}
		(void)unlinkat(bfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* D, D/hotplugd, D/launcher made and owned by uid; we move into D/hotplugd.
 * Returns D's fd or -1. */
static int
subtree_make(const char *base, const char *name, uid_t uid, gid_t gid)
{
	int bfd, dfd = -1, hfd = -1, lfd = -1, ok = 0;

	bfd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd == -1)
		return -1;
	prune_siblings(bfd, name);
	if ((dfd = cg_mkdir_open(bfd, name)) == -1 ||
	    fchown(dfd, uid, gid) == -1 ||
	    cg_chown(dfd, "cgroup.procs", uid, gid) == -1 ||
	    (hfd = cg_mkdir_open(dfd, "hotplugd")) == -1 ||
	    (lfd = cg_mkdir_open(dfd, "launcher")) == -1 ||
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
