/*
 * devsepctl: the command-line client of the devsep daemons.
 *
 * It holds no privilege of its own: every command is one or more requests
 * to a daemon's socket below the run dir (answered only to uid 0, i.e.
 * PEER_ADMIN), rendered as an aligned table or, with --json, as the
 * daemons' JSON passed through (combined under one object when several
 * daemons answer).
 *
 * Exit codes (documented in devsepctl(8); scripts rely on them):
 */
#ifndef DEVSEPCTL_CTL_H
#define DEVSEPCTL_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "msg.h"

enum ctl_exit {
	CTL_OK		= 0,	/* done */
	CTL_FAILED	= 1,	/* the daemon refused or the operation failed */
	CTL_USAGE	= 2,	/* bad command line or configuration file */
	CTL_NODAEMON	= 3,	/* a daemon needed is not running here */
	CTL_INVARIANT	= 4,	/* `check` found a violation */
	CTL_NOANSWER	= 5,	/* timeout, or a reply we could not decode */
};

#define CTL_TIMEOUT_QUERY_MS	5000	/* status, stats, lists */
#define CTL_TIMEOUT_OP_MS	60000	/* cd-insert, disk-add... (QMP+locks) */
#define CTL_REPLY_MAX		MSG_MAX_LIMIT

struct ctl {
	const char		*prog;
	const char		*config_path;
	char			 rundir[CONFIG_PATH_MAX];
	int			 json;		/* --json */
	int			 timeout_ms;	/* -t; -1: per command default */
	struct devsep_config	 cfg;
	uint32_t		 reqid;
};

/* One daemon devsepctl can talk to. */
struct ctl_daemon {
	const char	*name;		/* "watcherd" (JSON key, status row) */
	const char	*prog;		/* "devsep-watcherd" */
	const char	*sock;		/* SOCK_WATCHERD */
	int		 driverdomain;	/* also runs in a driver domain */
};

extern const struct ctl_daemon ctl_daemons[];
extern const size_t ctl_ndaemons;
const struct ctl_daemon *ctl_daemon_find(const char *name);

/* A decoded reply: the message, or the daemon's error. */
struct ctl_reply {
	struct msg	 m;
	uint32_t	 err;		/* errno from MSG_COMMON_ERROR, else 0 */
	char		 errmsg[512];
	char		 why[640];	/* our own explanation when rc != OK */
};

/*
 * Connects to d's socket (with the CTL_NODAEMON explanation in why when it
 * is not running).  Returns an enum ctl_exit; *fd on success.
 */
int	ctl_connect(struct ctl *, const struct ctl_daemon *, int *fd,
	    char *why, size_t whysz);
/*
 * Sends req on fd and waits (timeout_ms) for the reply with the same
 * reqid.  A reply of type `expect` -> CTL_OK (r->m holds it); an ERROR ->
 * CTL_FAILED with r->err/errmsg; anything else -> CTL_NOANSWER.  The
 * caller disposes r->m (ctl_reply_dispose).
 */
int	ctl_exchange(struct ctl *, const struct ctl_daemon *, int fd,
	    struct msgbuf *req, uint32_t expect, int timeout_ms,
	    struct ctl_reply *r);
/* Connect + exchange + close: the usual one-shot request. */
int	ctl_call(struct ctl *, const struct ctl_daemon *, struct msgbuf *req,
	    uint32_t expect, int timeout_ms, struct ctl_reply *r);
/*
 * ctl_call for a reply whose payload is one JSON document: CTL_OK with *j
 * (the caller json_decref()s it), a reply that is not JSON -> CTL_NOANSWER
 * with the reason in r->why.
 */
int	ctl_call_json(struct ctl *, const struct ctl_daemon *,
	    struct msgbuf *req, uint32_t expect, int timeout_ms,
	    struct ctl_reply *r, json_t **j);
/*
 * Sends request b (built by its codec; disposed here) to daemon `name` and
 * renders its JSON reply (--json: passed through, else render(c, j));
 * reports failures.  The `devices` and `locks` commands.
 */
int	ctl_query(struct ctl *, const char *name, struct msgbuf *b,
	    uint32_t expect, int (*render)(struct ctl *, json_t *));
void	ctl_reply_dispose(struct ctl_reply *);
/* Prints "devsepctl: <why or daemon error>" for a failed call. */
void	ctl_report(struct ctl *, const struct ctl_daemon *, int rc,
	    const struct ctl_reply *);
/* Reads a str/blob JSON payload that ends the message. */
int	ctl_get_json(struct msg *, json_t **out);
int	ctl_timeout(const struct ctl *, int dflt);
uint32_t ctl_next_reqid(struct ctl *);

/* Prints j (indented) on stdout; sets ctl_json_printed. */
void	ctl_print_json(json_t *);
extern int ctl_json_printed;	/* a JSON document went to stdout */
/* "k=v k=v" for an object's scalar members, a scalar as text. */
void	ctl_json_brief(json_t *, char *buf, size_t bufsz);
/* Scalars as text, "-" for null/absent. */
const char *ctl_json_text(json_t *, char *buf, size_t bufsz);
/* Seconds as "3d04h", "2h05m", "4m07s", "12s". */
void	ctl_fmt_duration(uint64_t s, char *buf, size_t bufsz);

/* ---- commands ---- */
struct ctl_cmd {
	const char	*name;
	const char	*args;		/* usage synopsis after the name */
	const char	*help;		/* one line */
	const char	*detail;	/* `help CMD`: options, exit, example */
	int		(*fn)(struct ctl *, int argc, char **argv);
};

int	cmd_status(struct ctl *, int, char **);
int	cmd_stats(struct ctl *, int, char **);
int	cmd_devices(struct ctl *, int, char **);
int	cmd_locks(struct ctl *, int, char **);
int	cmd_check(struct ctl *, int, char **);
int	cmd_policy(struct ctl *, int, char **);
int	cmd_dm_start(struct ctl *, int, char **);
int	cmd_dm_destroy(struct ctl *, int, char **);
int	cmd_cd_insert(struct ctl *, int, char **);
int	cmd_cd_eject(struct ctl *, int, char **);
int	cmd_disk_add(struct ctl *, int, char **);
int	cmd_disk_remove(struct ctl *, int, char **);

/* Parsing helpers for command arguments (print the error, CTL_USAGE). */
int	ctl_arg_domid(struct ctl *, const char *, uint32_t *);
int	ctl_arg_u32(struct ctl *, const char *what, const char *,
	    uint32_t *);
/*
 * Parses a command's only option, `--<opt> DOMID`, and no operand;
 * *set says whether it was given (*domid untouched otherwise).  A bad
 * domid or anything else prints `usage` and returns CTL_USAGE.
 */
int	ctl_args_domid(struct ctl *, int argc, char **argv, const char *opt,
	    const char *usage, uint32_t *domid, int *set);
/* Fills c from global options; returns the index of the command or -1
 * after printing an error (*rc holds the exit code). */
int	ctl_parse_global(struct ctl *, int argc, char **argv, int *rc);
int	ctl_run(struct ctl *, int argc, char **argv);
void	ctl_usage(struct ctl *, int to_stderr);

#endif
