/*
 * <rundir>/hotplugd.jobs: one line per running job, "pgid starttime job_id",
 * rewritten (tmp + rename) whenever a job starts or ends.  A restarted
 * hotplugd reads it before serving and SIGKILLs the process groups a
 * crashed predecessor left behind.  The pid's start time (from
 * /proc/<pid>/stat) guards against killing an unrelated process that
 * reused the pid: the group is killed when its leader is the recorded one,
 * or when the leader is gone (a pid number is never reused while a process
 * group of that number still has members).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotplugd.h"
#include "log.h"
#include "parse.h"

#define JOBSFILE_MAX	(64 * 1024)

/* Field 22 of /proc/<pid>/stat, 0 when the process does not exist. */
unsigned long long
proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p, *tok, *save = NULL;
	uint64_t v = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* after ")": field 3 (state) ... field 22 (starttime) */
	for (field = 3, tok = strtok_r(p + 1, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save), field++)
		if (field == 22) {
			if (parse_u64(tok, UINT64_MAX, &v) == -1)
				v = 0;
			break;
		}
	return v;
}

int
jobsfile_write(void)
{
	char tmp[sizeof(hp->jobs_file) + 8];
	struct job *j;
	FILE *f;
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", hp->jobs_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	TAILQ_FOREACH(j, &hp->running, entry)
		fprintf(f, "%d %llu %llu\n", (int)j->pid, j->starttime,
		    (unsigned long long)j->id);
	ok = fflush(f) == 0 && !ferror(f);
	if (fclose(f) != 0 || !ok || rename(tmp, hp->jobs_file) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
kill_stale_line(char *line)
{
	char *f[3], *save = NULL;
	uint32_t pid;
	uint64_t st, id;
	unsigned long long now;
	int i;

	for (i = 0; i < 3; i++)
		if ((f[i] = strtok_r(i ? NULL : line, " ", &save)) == NULL)
			return;
	if (parse_u32(f[0], INT32_MAX, &pid) == -1 || pid < 2 ||
	    parse_u64(f[1], UINT64_MAX, &st) == -1 ||
	    parse_u64(f[2], UINT64_MAX, &id) == -1) {
		log_warnx("stale jobs file: bad line ignored");
		return;
	}
	now = proc_starttime((pid_t)pid);
	if (now != 0 && now != st) {
		log_info("stale job=%llu pgid=%u: pid reused, not killed",
		    (unsigned long long)id, pid);
		return;
	}
	if (kill(-(pid_t)pid, SIGKILL) == 0)
		log_warnx("stale job=%llu pgid=%u of a previous hotplugd "
		    "killed", (unsigned long long)id, pid);
	else if (errno != ESRCH)
		log_warn("stale job=%llu: kill(-%u)", (unsigned long long)id,
		    pid);
}

/* Called once at start, before any job of ours exists. */
void
jobsfile_kill_stale(const char *path)
{
	char buf[JOBSFILE_MAX + 1], *line, *save = NULL;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno != ENOENT)
			log_warn("%s", path);
		return;
	}
	n = read(fd, buf, JOBSFILE_MAX);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		kill_stale_line(line);
	unlink(path);
}
