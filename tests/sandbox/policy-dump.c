/*
 * policy-dump: prints a compiled policy's text, or (--pfc) the seccomp
 * filter that sandbox_enter() would load, for `make policy-dump`.
 *
 *   policy-dump [--pfc] [--log] NAME      policy-dump --list
 *   policy-dump --capeff NAME (hex mask)  policy-dump --user NAME
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"

int
main(int argc, char **argv)
{
	int pfc = 0, slog = 0, i;
	size_t k;

	log_init("policy-dump", 1, LOG_LEVEL_INFO);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--pfc") == 0)
			pfc = 1;
		else if (strcmp(argv[i], "--log") == 0)
			slog = 1;
		else if (strcmp(argv[i], "--capeff") == 0 && i + 1 < argc) {
			/* the CapEff mask /proc/PID/status should show */
			const struct policy *p = policy_find(argv[i + 1]);
			unsigned long long m = 0;

			if (p == NULL)
				return 1;
			for (k = 0; k < p->ncaps; k++)
				m |= 1ULL << p->caps[k].cap;
			printf("%016llx\n", m);
			return 0;
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			const struct policy *p = policy_find(argv[i + 1]);

			if (p == NULL)
				return 1;
			printf("%s\n", p->user);
			return 0;
		} else if (strcmp(argv[i], "--list") == 0) {
			for (k = 0; k < policy_count; k++)
				printf("%s\n", policy_all[k]->name);
			return 0;
		} else
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: policy-dump [--pfc] [--log] NAME\n");
		return 2;
	}
	if ((pfc ? policy_export_pfc(argv[i], slog, 1) :
	    policy_print(argv[i], 1)) == -1) {
		perror(argv[i]);
		return 1;
	}
	return 0;
}
