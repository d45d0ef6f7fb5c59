/*
 * clock.h - the one clock of mailproc.
 *
 * MAILPROC_NOW (ISO-8601 UTC, e.g. 2024-01-08T09:00:00Z) replaces the
 * system clock, so tests and rebuilt digests are repeatable.
 */
#ifndef MP_CLOCK_H
#define MP_CLOCK_H

#include <stdint.h>

#include "mailproc/status.h"

/* Reads MAILPROC_NOW once.  Returns MP_ERR_CONFIG when it is set but is not
 * a valid time; call at start-up. */
mp_status clock_init(void);

/* Returns the current time in seconds since the epoch: MAILPROC_NOW when
 * set (frozen), else the system clock. */
int64_t clock_now(void);

/* Formats t as UTC ISO-8601 with Z into buf (at least 21 bytes). */
void clock_format(int64_t t, char buf[static 21]);

/* Parses a UTC ISO-8601 time (YYYY-MM-DDTHH:MM:SSZ, or a +HH:MM offset).
 * Returns 0 and sets *t, or -1. */
int clock_parse(const char *s, int64_t *t);

#endif
