/* devsep-lockd: shared daemon state (lockd.c) and the dispatcher. */
#ifndef DEVSEP_LOCKD_LOCKD_H
#define DEVSEP_LOCKD_LOCKD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "daemon.h"
#include "listen.h"
#include "locktable.h"

#define LOCKD_MAX_CONNS	1000	/* below rlimit NOFILE 1024 (policy) */
/* per peer class (broker, admin): one class's flood leaves the other room */
#define LOCKD_MAX_PER_CLASS	480
#define CONFIG_FILE_MAX	(64 * 1024)
#define LOCKD_LIBXL_MNT	"libxl"	/* libxl_dir's bind mount in the state dir */

struct event_base;
struct event;
struct msgchan;
struct msg_handler;

struct lockd {
	struct event_base	*base;
	struct devsep_config	 cfg;
	struct daemon_opts	 opts;
	struct locktable	*lt;
	int			 statefd;
	int			 listenfd;
	struct msglisten	*listen;	/* accepting on listenfd */
	struct event		*ev_timer;
	uint64_t		 timer_at;	/* ev_timer's deadline, or
						   LT_NO_DEADLINE */
	uint64_t		 start_us;
	int			 no_user;	/* --no-user: keep uid (tests) */
	const char		*statedir;	/* --statedir override */
	const char		*libxl_dir;	/* --libxl-dir override */
	char			 libxl_mnt[CONFIG_PATH_MAX + 16];
	int			 confdirfd;	/* config file's dir (SIGHUP) */
	const char		*confbase;	/* config file name in it */
	char			 sockpath[CONFIG_PATH_MAX + 16];
};

extern struct lockd *lockd;

/* dispatch.c */
int	lockd_accept(int fd, void *arg);	/* msglisten_accept_fn */
void	lockd_lt_done(void *arg, void *conn, uint32_t reqid, int rc,
	    uint32_t domid, uint32_t which, uint64_t waited_us);
void	lockd_timer_cb(int fd, short ev, void *arg);
void	lockd_xlk_done(void *conn, uint32_t reqid, int rc, uint32_t domid,
	    uint32_t which, uint64_t gen, const char *why);
void	lockd_rearm_timer(void);
/* The permission table, for tests and the policy auditor. */
const struct msg_handler *lockd_handlers(size_t *n);

#endif
