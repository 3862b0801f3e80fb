/*
 * Descendants that left a job's process group (a script's `setsid cmd &`,
 * a daemon it starts): kill(-pgid) cannot reach them.  Each script gets
 * DEVSEP_HOTPLUG_JOB=<job id> in its environment (spawn.c) and hotplugd is
 * a child subreaper (hotplugd.c, PR_SET_CHILD_SUBREAPER before the
 * sandbox), so an escaped descendant whose parent died is reparented to
 * hotplugd instead of init and stays in its process tree.
 *
 * hp_kill_marked() walks hotplugd's descendants breadth-first through
 * /proc/<pid>/task/<tid>/children (never other processes: only what is
 * below hotplugd), at most HP_DESC_MAX of them, and signals each whose
 * initial environment (/proc/<pid>/environ, first HP_ENV_MAX bytes)
 * carries that job's marker.  Reparented children are reaped by the
 * SIGCHLD loop (job.c job_reap_all: pids that are no job's leader are
 * reaped and otherwise ignored).
 *
 * Limits: a descendant that clears its environment (env -i) and whose
 * parent died before the kill is not recognised; one reached through a
 * still-living parent is (the walk is by tree, the marker only decides
 * which job it belongs to).  Processes of a previous hotplugd are not
 * its descendants: jobsfile.c kills their process groups only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotplugd.h"
#include "parse.h"

#define HP_ENV_MAX	65536	/* bytes of environ searched */

/* Appends the children of every thread of pid to q (bounded). */
static void
add_children(pid_t pid, pid_t *q, size_t *nq)
{
	char path[64], buf[4096], *p, *end;
	struct dirent *de;
	DIR *dir;
	ssize_t n;
	uint32_t c;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL && *nq < HP_DESC_MAX) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    xsnprintf(path, sizeof(path), "/proc/%d/task/%s/children",
		    (int)pid, de->d_name) == -1 ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (p = strtok_r(buf, " \n", &end); p != NULL && *nq <
		    HP_DESC_MAX; p = strtok_r(NULL, " \n", &end))
			if (parse_u32(p, INT32_MAX, &c) == 0 && c > 1)
				q[(*nq)++] = (pid_t)c;
	}
	closedir(dir);
}

/* 1 when pid's environment has the entry needle[1..] (needle is
 * "\0NAME=VALUE\0", nlen bytes); buf has HP_ENV_MAX + 1 bytes. */
static int
has_marker(pid_t pid, const char *needle, size_t nlen, char *buf)
{
	char path[64];
	size_t len = 1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	buf[0] = '\0';		/* so the first entry matches too */
	while (len < HP_ENV_MAX + 1 && (n = read(fd, buf + len,
	    HP_ENV_MAX + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return memmem(buf, len, needle, nlen) != NULL;
}

size_t
hp_env_marker(uint64_t id, char *buf, size_t sz)
{
	int r = snprintf(buf, sz, "%s=%" PRIu64, HP_JOB_ENV, id);

	return r < 0 || (size_t)r >= sz ? 0 : (size_t)r;
}

size_t
hp_kill_marked(uint64_t id, int sig)
{
	static pid_t q[HP_DESC_MAX];
	char needle[64], *buf;
	size_t nq = 0, i, nlen, killed = 0;

	needle[0] = '\0';
	if ((nlen = hp_env_marker(id, needle + 1, sizeof(needle) - 2)) == 0 ||
	    (buf = malloc(HP_ENV_MAX + 1)) == NULL)
		return 0;
	nlen += 2;		/* leading and trailing NUL */
	add_children(getpid(), q, &nq);
	for (i = 0; i < nq; i++) {
		add_children(q[i], q, &nq);
		if (has_marker(q[i], needle, nlen, buf) &&
		    kill(q[i], sig) == 0)
			killed++;
	}
	free(buf);
	return killed;
}
