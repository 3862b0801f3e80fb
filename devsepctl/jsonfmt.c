/* Small renderers from the daemons' JSON to table cells. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

int ctl_json_printed;

void
ctl_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (s != NULL)
		printf("%s\n", s);
	ctl_json_printed = 1;
	free(s);
}

const char *
ctl_json_text(json_t *j, char *buf, size_t n)
{
	if (j == NULL || json_is_null(j))
		snprintf(buf, n, "-");
	else if (json_is_string(j))
		snprintf(buf, n, "%s", json_string_value(j));
	else if (json_is_integer(j))
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	else if (json_is_real(j))
		snprintf(buf, n, "%g", json_real_value(j));
	else if (json_is_boolean(j))
		snprintf(buf, n, "%s", json_is_true(j) ? "yes" : "no");
	else {
		char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

		snprintf(buf, n, "%s", s ? s : "?");
		free(s);
	}
	return buf;
}

void
ctl_json_brief(json_t *j, char *buf, size_t n)
{
	const char *k;
	json_t *v;
	size_t len = 0;
	char tmp[128];

	if (!json_is_object(j)) {
		ctl_json_text(j, buf, n);
		return;
	}
	buf[0] = '\0';
	json_object_foreach(j, k, v) {
		if (json_is_object(v) || json_is_array(v))
			continue;
		ctl_json_text(v, tmp, sizeof(tmp));
		len += snprintf(buf + len, len < n ? n - len : 0, "%s%s=%s",
		    len ? " " : "", k, tmp);
		if (len >= n)
			break;
	}
	if (buf[0] == '\0')
		snprintf(buf, n, "-");
}

void
ctl_fmt_duration(uint64_t s, char *buf, size_t n)
{
	if (s >= 86400)
		snprintf(buf, n, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
		    s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, n, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		    s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, n, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, n, "%" PRIu64 "s", s);
}
