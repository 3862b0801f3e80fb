/* Independent policy reader for the tests: see policy_parse.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <termios.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "msg.h"
#include "policy_parse.h"

struct sym {
	const char	*name;
	uint64_t	 val;
};

#define S(x) { #x, (uint64_t)(x) }
static const struct sym consts[] = {
	S(PROT_EXEC), S(PROT_READ), S(PROT_WRITE), S(PROT_NONE),
	S(AF_UNIX), S(AF_LOCAL), S(AF_NETLINK), S(AF_INET), S(AF_INET6),
	S(SOCK_STREAM), S(SOCK_DGRAM), S(SOCK_SEQPACKET), S(SOCK_CLOEXEC),
	S(SOCK_NONBLOCK),
	S(CLONE_THREAD), S(CLONE_VM), S(CLONE_VFORK), S(CLONE_FS),
	S(CLONE_FILES), S(CLONE_SIGHAND), S(CLONE_NEWUSER), S(CLONE_NEWNS),
	S(FIONBIO), S(FIONREAD), S(FIOCLEX), S(TCGETS), S(TIOCGWINSZ),
	S(O_CREAT), S(O_TRUNC), S(O_APPEND), S(O_WRONLY), S(O_RDWR),
	S(F_GETFL), S(F_SETFL), S(F_GETFD), S(F_SETFD), S(F_DUPFD),
	S(F_DUPFD_CLOEXEC), S(F_GETLK), S(F_SETLK), S(F_SETLKW),
	S(F_OFD_SETLK), S(F_OFD_SETLKW), S(F_OFD_GETLK),
	S(SOL_SOCKET), S(SO_PEERCRED), S(SO_ERROR), S(SO_RCVBUF), S(SO_SNDBUF),
	S(PR_SET_NAME), S(PR_GET_NAME), S(PR_CAPBSET_READ),
	S(PR_SET_NO_NEW_PRIVS), S(PR_SET_SECCOMP), S(PR_GET_SECUREBITS),
	S(PR_SET_PDEATHSIG), S(PR_SET_DUMPABLE), S(PR_GET_DUMPABLE),
	S(PR_CAP_AMBIENT), S(PR_SET_KEEPCAPS), S(PR_CAPBSET_DROP),
};
static const struct sym rlimits[] = {
	{ "NOFILE", RLIMIT_NOFILE }, { "NPROC", RLIMIT_NPROC },
	{ "CORE", RLIMIT_CORE }, { "FSIZE", RLIMIT_FSIZE },
	{ "AS", RLIMIT_AS }, { "DATA", RLIMIT_DATA },
	{ "STACK", RLIMIT_STACK }, { "MEMLOCK", RLIMIT_MEMLOCK },
	{ "MSGQUEUE", RLIMIT_MSGQUEUE }, { "LOCKS", RLIMIT_LOCKS },
	{ "SIGPENDING", RLIMIT_SIGPENDING }, { "CPU", RLIMIT_CPU },
};
static const struct sym errnos[] = {
	S(ENOSYS), S(EPERM), S(EACCES), S(ENOENT), S(EINVAL), S(ENOTSUP),
	S(EAFNOSUPPORT),
};
#undef S

static int
sym_find(const struct sym *t, size_t n, const char *name, uint64_t *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0) {
			*v = t[i].val;
			return 0;
		}
	return -1;
}

/* "A|B|0x10" -> value; -1 on an unknown name. */
static int
value_parse(const char *s, uint64_t *out)
{
	char buf[256], *tok, *save, *end;
	uint64_t v;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*out = 0;
	for (tok = strtok_r(buf, "|", &save); tok != NULL;
	    tok = strtok_r(NULL, "|", &save)) {
		errno = 0;
		v = strtoull(tok, &end, 0);
		if (*tok >= '0' && *tok <= '9') {
			if (*end != '\0' || errno != 0)
				return -1;
		} else if (sym_find(consts, sizeof(consts) / sizeof(consts[0]),
		    tok, &v) == -1)
			return -1;
		*out |= v;
	}
	return 0;
}

struct pstate {
	struct policy	*p;
	char		*group;
	char		*err;
	size_t		 errsz;
	int		 line;
	char		*tok[16];
	int		 ntok;
	int		 has_reason;
};

static int
perr(struct pstate *st, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(st->err, st->errsz, "line %d: ", st->line);
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

#define GROW(arr, n) \
	((arr) = realloc((void *)(arr), ((n) + 1) * sizeof(*(arr))))

static int
cond_parse(struct pstate *st, int i, struct policy_rule *r)
{
	struct policy_cond *c;
	uint64_t v;
	static const struct { const char *s; int op; } ops[] = {
		{ "==", SCMP_CMP_EQ }, { "!=", SCMP_CMP_NE },
		{ "<", SCMP_CMP_LT }, { "<=", SCMP_CMP_LE },
		{ ">", SCMP_CMP_GT }, { ">=", SCMP_CMP_GE },
	};
	size_t k;

	for (; i < st->ntok; r->ncond++) {
		if (r->ncond == POLICY_MAX_CONDS)
			return perr(st, "too many conditions");
		c = &r->cond[r->ncond];
		if (strncmp(st->tok[i], "arg", 3) != 0 ||
		    st->tok[i][3] < '0' || st->tok[i][3] > '5' ||
		    st->tok[i][4] != '\0' || i + 2 >= st->ntok)
			return perr(st, "bad condition at `%s`", st->tok[i]);
		c->arg = (unsigned)(st->tok[i][3] - '0');
		if (strcmp(st->tok[i + 1], "&") == 0) {
			if (i + 4 >= st->ntok || strcmp(st->tok[i + 3], "==") ||
			    value_parse(st->tok[i + 2], &c->mask) == -1 ||
			    value_parse(st->tok[i + 4], &c->val) == -1)
				return perr(st, "bad masked condition");
			c->op = SCMP_CMP_MASKED_EQ;
			i += 5;
			continue;
		}
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (strcmp(ops[k].s, st->tok[i + 1]) == 0)
				break;
		if (k == sizeof(ops) / sizeof(ops[0]) ||
		    value_parse(st->tok[i + 2], &v) == -1)
			return perr(st, "bad condition `%s %s`",
			    st->tok[i + 1], st->tok[i + 2]);
		c->op = ops[k].op;
		c->val = v;
		i += 3;
	}
	return 0;
}

static int
st_rule(struct pstate *st, int action)
{
	struct policy *p = st->p;
	struct policy_rule *r;
	uint64_t e;
	int nr;

	if (st->group == NULL)
		return perr(st, "rule before any group");
	nr = seccomp_syscall_resolve_name(st->tok[1]);
	if (nr == __NR_SCMP_ERROR)
		return perr(st, "unknown syscall %s", st->tok[1]);
	GROW(p->rules, p->nrules);
	r = (struct policy_rule *)&p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	r->nr = nr;
	r->name = strdup(st->tok[1]);
	r->action = action;
	r->group = strdup(st->group);
	if (action == POLICY_ERRNO) {
		if (st->ntok != 3 || sym_find(errnos, sizeof(errnos) /
		    sizeof(errnos[0]), st->tok[2], &e) == -1)
			return perr(st, "errno SYSCALL ENAME");
		r->err = (int)e;
		return 0;
	}
	return cond_parse(st, 2, r);
}

static int
st_cap(struct pstate *st)
{
	struct policy_cap *c;
	char low[64];
	size_t i;
	int cap;

	for (i = 0; st->tok[1][i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)st->tok[1][i]);
	low[i] = '\0';
	if ((cap = capng_name_to_capability(low)) < 0)
		return perr(st, "unknown capability %s", st->tok[1]);
	GROW(st->p->caps, st->p->ncaps);
	c = (struct policy_cap *)&st->p->caps[st->p->ncaps++];
	c->cap = cap;
	c->name = strdup(st->tok[1]);
	return 0;
}

static int
st_rlimit(struct pstate *st)
{
	struct policy_rlimit *r;
	uint64_t res, v;
	char *end;

	if (st->ntok != 3 || sym_find(rlimits, sizeof(rlimits) /
	    sizeof(rlimits[0]), st->tok[1], &res) == -1)
		return perr(st, "rlimit NAME VALUE");
	if (strcmp(st->tok[2], "infinity") == 0)
		v = (uint64_t)RLIM_INFINITY;
	else if ((v = strtoull(st->tok[2], &end, 10)), *end != '\0')
		return perr(st, "bad rlimit value");
	GROW(st->p->rlimits, st->p->nrlimits);
	r = (struct policy_rlimit *)&st->p->rlimits[st->p->nrlimits++];
	r->resource = (int)res;
	r->name = strdup(st->tok[1]);
	r->value = v;
	return 0;
}

static int
st_table(struct pstate *st)
{
	struct policy_table *t;

	if (st->ntok != 4 || st->tok[1][0] != '@')
		return perr(st, "table @CHANNEL BINARY SYMBOL");
	GROW(st->p->tables, st->p->ntables);
	t = (struct policy_table *)&st->p->tables[st->p->ntables++];
	t->channel = strdup(st->tok[1] + 1);
	t->binary = strdup(st->tok[2]);
	t->symbol = strdup(st->tok[3]);
	return 0;
}

static int
st_msg(struct pstate *st)
{
	struct policy_msg *m;
	char buf[256], *tok, *save;
	const char *chan = "listen";
	uint32_t peers = 0, c;

	if (st->ntok == 4 && st->tok[1][0] == '@') {
		chan = st->tok[1] + 1;
		st->tok[1] = st->tok[2];
		st->tok[2] = st->tok[3];
		st->ntok = 3;
	}
	if (st->ntok != 3 || strlen(st->tok[2]) >= sizeof(buf))
		return perr(st, "msg [@CHANNEL] MSG_NAME peers");
	strcpy(buf, st->tok[2]);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "none") == 0)
			continue;
		if ((c = peer_class_parse(tok)) == 0)
			return perr(st, "unknown peer %s", tok);
		peers |= c;
	}
	GROW(st->p->msgs, st->p->nmsgs);
	m = (struct policy_msg *)&st->p->msgs[st->p->nmsgs++];
	m->channel = strdup(chan);
	m->type = 0;
	m->name = strdup(st->tok[1]);
	m->peers = peers;
	return 0;
}

static int
st_strlist(struct pstate *st, const char *const **arr, size_t *n)
{
	char **a;

	a = realloc((void *)*arr, (*n + 1) * sizeof(*a));
	if (a == NULL)
		return perr(st, "out of memory");
	a[(*n)++] = strdup(st->tok[1]);
	*arr = (const char *const *)a;
	return 0;
}

static int
yesno(struct pstate *st, int *out)
{
	if (st->ntok != 2 || (strcmp(st->tok[1], "yes") &&
	    strcmp(st->tok[1], "no")))
		return perr(st, "%s yes|no", st->tok[0]);
	*out = strcmp(st->tok[1], "yes") == 0;
	return 0;
}

static int
statement(struct pstate *st)
{
	const char *k = st->tok[0];
	struct policy *p = st->p;

	if (strcmp(k, "daemon") && strcmp(k, "proto") && !st->has_reason)
		return perr(st, "`%s` without a reason", k);
	if (st->ntok < 2)
		return perr(st, "`%s` needs an argument", k);
	if (!strcmp(k, "daemon")) { p->name = strdup(st->tok[1]); return 0; }
	if (!strcmp(k, "proto")) return 0;
	if (!strcmp(k, "user")) { p->user = strdup(st->tok[1]); return 0; }
	if (!strcmp(k, "peer-group")) {
		p->peer_group = strdup(st->tok[1]);
		return 0;
	}
	if (!strcmp(k, "chroot")) return yesno(st, &p->chroot);
	if (!strcmp(k, "mountns")) return yesno(st, &p->mountns);
	if (!strcmp(k, "ambient")) return yesno(st, &p->ambient);
	if (!strcmp(k, "hide")) return st_strlist(st, &p->hide, &p->nhide);
	if (!strcmp(k, "exec-dir"))
		return st_strlist(st, &p->exec_dirs, &p->nexec_dirs);
	if (!strcmp(k, "cap")) return st_cap(st);
	if (!strcmp(k, "rlimit")) return st_rlimit(st);
	if (!strcmp(k, "group")) {
		free(st->group);
		st->group = strdup(st->tok[1]);
		return 0;
	}
	if (!strcmp(k, "allow")) return st_rule(st, POLICY_ALLOW);
	if (!strcmp(k, "errno")) return st_rule(st, POLICY_ERRNO);
	if (!strcmp(k, "msg")) return st_msg(st);
	if (!strcmp(k, "table")) return st_table(st);
	return perr(st, "unknown statement `%s`", k);
}

static void
tokenize(struct pstate *st, char *line)
{
	char *hash = strchr(line, '#'), *save, *t;

	st->has_reason = 0;
	if (hash != NULL) {
		*hash = '\0';
		st->has_reason = strspn(hash + 1, " \t") != strlen(hash + 1);
	}
	st->ntok = 0;
	for (t = strtok_r(line, " \t", &save); t != NULL && st->ntok < 16;
	    t = strtok_r(NULL, " \t", &save))
		st->tok[st->ntok++] = t;
}

int
tpolicy_parse(const char *text, struct policy *out, char *err, size_t errsz)
{
	struct pstate st = { .p = out, .err = err, .errsz = errsz };
	char *copy = strdup(text), *line, *nl;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->text = text;
	for (line = copy; rc == 0 && line != NULL && *line != '\0';
	    line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		st.line++;
		tokenize(&st, line);
		if (st.ntok > 0)
			rc = statement(&st);
	}
	if (rc == 0 && (out->name == NULL || out->user == NULL))
		rc = perr(&st, "missing daemon or user");
	free(st.group);
	free(copy);
	return rc;
}

void
tpolicy_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		free((void *)p->rules[i].name);
		free((void *)p->rules[i].group);
	}
	for (i = 0; i < p->ncaps; i++)
		free((void *)p->caps[i].name);
	for (i = 0; i < p->nrlimits; i++)
		free((void *)p->rlimits[i].name);
	for (i = 0; i < p->nmsgs; i++) {
		free((void *)p->msgs[i].name);
		free((void *)p->msgs[i].channel);
	}
	for (i = 0; i < p->ntables; i++) {
		free((void *)p->tables[i].channel);
		free((void *)p->tables[i].binary);
		free((void *)p->tables[i].symbol);
	}
	free((void *)p->tables);
	for (i = 0; i < p->nhide; i++)
		free((void *)p->hide[i]);
	for (i = 0; i < p->nexec_dirs; i++)
		free((void *)p->exec_dirs[i]);
	free((void *)p->rules);
	free((void *)p->caps);
	free((void *)p->rlimits);
	free((void *)p->msgs);
	free((void *)p->hide);
	free((void *)p->exec_dirs);
	free((void *)p->name);
	free((void *)p->user);
	free((void *)p->peer_group);
	memset(p, 0, sizeof(*p));
}

char *
tpolicy_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

#define DIFF(...) do { snprintf(err, errsz, __VA_ARGS__); return -1; } while (0)

static int
rule_eq(const struct policy_rule *a, const struct policy_rule *b, char *err,
    size_t errsz)
{
	unsigned k;

	if (a->nr != b->nr || strcmp(a->name, b->name) ||
	    a->action != b->action || a->err != b->err ||
	    strcmp(a->group, b->group) || a->ncond != b->ncond)
		DIFF("rule %s/%s differs from compiled %s/%s", a->group,
		    a->name, b->group, b->name);
	for (k = 0; k < a->ncond; k++)
		if (a->cond[k].arg != b->cond[k].arg ||
		    a->cond[k].op != b->cond[k].op ||
		    a->cond[k].mask != b->cond[k].mask ||
		    a->cond[k].val != b->cond[k].val)
			DIFF("rule %s condition %u differs (compiled: %s)",
			    a->name, k, b->cond[k].text);
	return 0;
}

static int
strs_eq(const char *what, const char *const *a, size_t na,
    const char *const *b, size_t nb, char *err, size_t errsz)
{
	size_t i;

	if (na != nb)
		DIFF("%s: %zu in text, %zu compiled", what, na, nb);
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			DIFF("%s %zu: %s vs %s", what, i, a[i], b[i]);
	return 0;
}

int
tpolicy_compare(const struct policy *a, const struct policy *b, char *err,
    size_t errsz)
{
	size_t i;

	if (strcmp(a->name, b->name) || strcmp(a->user, b->user) ||
	    a->chroot != b->chroot || a->mountns != b->mountns ||
	    a->ambient != b->ambient ||
	    strcmp(a->peer_group ? a->peer_group : "",
	    b->peer_group ? b->peer_group : ""))
		DIFF("header (daemon/user/peer-group/chroot/mountns/ambient) "
		    "differs");
	if (strcmp(a->text, b->text))
		DIFF("policy text differs from the compiled text (stale build?)");
	if (a->nrules != b->nrules)
		DIFF("%zu rules in text, %zu compiled", a->nrules, b->nrules);
	for (i = 0; i < a->nrules; i++)
		if (rule_eq(&a->rules[i], &b->rules[i], err, errsz) == -1)
			return -1;
	if (a->ncaps != b->ncaps)
		DIFF("%zu caps in text, %zu compiled", a->ncaps, b->ncaps);
	for (i = 0; i < a->ncaps; i++)
		if (a->caps[i].cap != b->caps[i].cap)
			DIFF("cap %s differs", a->caps[i].name);
	if (a->nrlimits != b->nrlimits)
		DIFF("rlimit count differs");
	for (i = 0; i < a->nrlimits; i++)
		if (a->rlimits[i].resource != b->rlimits[i].resource ||
		    a->rlimits[i].value != b->rlimits[i].value)
			DIFF("rlimit %s differs", a->rlimits[i].name);
	if (a->nmsgs != b->nmsgs)
		DIFF("msg count differs");
	for (i = 0; i < a->nmsgs; i++)
		if (strcmp(a->msgs[i].name, b->msgs[i].name) ||
		    strcmp(a->msgs[i].channel, b->msgs[i].channel) ||
		    a->msgs[i].peers != b->msgs[i].peers)
			DIFF("msg %s differs", a->msgs[i].name);
	if (a->ntables != b->ntables)
		DIFF("table count differs");
	for (i = 0; i < a->ntables; i++)
		if (strcmp(a->tables[i].channel, b->tables[i].channel) ||
		    strcmp(a->tables[i].binary, b->tables[i].binary) ||
		    strcmp(a->tables[i].symbol, b->tables[i].symbol))
			DIFF("table %s differs", a->tables[i].symbol);
	if (strs_eq("hide", a->hide, a->nhide, b->hide, b->nhide, err,
	    errsz) == -1)
		return -1;
	return strs_eq("exec-dir", a->exec_dirs, a->nexec_dirs, b->exec_dirs,
	    b->nexec_dirs, err, errsz);
}
