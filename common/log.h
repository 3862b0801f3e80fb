/*
 * Logging in the OpenBSD style.
 *
 * Foreground (-F): stderr, one line per event, prefixed with the process
 * name.  Daemonized: syslog(LOG_DAEMON).  Device events carry
 * `domid= kind= devid=` fields so one grep finds a device's history.
 */
#ifndef DEVSEP_LOG_H
#define DEVSEP_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };
/* Below LOG_LEVEL_WARN only fatal()/fatalx() print (fuzzers, tests). */
#define LOG_LEVEL_QUIET	(-1)

void	log_init(const char *procname, int foreground, int level);
void	log_setlevel(int level);
int	log_getlevel(void);
const char *log_procname(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	vlog(int pri, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

#endif
