/* SIGHUP configuration reload: see reload.h. */
#include "log.h"
#include "reload.h"

int
daemon_reload_config(struct devsep_config *cur, const char *path)
{
	struct devsep_config n;
	char err[512];

	config_defaults(&n);
	if (config_load(&n, path, 1, err, sizeof(err)) == -1) {
		log_warnx("reload: %s", err);
		return -1;
	}
	config_reload_runtime(cur, &n);
	return 0;
}
