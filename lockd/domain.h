/*
 * Domain records and the destroy protocol (seed 002), on top of the store
 * (persistence) and the lock table (which needs to know ACTIVE / DYING).
 * State machine: see common/proto_lock.h ("Domain lifecycle").
 * Every change is written to disk before it is applied in memory, so a
 * failed write changes nothing.
 */
#ifndef DEVSEP_LOCKD_DOMAIN_H
#define DEVSEP_LOCKD_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "locktable.h"

struct dom {
	uint32_t	 domid;
	enum lt_dstate	 state;		/* ACTIVE, DYING or BROKEN */
	int		 dm_gone;
	uint64_t	 gen;
	json_t		*config;	/* NULL: tombstone or broken */
	char		 broken_why[128];
};

/* Loads every store file; returns the number of domains or -errno. */
int	dom_init(int dirfd, struct locktable *, uint64_t now);
void	dom_shutdown(void);

const struct dom *dom_lookup(uint32_t domid);
size_t	dom_count(void);
void	dom_foreach(void (*fn)(void *, const struct dom *), void *arg);

/* All return 0 or -errno with why set. */
int	dom_create(uint32_t domid, json_t *config, uint64_t *gen,
	    char *why, size_t whysz);
int	dom_destroy_begin(uint32_t domid, uint32_t flags, uint64_t now,
	    char *why, size_t whysz);
int	dom_dm_gone(uint32_t domid, char *why, size_t whysz);
int	dom_destroy_finish(uint32_t domid, uint64_t now, char *why,
	    size_t whysz);
/* Config access; the caller has checked the fast lock. */
int	dom_config_get(uint32_t domid, const json_t **config, uint64_t *gen,
	    char *why, size_t whysz);
/* Steals the reference to config on success. */
int	dom_config_put(uint32_t domid, json_t *config, uint64_t expect_gen,
	    uint64_t *newgen, char *why, size_t whysz);

const char *dom_state_name(enum lt_dstate);

#endif
