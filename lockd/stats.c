/* lockd counters and the lock-wait latency histogram. */
#include <stddef.h>

#include "hist.h"
#include "stats.h"

static const char *const counter_names[ST_NCOUNTERS] = {
	[ST_ACQ_IMMEDIATE]	= "acquire_immediate",
	[ST_ACQ_QUEUED]		= "acquire_queued",
	[ST_ACQ_GRANTED_WAIT]	= "acquire_granted_after_wait",
	[ST_ACQ_TIMEOUT]	= "acquire_timeout",
	[ST_ACQ_EDEADLK]	= "acquire_refused_order",
	[ST_ACQ_EAGAIN]		= "acquire_try_busy",
	[ST_ACQ_ESRCH]		= "acquire_no_domain",
	[ST_ACQ_CANCELLED]	= "acquire_cancelled",
	[ST_ACQ_OTHER_ERR]	= "acquire_other_error",
	[ST_RELEASE]		= "release",
	[ST_RELEASE_BAD]	= "release_not_held",
	[ST_DEATH_RELEASED]	= "released_by_holder_death",
	[ST_CONFIG_READ]	= "config_read",
	[ST_CONFIG_WRITE]	= "config_write",
	[ST_CONFIG_ESTALE]	= "config_write_stale",
	[ST_CREATE]		= "domain_create",
	[ST_DESTROY]		= "domain_destroy",
	[ST_CONN]		= "connections",
	[ST_DROPPED]		= "peers_dropped",
};

/* The lock-wait histogram: upper bounds in microseconds. */
static const struct hist_spec wait_spec = {
	"us", 7, { 10, 100, 1000, 10000, 100000, 1000000, 10000000 }
};

static uint64_t counters[ST_NCOUNTERS];
static struct hist wait_us = { &wait_spec, { 0 }, 0, 0 };

void
stats_inc(enum lockd_counter c)
{
	counters[c]++;
}

void
stats_add(enum lockd_counter c, uint64_t n)
{
	counters[c] += n;
}

void
stats_wait_us(uint64_t us)
{
	hist_add(&wait_us, us);
}

json_t *
stats_json(void)
{
	json_t *o = json_object(), *c = json_object();
	size_t i;

	for (i = 0; i < ST_NCOUNTERS; i++)
		json_object_set_new(c, counter_names[i],
		    json_integer((json_int_t)counters[i]));
	json_object_set_new(o, "counters", c);
	json_object_set_new(o, "lock_wait_us", json_pack("{s:I, s:I, s:o}",
	    "sum", (json_int_t)wait_us.sum, "max", (json_int_t)wait_us.max,
	    "histogram", hist_json(&wait_us)));
	return o;
}
