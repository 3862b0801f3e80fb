/*
 * The fields every daemon's MSG_COMMON_STATUS reply starts with (proto.h):
 * daemon, version, pid, uptime_s and sandbox (sandbox_enter's state, {}
 * before it), built in one place; the daemon's own fields come on top.
 */
#ifndef DEVSEP_STATUS_H
#define DEVSEP_STATUS_H

#include <stdint.h>

#include <jansson.h>

/*
 * A new JSON object with the common fields for `daemon`, plus every member
 * of extra (a JSON object, consumed; NULL: none).  NULL when out of memory.
 */
json_t	*status_json_new(const char *daemon, uint64_t uptime_s,
	    json_t *extra);

#endif
