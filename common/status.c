/* Common MSG_COMMON_STATUS fields: see status.h. */
#include <sys/types.h>
#include <unistd.h>

#include "daemon.h"
#include "sandbox.h"
#include "status.h"

json_t *
status_json_new(const char *daemon, uint64_t uptime_s, json_t *extra)
{
	json_t *o, *sb = json_loads(sandbox_status_json(), 0, NULL);

	o = json_pack("{s:s, s:s, s:I, s:I, s:o}", "daemon", daemon,
	    "version", DEVSEP_VERSION, "pid", (json_int_t)getpid(),
	    "uptime_s", (json_int_t)uptime_s,
	    "sandbox", sb != NULL ? sb : json_object());
	if (o != NULL && extra != NULL && json_object_update(o, extra) == -1) {
		json_decref(o);
		o = NULL;
	}
	json_decref(extra);
	return o;
}
