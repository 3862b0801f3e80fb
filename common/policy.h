/*
 * Per-process policies (policy/<name>.policy), compiled into C tables at
 * build time by policy/gen-policy.awk (see man/devsep-policy.5).
 *
 * The text file is the source of truth: sandbox_enter() loads exactly
 * these tables, policy_print() prints the text the tables were made from,
 * policy_export_pfc() prints the seccomp filter that would be loaded, and
 * tests/sandbox/ parses the text at test time with an independent parser
 * (tests/sandbox/policy_parse.c) and checks it equals these tables.
 */
#ifndef DEVSEP_POLICY_H
#define DEVSEP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_CONDS	3

enum policy_action {
	POLICY_ALLOW	= 1,	/* allow (when the conditions hold) */
	POLICY_ERRNO	= 2,	/* fail with `err`, do not kill */
};

/* One argument condition (libseccomp's scmp_arg_cmp). */
struct policy_cond {
	unsigned	 arg;	/* 0..5 */
	int		 op;	/* enum scmp_compare */
	uint64_t	 mask;	/* SCMP_CMP_MASKED_EQ only */
	uint64_t	 val;
	const char	*text;	/* as written, for printing */
};

/* One `allow` / `errno` line: conditions are AND-ed, lines OR-ed. */
struct policy_rule {
	int		 nr;	/* native syscall number (SCMP_SYS) */
	const char	*name;
	int		 action;	/* enum policy_action */
	int		 err;	/* POLICY_ERRNO: errno value */
	const char	*group;	/* "@io" ... */
	unsigned	 ncond;
	struct policy_cond cond[POLICY_MAX_CONDS];
};

struct policy_cap {
	int		 cap;	/* CAP_* number */
	const char	*name;	/* "NET_ADMIN" */
};

struct policy_rlimit {
	int		 resource;	/* RLIMIT_* */
	const char	*name;		/* "NOFILE" */
	uint64_t	 value;		/* soft = hard */
};

/* IPC matrix row: who may send `type` to this process on `channel`. */
struct policy_msg {
	const char	*channel;	/* "listen": its own socket; else the
					 * connection it opened to that peer */
	uint32_t	 type;
	const char	*name;
	uint32_t	 peers;	/* PEER_* bits */
};

/* Where a channel's dispatch table is, for the matrix test. */
struct policy_table {
	const char	*channel;
	const char	*binary;	/* "devsep-lockd" (in $BIN) */
	const char	*symbol;	/* the struct msg_handler array */
};

struct policy {
	const char	*name;		/* "lockd" */
	const char	*user;		/* "devsep-lockd" or "root" */
	const char	*peer_group;	/* the one supplementary group kept
					 * (GROUP_PEERS: may connect to other
					 * daemons), or NULL: none */
	int		 chroot;	/* 1: chroot into spec->chroot_dir */
	int		 mountns;	/* 1: private mount namespace (hide) */
	int		 ambient;	/* 1: caps also ambient (kept across exec) */
	const char	*text;		/* the .policy file */
	const struct policy_rule *rules;
	size_t		 nrules;
	const struct policy_cap *caps;
	size_t		 ncaps;
	const struct policy_rlimit *rlimits;
	size_t		 nrlimits;
	const struct policy_msg *msgs;
	size_t		 nmsgs;
	const struct policy_table *tables;
	size_t		 ntables;
	const char *const *exec_dirs;	/* landlock: execute only below */
	size_t		 nexec_dirs;
	const char *const *hide;	/* paths hidden in the mount ns */
	size_t		 nhide;
};

/* Generated: every policy compiled into this build. */
extern const struct policy *const policy_all[];
extern const size_t policy_count;

/* NULL when there is no such policy. */
const struct policy *policy_find(const char *name);

/* Writes the policy text (as the auditor reads it) to fd.  0 or -1. */
int	policy_print(const char *name, int fd);
/*
 * Writes the seccomp filter that sandbox_enter() would load (libseccomp's
 * pseudo filter code) to fd.  seccomp_log selects the log default action.
 * 0 or -1.
 */
int	policy_export_pfc(const char *name, int seccomp_log, int fd);

/*
 * Builds the libseccomp filter of p (a scmp_filter_ctx, returned as void *
 * so that this header does not need seccomp.h).  NULL on error (logged).
 */
void	*policy_seccomp_build(const struct policy *p, int seccomp_log);
/*
 * A filter to stack on top of p's: everything allowed, except the rules of
 * group (with their argument conditions), which kill the process.  The
 * scripts' launcher drops its own group ("@launcher") this way in each
 * script before exec.  A scmp_filter_ctx, or NULL (logged) when the group
 * is empty or a rule cannot be added.
 */
void	*policy_seccomp_build_drop(const struct policy *p, const char *group);

#endif
