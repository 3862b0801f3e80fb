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
#include "launch.h"
#include "proto_hotplug.h"

struct event;
struct event_base;
struct msg;
struct msgchan;

#define HP_QUEUE_MAX	1024	/* queued jobs; more are REFUSED (EAGAIN) */
#define HP_TAIL_MAX	HOTPLUG_MSG_MAX
#define HP_LINE_MAX	1024	/* longer output lines are logged in pieces */

/*
 * Job state machine (job.c implements it; tests/test_job.c drives it from
 * this table).  Scripts are started by the launcher (launch.h); every job
 * has a slot (its uid) and a cgroup (cgroup.c) from start to cleanup:
 *
 *  state     event                     action                        next
 *  --------  ------------------------  ----------------------------  --------
 *  QUEUED    slot free, device idle    job cgroup, SPAWN to launcher STARTING
 *  QUEUED    cgroup/SPAWN send fails   DONE(SPAWN_FAILED, errno)     (freed)
 *  QUEUED    CANCEL                    DONE(CANCELLED)               (freed)
 *  QUEUED    watcherd disconnects      drop, log                     (freed)
 *  STARTING  launcher OK {pid, uid}    arm timeout                   RUNNING
 *  STARTING  launcher OK, cancelled    SIGTERM group, arm grace      KILLING
 *  STARTING  launcher ERROR            cleanup, DONE(SPAWN_FAILED)   (freed)
 *  STARTING  CANCEL                    remember                      STARTING
 *  RUNNING   launcher EXITED           cgroup.kill, cleanup, DONE(EXITED|SIGNALED) (freed)
 *  RUNNING   timeout_ms elapsed        SIGTERM group, arm grace      KILLING
 *  RUNNING   CANCEL                    SIGTERM group, arm grace      KILLING
 *  RUNNING   watcherd disconnects      keep running, result dropped  RUNNING
 *  KILLING   grace elapsed             cgroup.kill                   KILLING
 *  KILLING   launcher EXITED           cgroup.kill, cleanup,
 *                                      DONE(TIMED_OUT|CANCELLED)     (freed)
 *
 * "cleanup": the job cgroup is removed as soon as it is empty (retried on
 * a timer while killed members exit); only then is the slot (uid) free for
 * another job.  "Device idle": no STARTING/RUNNING/KILLING job with the
 * same backend path; queued jobs start in FIFO order, a job for a busy
 * device does not block later jobs for other devices.  The output pipe is
 * drained (non-blocking) and closed when the main script exits, so a
 * grandchild holding it cannot hang the job.
 */
enum job_state { JOB_QUEUED, JOB_STARTING, JOB_RUNNING, JOB_KILLING };

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
	uint32_t		 slot;		/* uid = script_uid_base + slot */
	uint64_t		 cg_id;		/* its cgroup: D/job-<cg_id> */
	uid_t			 uid;		/* the script's uid */
	uint32_t		 launch_reqid;	/* SPAWN to the launcher */
	uint64_t		 start_us;
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
	uint64_t	cgroup_kills;	/* cgroup.kill writes at job end */
	uint32_t	max_running;	/* high-water mark */
};

struct hotplugd {
	struct event_base	*base;
	struct devsep_config	 cfg;
	char			 script_dir_real[CONFIG_PATH_MAX];
	int			 cg_fd;		/* delegated cgroup subtree, -1 */
	struct msgchan		*launcher;	/* launch.c, over a socketpair */
	pid_t			 launcher_pid;
	int			 launcher_fd;
	uint32_t		 next_reqid;	/* requests to the launcher */
	uint8_t			 slot_busy[HPL_SLOTS];
	uint64_t		 slot_job[HPL_SLOTS];	/* cg_id being removed, per slot */
	uint64_t		 cg_seq;	/* last cg_id given out */
	uint8_t			 slot_clean[HPL_SLOTS];	/* cgroup removal pending */
	struct event		*ev_clean;	/* retries pending removals */
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
void	job_launcher_msg(struct msg *);
void	job_send_started(struct job *);

/* spawn.c */
int	hp_script_resolve(const char *script_dir_real, const char *script,
	    char *out, size_t outsz, const char **why);
int	hp_job_check(struct job *, const char **why);
size_t	hp_build_argv(const struct job *, const char **argv, size_t n);
size_t	hp_build_env(const struct job *, char *store, size_t storesz,
	    char **envp, size_t n);
int	hp_spawn(struct job *);	/* SPAWN to the launcher; 0 or errno */

/* cgroup.c: per-job cgroups in hotplugd's delegated subtree */
int	hpcg_setup(const char *run_dir, uid_t owner, gid_t gid);
int	hpcg_enter_launcher(void);
int	hpcg_job_create(uint64_t id);
int	hpcg_job_kill(uint64_t id);
int	hpcg_job_remove(uint64_t id);
void	hpcg_kill_stale(void);

/* output.c */
int	output_start(struct job *, int fd);
void	output_drain_close(struct job *);

/* stats.c */
void	stats_record(uint64_t duration_us);
char	*stats_json(void);
char	*status_json(void);

#endif
