/*
 * Test harness for devsep-hotplugd: starts the real daemon on a temporary
 * run dir / script dir, plays watcherd (a socket connected as the
 * devsep-watcherd user, handed back to the root test process) and admin.
 */
#ifndef HP_HARNESS_H
#define HP_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#include "proto_hotplug.h"

struct hp_done {
	uint32_t	reqid;
	uint64_t	id;
	uint32_t	outcome;
	int64_t		code;
	uint64_t	dur_us;
	char		msg[HOTPLUG_MSG_MAX + 1];
};

struct hp_run {
	uint64_t	 id;
	const char	*kind;
	const char	*action;
	const char	*script;
	const char	*be_path;
	const char	*xs_path;
	const char	*vif;
	const char	*netdev;
	uint32_t	 timeout_ms;
};

extern char	 T[64];		/* temp root */
extern char	 SCRIPTS[128], RUNDIR[128], OUT[128];
extern pid_t	 hpd_pid;
extern int	 fails;

void	 ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define EXPECT(c, ...) do { if (c) ok(__VA_ARGS__); else failf(__VA_ARGS__); } while (0)

void	 harness_init(void);
void	 harness_cleanup(void);
void	 write_file(const char *path, mode_t mode, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Writes <SCRIPTS>/<name> (0755) with "#!/bin/sh\n" + body. */
void	 write_script(const char *name, const char *body);
/* Reads a whole small file into buf ("" when missing). */
char	*read_file(const char *path, char *buf, size_t sz);

void	 daemon_start_cfg(const char *extra_conf);
/* Signals the daemon, reaps it, returns its wait status. */
int	 daemon_kill(int sig);

int	 connect_watcherd(void);
int	 connect_admin(void);
int	 send_run(int fd, uint32_t reqid, const struct hp_run *);
int	 send_raw(int fd, uint32_t type, uint32_t reqid, const void *p,
	    size_t len);
/* Waits for a DONE (other messages fail); -1 on timeout/EOF. */
/* The next message that is not a MSG_HOTPLUG_STARTED: 0 or -1. */
int	recv_skip_started(int fd, struct msg *m, int timeout_ms);
int	 recv_done(int fd, int timeout_ms, struct hp_done *);
/* Sends a STATUS/STATS request and returns the reply JSON (malloc'd). */
char	*admin_json(int fd, uint32_t type);
/* 1 when the peer closed the connection within timeout_ms. */
int	 peer_closed(int fd, int timeout_ms);
/* 1 when pid is gone (or a zombie) within timeout_ms. */
int	 pid_gone(pid_t pid, int timeout_ms);
long	 rss_kb(pid_t pid);
uint64_t mono_ms(void);

#endif
