/*
 * An independent reader of policy/<name>.policy for the tests: it shares no
 * code with the generator (policy/gen-policy.awk) and resolves names at run
 * time (syscalls with libseccomp, capabilities with libcap-ng, constants
 * from its own table), so comparing its result with the compiled tables
 * proves the build turned the text into exactly that filter.
 */
#ifndef DEVSEP_TEST_POLICY_PARSE_H
#define DEVSEP_TEST_POLICY_PARSE_H

#include <stddef.h>

#include "policy.h"

/* -1 with "line N: why" in err.  Message types are left 0 (names only). */
int	tpolicy_parse(const char *text, struct policy *out, char *err,
	    size_t errsz);
void	tpolicy_free(struct policy *);
/* Reads a whole file (malloc'ed, NUL-terminated) or NULL. */
char	*tpolicy_read_file(const char *path);
/*
 * 0 when `parsed` equals `compiled` in every field (message types are
 * compared by name and peers); else -1 with the first difference in err.
 */
int	tpolicy_compare(const struct policy *parsed,
	    const struct policy *compiled, char *err, size_t errsz);

#endif
