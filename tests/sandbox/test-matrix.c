/*
 * Proves that each daemon's IPC permission matrix in policy/ (`msg` lines)
 * is exactly what its binary enforces: for every `table` line it reads the
 * named struct msg_handler array out of the built binary ($BIN/devsep-*,
 * from the ELF symbol table: static tables included), and enumerates every
 * (sender class, message type) pair -- the five classes times every type in
 * the table or the policy, plus unknown types -- checking that the binary
 * handles it exactly when the policy allows it.  msg_dispatch() refuses
 * anything the table does not allow (common/msg.c), so the table is the
 * enforcement.  A daemon whose binary is not built is reported SKIP (exit 77).
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "policy.h"

#define MAX_ROWS 128
#define SKIP_EXIT 77	/* tests/run-tests: a skip, never a pass */

struct row {
	uint32_t type;
	uint32_t peers;
};

static const uint32_t classes[] = { PEER_WATCHERD, PEER_HOTPLUGD, PEER_LOCKD,
	PEER_BROKER, PEER_ADMIN };

/* File offset of virtual address `va` (inside a PROGBITS section). */
static long
va_to_off(const Elf64_Ehdr *eh, const Elf64_Shdr *sh, uint64_t va)
{
	int i;

	for (i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_PROGBITS && va >= sh[i].sh_addr &&
		    va < sh[i].sh_addr + sh[i].sh_size)
			return (long)(sh[i].sh_offset + (va - sh[i].sh_addr));
	return -1;
}

/*
 * Reads the table `sym` from ELF file `path`: only the type and peers
 * fields, which are plain integers (not relocated) in the file.
 */
static int
read_table(const char *path, const char *sym, struct row *rows, size_t *n)
{
	const struct msg_handler *h = NULL;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	const Elf64_Sym *st;
	const char *strs, *map;
	struct stat sb;
	size_t i, k, cnt;
	long off;
	int fd, s;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		return -1;
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	eh = (const Elf64_Ehdr *)map;
	sh = (const Elf64_Shdr *)(map + eh->e_shoff);
	*n = 0;
	for (s = 0; s < eh->e_shnum; s++) {
		if (sh[s].sh_type != SHT_SYMTAB)
			continue;
		st = (const Elf64_Sym *)(map + sh[s].sh_offset);
		strs = map + sh[sh[s].sh_link].sh_offset;
		cnt = sh[s].sh_size / sizeof(*st);
		for (i = 0; i < cnt; i++) {
			if (ELF64_ST_TYPE(st[i].st_info) != STT_OBJECT ||
			    strcmp(strs + st[i].st_name, sym) != 0)
				continue;
			if ((off = va_to_off(eh, sh, st[i].st_value)) == -1)
				break;
			h = (const struct msg_handler *)(map + off);
			*n = st[i].st_size / sizeof(*h);
			for (k = 0; k < *n && k < MAX_ROWS; k++) {
				rows[k].type = h[k].type;
				rows[k].peers = h[k].peers;
			}
			break;
		}
	}
	munmap((void *)map, (size_t)sb.st_size);
	return h == NULL ? -1 : 0;
}

static uint32_t
table_peers(const struct row *rows, size_t n, uint32_t type, int *found)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].type == type) {
			*found = 1;
			return rows[i].peers;
		}
	*found = 0;
	return 0;
}

static uint32_t
policy_peers(const struct policy *p, const char *chan, uint32_t type,
    int *found)
{
	size_t i;

	for (i = 0; i < p->nmsgs; i++)
		if (p->msgs[i].type == type &&
		    strcmp(p->msgs[i].channel, chan) == 0) {
			*found = 1;
			return p->msgs[i].peers;
		}
	*found = 0;
	return 0;
}

/* Every class x type pair; returns the number of mismatches. */
static int
check_pairs(const struct policy *p, const struct policy_table *t,
    const struct row *rows, size_t n)
{
	uint32_t types[MAX_ROWS * 2 + 2], tp, pp;
	size_t nt = 0, i, c;
	int bad = 0, tf, pf;

	for (i = 0; i < n; i++)
		types[nt++] = rows[i].type;
	for (i = 0; i < p->nmsgs; i++)
		if (strcmp(p->msgs[i].channel, t->channel) == 0 &&
		    !table_peers(rows, n, p->msgs[i].type, &tf) && !tf)
			types[nt++] = p->msgs[i].type;
	types[nt++] = 0;		/* never a message */
	types[nt++] = 999;		/* outside every range */
	for (i = 0; i < nt; i++) {
		tp = table_peers(rows, n, types[i], &tf);
		pp = policy_peers(p, t->channel, types[i], &pf);
		if (tf != pf) {
			printf("FAIL %s @%s type %u: %s\n", p->name, t->channel,
			    types[i], tf ? "handled by the binary, not in the "
			    "policy" : "in the policy, not in the binary");
			bad++;
			continue;
		}
		for (c = 0; c < 5; c++)
			if (!!(tp & classes[c]) != !!(pp & classes[c])) {
				printf("FAIL %s @%s type %u from %s: binary %s, "
				    "policy %s\n", p->name, t->channel,
				    types[i], peer_class_name(classes[c]),
				    tp & classes[c] ? "handles" : "refuses",
				    pp & classes[c] ? "allows" : "refuses");
				bad++;
			}
	}
	return bad;
}

int
main(void)
{
	const char *bin = getenv("BIN") ? getenv("BIN") : "bin";
	const struct policy *p;
	const struct policy_table *t;
	struct row rows[MAX_ROWS];
	char path[512];
	size_t i, k, n, pairs = 0;
	int bad = 0, skipped = 0;

	for (i = 0; i < policy_count; i++) {
		p = policy_all[i];
		for (k = 0; k < p->ntables; k++) {
			t = &p->tables[k];
			snprintf(path, sizeof(path), "%s/%s", bin, t->binary);
			if (access(path, F_OK) == -1) {
				printf("SKIP %s @%s: no %s\n", p->name,
				    t->channel, path);
				skipped++;
				continue;
			}
			if (read_table(path, t->symbol, rows, &n) == -1 ||
			    n == 0 || n > MAX_ROWS) {
				printf("FAIL %s: no table %s in %s\n", p->name,
				    t->symbol, path);
				bad++;
				continue;
			}
			bad += check_pairs(p, t, rows, n);
			pairs += (n + 2) * 5;
			printf("ok   %s @%s: %zu messages (%s in %s)\n",
			    p->name, t->channel, n, t->symbol, t->binary);
		}
	}
	printf("test-matrix: %zu+ pairs checked, %d mismatch(es)\n", pairs,
	    bad);
	if (bad)
		return 1;
	return skipped ? SKIP_EXIT : 0;
}
