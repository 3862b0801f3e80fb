/*
 * devsep-hotplugd: the only devsep process that executes hotplug scripts.
 * It holds no xenstore connection; scripts get watcherd's scoped proxy
 * socket through XENSTORED_PATH.  Protocol: common/proto_hotplug.h.
 */
#ifndef DEVSEP_HOTPLUGD_H
#define DEVSEP_HOTPLUGD_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "config.h"
#include "proto_hotplug.h"

struct event;
struct event_base;
struct msgchan;

#define HP_QUEUE_MAX	1024	/* queued jobs; more are REFUSED (EAGAIN) */
#define HP_TAIL_MAX	HOTPLUG_MSG_MAX
#define HP_LINE_MAX	1024	/* longer output lines are logged in pieces */

/*
 * Job state machine (job.c implements it; tests/test_job.c drives it from
 * this table):
 *
 *  state     event                     action                        next
 *  --------  ------------------------  ----------------------------  -------
 *  QUEUED    slot free, device idle    spawn (own session)           RUNNING
 *  QUEUED    spawn fails               DONE(SPAWN_FAILED, errno)     (freed)
 *  QUEUED    CANCEL                    DONE(CANCELLED)               (freed)
 *  QUEUED    watcherd disconnects      drop, log                     (freed)
 *  RUNNING   main child reaped         DONE(EXITED|SIGNALED)         (freed)
 *  RUNNING   timeout_ms elapsed        SIGTERM group, arm grace      KILLING
 *  RUNNING   CANCEL                    SIGTERM group, arm grace      KILLING
 *  RUNNING   watcherd disconnects      keep running, result dropped  RUNNING
 *  KILLING   grace elapsed             SIGKILL group                 KILLING
 *  KILLING   main child reaped         SIGKILL group,
 *                                      DONE(TIMED_OUT|CANCELLED)     (freed)
 *
 * "Device idle": no RUNNING/KILLING job with the same backend path; queued
 * jobs start in FIFO order, a job for a busy device does not block later
 * jobs for other devices.  A job is finished when its main child is reaped;
 * the output pipe is drained (non-blocking) and closed then, so a grandchild
 * holding it cannot hang the job.
 */
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_KILLING };

struct job {
	TAILQ_ENTRY(job)	 entry;
	enum job_state		 state;
	uint64_t		 id;
	uint32_t		 reqid;
	struct msgchan		*chan;		/* NULL: watcherd went away */

	char			 kind[HOTPLUG_KIND_MAX];
	char			 action[HOTPLUG_ACTION_MAX];
	char			 script[HOTPLUG_SCRIPT_MAX];	/* as sent */
	char			 exe[HOTPLUG_SCRIPT_MAX + 64];	/* resolved */
	char			 be_path[HOTPLUG_PATH_MAX];
	char			 xs_path[HOTPLUG_PATH_MAX];
	char			 vif[HOTPLUG_VIF_MAX];
	char			 netdev[HOTPLUG_VIF_MAX];
	uint32_t		 bdomid, domid, devid;
	uint32_t		 timeout_ms;
	int			 cancelled;

	pid_t			 pid;		/* == pgid (setsid) */
	uint64_t		 start_us;
	unsigned long long	 starttime;	/* /proc start time, jobs file */
	struct event		*ev_timer;	/* timeout, then grace */

	int			 out_fd;	/* read end of stdout+stderr */
	struct event		*ev_out;
	char			 line[HP_LINE_MAX + 1];
	size_t			 line_len;
	uint64_t		 out_logged;	/* bytes logged */
	uint64_t		 out_dropped;	/* bytes over script_output_max */
	char			 tail[HP_TAIL_MAX];	/* last output line */
};
TAILQ_HEAD(jobq, job);

struct hp_stats {
	uint64_t	runs;		/* spawned */
	uint64_t	ok;		/* exited 0 */
	uint64_t	failures;	/* exited != 0 or signaled */
	uint64_t	timeouts;
	uint64_t	refusals;
	uint64_t	spawn_failed;
	uint64_t	cancelled;
	uint64_t	dropped_results;	/* watcherd gone at completion */
	uint64_t	output_dropped;		/* bytes */
	uint64_t	escapees_signalled;	/* signals to marked descendants outside the group */
	uint32_t	max_running;	/* high-water mark */
};

struct hotplugd {
	struct event_base	*base;
	struct devsep_config	 cfg;
	char			 script_dir_real[CONFIG_PATH_MAX];
	char			 jobs_file[CONFIG_PATH_MAX + 32];
	struct jobq		 queued;
	struct jobq		 running;	/* RUNNING and KILLING */
	uint32_t		 n_queued, n_running;
	struct hp_stats		 st;
	uint64_t		 start_ms;
	int			 listen_fd;
	struct msglisten	*listen;	/* accepting on listen_fd */
	int			 terminating;
};

extern struct hotplugd *hp;

/* job.c */
void	job_submit(struct job *);
void	job_cancel(struct job *);
void	job_reap_all(void);
void	job_schedule(void);
void	job_chan_gone(struct msgchan *);
struct job *job_find(uint64_t id);
void	job_finish(struct job *, uint32_t outcome, int64_t code,
	    const char *msg);
void	job_kill_all(void);
void	job_drop_queued(void);
void	job_free(struct job *);

/* spawn.c */
int	hp_script_resolve(const char *script_dir_real, const char *script,
	    char *out, size_t outsz, const char **why);
int	hp_job_check(struct job *, const char **why);
size_t	hp_build_argv(const struct job *, const char **argv, size_t n);
size_t	hp_build_env(const struct job *, char *store, size_t storesz,
	    char **envp, size_t n);
int	hp_spawn(struct job *);

/* escape.c: descendants that left a job's process group */
#define HP_JOB_ENV	"DEVSEP_HOTPLUG_JOB"	/* marker in every script's env */
#define HP_DESC_MAX	1024	/* descendants of hotplugd walked per kill */
size_t	hp_env_marker(uint64_t id, char *buf, size_t sz);
size_t	hp_kill_marked(uint64_t id, int sig);

/* output.c */
int	output_start(struct job *, int fd);
void	output_drain_close(struct job *);

/* jobsfile.c */
int	jobsfile_write(void);
void	jobsfile_kill_stale(const char *path);
unsigned long long proc_starttime(pid_t);

/* stats.c */
void	stats_record(uint64_t duration_us);
char	*stats_json(void);
char	*status_json(void);

#endif
