/*
 * Logging: stderr in the foreground, syslog when daemonized.  Under
 * systemd (stderr is the journal stream named by $JOURNAL_STREAM) each
 * line starts with its syslog priority, "<4>", as sd-daemon(3) describes,
 * and carries no timestamp or name of its own (the journal adds them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_name = "devsep";
static int log_fg = 1;
static int log_lvl = LOG_LEVEL_INFO;
static int log_journal;		/* stderr is the journal: "<N>" prefixes */
static pid_t log_pid;		/* the process that found the journal */

/* $JOURNAL_STREAM is "device:inode" of the stream systemd connected. */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char c;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &c) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *procname, int foreground, int level)
{
	log_name = procname;
	log_fg = foreground;
	log_lvl = level;
	log_journal = foreground && stderr_is_journal();
	log_pid = getpid();
	if (!foreground)
		openlog(procname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(int level)
{
	log_lvl = level;
}

int
log_getlevel(void)
{
	return log_lvl;
}

const char *
log_procname(void)
{
	return log_name;
}

/*
 * One event, one line: guest-controlled strings (xenstore values, script
 * output) must not forge log lines, so control bytes become '?'.
 */
static void
sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char buf[2048];
	struct timespec ts;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	sanitize(buf);
	if (!log_fg) {
		syslog(pri, "%s", buf);
		return;
	}
	if (log_journal && getpid() == log_pid) {
		fprintf(stderr, "<%d>%s\n", pri, buf);
		return;
	}
	if (log_journal) {	/* a child (the broker's launcher): say who */
		fprintf(stderr, "<%d>%s[%d]: %s\n", pri, log_name,
		    (int)getpid(), buf);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%lld.%03ld %s[%d]: %s\n", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000000, log_name, (int)getpid(), buf);
}

static void vlog_fmt(int, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
vlog_fmt(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

/* Formats fmt, appends ": strerror(err)" when err != 0, then logs it. */
static void logit(int, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
logit(int pri, int err, const char *fmt, va_list ap)
{
	char buf[1536];
	int saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (err)
		vlog_fmt(pri, "%s: %s", buf, strerror(err));
	else
		vlog_fmt(pri, "%s", buf);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	if (log_lvl < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	logit(LOG_WARNING, err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (log_lvl < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	logit(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_lvl < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	logit(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_lvl < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	logit(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	logit(LOG_CRIT, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	logit(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
