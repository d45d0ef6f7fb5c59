/*
 * clock.c - MAILPROC_NOW-aware time.
 */
#include <glib.h>
#include <stdlib.h>
#include <time.h>

#include "mailproc/clock.h"

static int64_t fixed_now = -1;

int
clock_parse(const char *s, int64_t *t)
{
	GDateTime *dt;

	if (s == NULL || *s == '\0')
		return -1;
	dt = g_date_time_new_from_iso8601(s, NULL);
	if (dt == NULL)
		return -1;
	*t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 0;
}

mp_status
clock_init(void)
{
	const char *s = getenv("MAILPROC_NOW");

	if (s == NULL || *s == '\0')
		return MP_OK;
	if (clock_parse(s, &fixed_now) != 0)
		return MP_ERR_CONFIG;
	return MP_OK;
}

int64_t
clock_now(void)
{
	if (fixed_now >= 0)
		return fixed_now;
	return (int64_t)time(NULL);
}

void
clock_format(int64_t t, char buf[static 21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		g_strlcpy(buf, "1970-01-01T00:00:00Z", 21);
}
