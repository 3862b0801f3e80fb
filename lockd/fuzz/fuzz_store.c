/*
 * libFuzzer: lockd's untrusted-file parsers.  The input is (1) a store
 * file image for store_parse (a corrupt file must be refused, never
 * crash), and (2) a LIST document for inv_check against fixed primary
 * items.  A record that parses must be valid (generation >= 1, a config
 * object unless it is a dying tombstone); inv_check never reports more
 * violations than items.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "invariant.h"
#include "lockd/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct inv_item items[3];
	struct store_rec r;
	char err[256], *s;

	if (store_parse((const char *)data, len, 1, &r, err, sizeof(err)) == 0) {
		if (r.gen < 1 || (r.config == NULL && !r.dying))
			abort();
		store_rec_dispose(&r);
	}
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	inv_item_parse("1 xs vif 0", &items[0]);
	inv_item_parse("1 qmp cdrom ide-cd0", &items[1]);
	inv_item_parse("2 qmp dm qemu", &items[2]);
	if (inv_check(s, items, 3, NULL, NULL, err, sizeof(err)) > 3)
		abort();
	free(s);
	return 0;
}
