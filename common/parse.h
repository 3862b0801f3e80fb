/*
 * Strict parsers for values that come from xenstore (guest-writable!),
 * config files and command lines.  Never atoi: every parser rejects empty
 * input, signs, leading/trailing blanks, trailing garbage and overflow.
 */
#ifndef DEVSEP_PARSE_H
#define DEVSEP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal u64 in [0, max]; "0" allowed, other leading zeros rejected. */
int	parse_u64(const char *, uint64_t max, uint64_t *);
int	parse_u32(const char *, uint32_t max, uint32_t *);
/* Same, for a value of known length that may hold embedded NULs. */
int	parse_u32n(const char *, size_t len, uint32_t max, uint32_t *);
/* XenbusState 0..8 (Unknown..Reconfigured); -1 on anything else. */
int	parse_xenbus_state(const char *, size_t len, int *);
/* Domain ids valid for a guest: 0..DOMID_FIRST_RESERVED-1 (0x7FF0). */
#define DOMID_MAX 0x7FEF
int	parse_domid(const char *, uint32_t *);
/* Duration: "250ms", "10s", "2" (seconds); result in ms, max 24 h. */
int	parse_duration_ms(const char *, uint32_t *);
int	parse_bool(const char *, int *);

/* A device kind name: [a-z0-9_] 1..15 chars ("vif", "vbd", "qdisk"...). */
int	valid_kind(const char *);
/* A single path component safe to join: no '/', not "." or "..", printable,
 * at most 255 bytes. */
int	valid_component(const char *);

/*
 * "/local/domain/<B>/backend/<kind>/<D>/<N>[/<rest>]": fills the parts and
 * returns 0; rest (may be NULL) points into path ("" when absent).
 */
struct backend_path {
	uint32_t	bdomid;
	char		kind[16];
	uint32_t	domid;
	uint32_t	devid;
	const char	*rest;
};
int	parse_backend_path(const char *path, struct backend_path *);

/* snprintf that fails (-1) instead of truncating. */
int	xsnprintf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
