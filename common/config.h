/*
 * devsep.conf: one file for every daemon (each uses the keys it needs).
 *
 *   # comment
 *   key = value
 *
 * Unknown keys, bad values and duplicates are errors with the line number.
 * The five timeouts named after libxl's compile-time constants (LIBXL_*,
 * tools/libs/light/libxl_internal.h) default to libxl 4.17's values; the
 * others are devsep's own.  Durations take "ms" or "s" (bare = seconds).
 */
#ifndef DEVSEP_CONFIG_H
#define DEVSEP_CONFIG_H

#include <stdint.h>
#include <stddef.h>

#define DEVSEP_CONF_PATH	"/etc/devsep/devsep.conf"
#define DEVSEP_RUNDIR		"/run/devsep"
#define DEVSEP_STATEDIR		"/var/lib/devsep"
#define XEN_LIB_DIR		"/var/lib/xen"	/* libxl's userdata, locks */
#define XEN_RUN_DIR		"/var/run/xen"	/* libxl's qmp-libxl-<domid> */
#define CONFIG_MAX_DIRS		8
#define CONFIG_PATH_MAX		256

/*
 * backend_mode: who drives the lifecycle (scripts, removal, hotplug-status,
 * qdisk QEMU) of the backends in watcherd's domain.  "libxl": libxl does,
 * as it always does for backends in its own domain (dom0 with xl); watcherd
 * only watches them and runs the scripts devsep-relay asks for.  "devsep":
 * watcherd does (a driver domain, whose scripts libxl never runs).
 * "auto": libxl in domain 0 (where xl runs), devsep elsewhere.
 */
enum backend_mode {
	BACKEND_MODE_AUTO	= 0,
	BACKEND_MODE_DEVSEP	= 1,
	BACKEND_MODE_LIBXL	= 2,
};
const char *backend_mode_name(int);

struct devsep_config {
	/* timeouts, milliseconds (libxl name in the comment) */
	uint32_t init_timeout_ms;	/* LIBXL_INIT_TIMEOUT 10 s: wait state 2 */
	uint32_t destroy_timeout_ms;	/* LIBXL_DESTROY_TIMEOUT 10 s: wait 6 */
	uint32_t hotplug_timeout_ms;	/* LIBXL_HOTPLUG_TIMEOUT 40 s: script */
	uint32_t qemu_bodge_timeout_ms;	/* LIBXL_QEMU_BODGE_TIMEOUT 2 s */
	uint32_t qmp_cmd_timeout_ms;	/* LIBXL_QMP_CMD_TIMEOUT 10 s */
	uint32_t io_drain_timeout_ms;	/* seed 003: wait for I/O done */
	uint32_t script_kill_grace_ms;	/* SIGTERM -> SIGKILL of a script */
	uint32_t lock_timeout_ms;	/* default lock acquire timeout */
	uint32_t peer_retry_ms;		/* reconnect interval to a peer */
	uint32_t peer_idle_timeout_ms;	/* drop an admin connection silent
					 * this long (devsepctl, toolstack) */
	uint32_t busy_retry_ms;		/* hotplug-status busy: retry after */
	uint32_t busy_tries;		/* busy retries before error */

	char	 script_dir[CONFIG_PATH_MAX];
	uint32_t max_jobs;		/* concurrent hotplug scripts */
	uint32_t script_output_max;	/* bytes of script output logged */

	char	 image_dirs[CONFIG_MAX_DIRS][CONFIG_PATH_MAX];
	size_t	 n_image_dirs;
	uint32_t qemu_uid_base;
	uint32_t script_uid_base;	/* hotplug job slot N runs as base + N */
	char	 qemu_binary[CONFIG_PATH_MAX];
	char	 qemu_chroot[CONFIG_PATH_MAX];

	char	 run_dir[CONFIG_PATH_MAX];
	char	 state_dir[CONFIG_PATH_MAX];
	char	 libxl_dir[CONFIG_PATH_MAX];	/* libxl's XEN_LIB_DIR */
	char	 libxl_run_dir[CONFIG_PATH_MAX];	/* libxl's XEN_RUN_DIR */
	int	 log_level;		/* LOG_LEVEL_* */
	int	 backend_mode;		/* BACKEND_MODE_* (watcherd) */
	int	 seccomp_log;		/* 1: log instead of kill (dev only) */
};

void	config_defaults(struct devsep_config *);
/*
 * Parses the file into *c (which should hold defaults).  On error returns
 * -1 and writes "path:line: message" into err.  A missing file is an error
 * unless missing_ok.
 */
int	config_load(struct devsep_config *, const char *path, int missing_ok,
	    char *err, size_t errsz);
int	config_parse_buf(struct devsep_config *, const char *buf, size_t len,
	    const char *name, char *err, size_t errsz);
/* Copies the keys that may change at run time (SIGHUP) from src to dst. */
void	config_reload_runtime(struct devsep_config *dst,
	    const struct devsep_config *src);
/* Writes every key with its current value, as the file format. */
void	config_dump(const struct devsep_config *, int fd);

#endif
