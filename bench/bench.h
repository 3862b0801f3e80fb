/*
 * bench-driver internals.  The driver does the timing-critical parts of
 * bench/devd-compare (one process, CLOCK_MONOTONIC microseconds, the same
 * clock the trivial script logs with); the script does the orchestration.
 *
 *   driver.c   main, sub-command table, xenstore helpers, rtt, clean, now
 *   storm.c    attach (start the backend actor, count script-log lines),
 *              attach-poll (poll hotplug-status: real scripts), detach
 *   floor.c    N runs of the trivial script flat out, P at a time
 *   recon.c    10 000-device reconcile: set up states, wait for the result
 *   tlog.c     trivial.log parsing, percentiles, max concurrency
 *   procstat.c CPU time (schedstat, utime+stime) and peak RSS of processes
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xenstore.h>

#define BENCH_MAX_PIDS	8
#define BENCH_PATH	256

/* Options shared by the sub-commands (long options, see usage()). */
struct bopt {
	long	 first, count, par, devid, bdom, poll_ms, timeout_ms, per;
	long	 vbd_devid;
	pid_t	 xs_pid;
	pid_t	 pids[BENCH_MAX_PIDS];
	size_t	 npids;
	const char *log, *script, *kinds, *start;
	uint64_t t0_us;		/* recon-wait: when the daemon started */
};

/* Processes whose CPU is measured around a phase. */
struct cpu_snap {
	uint64_t xs_ns, xs_ticks;
	uint64_t d_ns[BENCH_MAX_PIDS];
};

/* driver.c */
uint64_t now_us(void);
void	 sleep_us(uint64_t);
struct xs_handle *bx_open(void);
int	 bx_write(struct xs_handle *, xs_transaction_t, const char *path,
	    const char *val);
char	*bx_read(struct xs_handle *, const char *path);
int	 parse_long(const char *, long min, long max, long *out);
int	 be_path(char *, size_t, long bdom, const char *kind, long dom,
	    long devid);
size_t	 kind_list(const char *kinds, char out[][8], size_t max);
double	 pct(double *v, size_t n, double p);	/* sorts v */
/* Runs /bin/sh -c CMD in the background; prints "started pid=P". */
pid_t	 start_cmd(const char *cmd);

/* procstat.c */
uint64_t proc_cpu_ns(pid_t);		/* all threads, schedstat */
uint64_t proc_cpu_ticks(pid_t);		/* utime + stime */
long	 proc_hwm_kb(pid_t);		/* VmHWM */
long	 proc_rss_kb(pid_t);		/* VmRSS */
void	 cpu_take(const struct bopt *, struct cpu_snap *);
void	 cpu_settle(const struct bopt *, long max_ms);
void	 cpu_print(const struct bopt *, const struct cpu_snap *a,
	    const struct cpu_snap *b, long ndev);

/* tlog.c: trivial.log */
struct trun {
	char	 action[8];
	uint64_t start, end;
	long	 dom, devid;
	bool	 ok;
};
struct tlog {
	const char *path;
	long	 off;		/* bytes consumed */
	struct trun *v;
	size_t	 n, cap;
};
int	 tlog_open(struct tlog *, const char *path);	/* from current end */
int	 tlog_poll(struct tlog *);	/* parse new complete lines */
size_t	 tlog_count(const struct tlog *, bool add);
int	 tlog_maxconc(const struct tlog *, bool add);
void	 tlog_free(struct tlog *);

/* sub-commands */
int	 cmd_attach(struct bopt *);
int	 cmd_baseline(struct bopt *);
int	 cmd_attach_poll(struct bopt *);
int	 cmd_detach(struct bopt *);
int	 cmd_floor(struct bopt *);
int	 cmd_recon_create(struct bopt *);
int	 cmd_recon_setup(struct bopt *);
int	 cmd_recon_wait(struct bopt *);

#endif
