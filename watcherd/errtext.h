/* Words for a failed hotplug script (errtext.c). */
#ifndef DEVSEP_WD_ERRTEXT_H
#define DEVSEP_WD_ERRTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct errtext_job {
	const char	*script;	/* the backend's script node */
	const char	*action;	/* "add", "remove", "online", ... */
	uint32_t	 outcome;	/* enum hotplug_outcome */
	int64_t		 code;		/* its code (proto_hotplug.h) */
	const char	*msg;		/* hotplugd's reason / last output */
};

/* "10s" or "250ms". */
void	errtext_dur(char *buf, size_t sz, uint32_t ms);
/* One line: which script, what failed, errno text / signal name, the
 * timeout with its config key. */
void	errtext_script(char *buf, size_t sz, const struct errtext_job *,
	    const struct devsep_config *);

#endif
