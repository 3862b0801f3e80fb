/*
 * Words for a failed hotplug script: the device's `hotplug-error` (which
 * libxl and xl show to the user), watcherd's log line and `devsepctl
 * devices`.  Each says which script ran for what, what failed, the errno
 * text or the signal name, and for a timeout its value and config key.
 * Pure functions of their arguments (test_errtext.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "errtext.h"
#include "proto_hotplug.h"

void
errtext_dur(char *buf, size_t sz, uint32_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, sz, "%us", ms / 1000);
	else
		snprintf(buf, sz, "%ums", ms);
}

static const char *
sig_name(int sig, char *buf, size_t sz)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev == NULL)
		snprintf(buf, sz, "signal %d", sig);
	else
		snprintf(buf, sz, "SIG%s", abbrev);
	return buf;
}

static const char *
sig_text(int sig)
{
	const char *d = sigdescr_np(sig);

	return d != NULL ? d : "unknown signal";
}

/* What the administrator can do about a refused job, by its errno. */
static const char *
refusal_hint(int code)
{
	switch (code) {
	case ENOENT:
		return "; install it there or fix the backend's script node";
	case EACCES:
		return "; scripts must be executable files inside script_dir, "
		    "not writable by others";
	case EINVAL:
	case ENAMETOOLONG:
		return "; name a script file inside script_dir";
	default:
		return "";
	}
}

/* ": <what the script said>" or "" (its last output line). */
static void
said(char *buf, size_t sz, const char *msg)
{
	if (msg == NULL || msg[0] == '\0')
		buf[0] = '\0';
	else
		snprintf(buf, sz, ": %s", msg);
}

void
errtext_script(char *buf, size_t sz, const struct errtext_job *j,
    const struct devsep_config *cfg)
{
	char who[HOTPLUG_SCRIPT_MAX + 48], tail[HOTPLUG_MSG_MAX + 4];
	char d1[24], d2[24], sig[24];
	int code = (int)j->code;

	snprintf(who, sizeof(who), "hotplug script \"%s\" (%s)", j->script,
	    j->action);
	said(tail, sizeof(tail), j->msg);
	switch (j->outcome) {
	case HOTPLUG_EXITED:
		snprintf(buf, sz, "%s exited with status %d%s", who, code, tail);
		break;
	case HOTPLUG_SIGNALED:
		snprintf(buf, sz, "%s was killed by %s (%s)%s", who,
		    sig_name(code, sig, sizeof(sig)), sig_text(code), tail);
		break;
	case HOTPLUG_TIMED_OUT:
		errtext_dur(d1, sizeof(d1), cfg->hotplug_timeout_ms);
		errtext_dur(d2, sizeof(d2), cfg->script_kill_grace_ms);
		snprintf(buf, sz, "%s did not finish within hotplug_timeout (%s) "
		    "and was killed (%s%s%s%s); raise hotplug_timeout in "
		    "devsep.conf if it is only slow", who, d1,
		    sig_name(code, sig, sizeof(sig)),
		    code == SIGKILL ? " after script_kill_grace (" : "",
		    code == SIGKILL ? d2 : "", code == SIGKILL ? ")" : "");
		break;
	case HOTPLUG_REFUSED:
		snprintf(buf, sz, "%s not run: %s%s%s (script_dir %s)%s", who,
		    j->msg && j->msg[0] ? j->msg : "refused by devsep-hotplugd",
		    code > 0 ? ": " : "", code > 0 ? strerror(code) : "",
		    cfg->script_dir, refusal_hint(code));
		break;
	case HOTPLUG_SPAWN_FAILED:
		snprintf(buf, sz, "%s could not be started: %s", who,
		    code > 0 ? strerror(code) : "unknown error");
		break;
	case HOTPLUG_CANCELLED:
		snprintf(buf, sz, "%s was cancelled%s", who, tail);
		break;
	default:
		snprintf(buf, sz, "%s failed (outcome %u, code %d)", who,
		    j->outcome, code);
		break;
	}
}
