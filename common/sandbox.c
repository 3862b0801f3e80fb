/*
 * TEMPORARY: sandbox_enter() is being written (issue 6).  Until then it
 * only says, loudly, that nothing is enforced.
 */
#include "log.h"
#include "sandbox.h"

int
sandbox_enter(const struct sandbox_spec *s)
{
	log_warnx("sandbox: NOT ENFORCED for %s (not yet implemented)",
	    s->daemon);
	return 0;
}
