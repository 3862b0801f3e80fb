/*
 * SIGHUP: re-read the configuration file and apply the keys that may
 * change at run time, the same way in every daemon that can read its file
 * after sandbox_enter (lockd reads it through a directory fd instead).
 */
#ifndef DEVSEP_RELOAD_H
#define DEVSEP_RELOAD_H

#include "config.h"

/*
 * Loads path (a missing file means defaults) into a fresh configuration
 * and copies its runtime keys into *cur (config_reload_runtime).  A file
 * that does not parse is logged ("reload: path:line: why") and *cur is
 * kept.  0 applied, -1 kept.
 */
int	daemon_reload_config(struct devsep_config *cur, const char *path);

#endif
