/*
 * The monotonic clock, in one small file: the daemons, common/listen.c and
 * the fuzz harnesses that compile listen.c from source (fuzz_xsproxy) link
 * it without pulling in the rest of daemon.c.
 */
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "daemon.h"

uint64_t
now_ms(void)
{
	return now_us() / 1000;
}

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
