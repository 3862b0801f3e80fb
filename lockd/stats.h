/* lockd counters and the lock-wait latency histogram (MSG_COMMON_STATS). */
#ifndef DEVSEP_LOCKD_STATS_H
#define DEVSEP_LOCKD_STATS_H

#include <stdint.h>

#include <jansson.h>

enum lockd_counter {
	ST_ACQ_IMMEDIATE,	/* granted without waiting */
	ST_ACQ_QUEUED,		/* had to wait */
	ST_ACQ_GRANTED_WAIT,	/* granted after waiting */
	ST_ACQ_TIMEOUT,
	ST_ACQ_EDEADLK,		/* refused: lock order */
	ST_ACQ_EAGAIN,		/* try-lock busy */
	ST_ACQ_ESRCH,		/* absent / dying domain */
	ST_ACQ_CANCELLED,
	ST_ACQ_OTHER_ERR,
	ST_RELEASE,
	ST_RELEASE_BAD,		/* release of a lock not held */
	ST_DEATH_RELEASED,	/* locks freed because the holder went away */
	ST_CONFIG_READ,
	ST_CONFIG_WRITE,
	ST_CONFIG_ESTALE,
	ST_CREATE,
	ST_DESTROY,
	ST_CONN,
	ST_DROPPED,		/* peers dropped for bad messages */
	ST_NCOUNTERS
};

void	stats_inc(enum lockd_counter);
void	stats_add(enum lockd_counter, uint64_t);
/* Records one completed wait (granted or not), in microseconds. */
void	stats_wait_us(uint64_t);
json_t	*stats_json(void);

#endif
