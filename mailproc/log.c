/*
 * log.c - levelled log lines on stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mailproc/log.h"

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARNING] = "warning",
	[LOG_ERROR] = "error",
};

static int debug_on = -1;

void
log_set_debug(int on)
{
	debug_on = on;
	/* The IMAP module reads the environment for its own transitions;
	 * set before any thread starts. */
	if (on)
		setenv("MAILPROC_DEBUG", "1", 1);
}

int
log_debug_enabled(void)
{
	if (debug_on < 0)
		debug_on = getenv("MAILPROC_DEBUG") != NULL;
	return debug_on;
}

void
mp_log(log_level lv, const char *fmt, ...)
{
	va_list ap;
	char *what;

	if (lv == LOG_DEBUG && !log_debug_enabled())
		return;
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* One write per line, so threads do not interleave within a line. */
	g_printerr("mailproc: %s: %s\n", level_names[lv], what);
	g_free(what);
}
