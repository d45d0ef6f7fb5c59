/*
 * tap.h - a minimal Test Anything Protocol emitter for the unit tests.
 *
 * Each test program includes this header once, calls ok()/is_str()/is_int()
 * and ends with `return tap_done();`.  prove(1) reads the output.
 */
#ifndef MP_TAP_H
#define MP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run;
static int tap_failed;

static int __attribute__((unused))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

/* Compares two strings, either of which may be NULL; shows both on failure. */
static int __attribute__((unused))
is_str(const char *got, const char *want, const char *name)
{
	int same = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	if (!ok(same, "%s", name)) {
		printf("#   got:  %s%s%s\n", got ? "'" : "", got ? got : "NULL",
		    got ? "'" : "");
		printf("#   want: %s%s%s\n", want ? "'" : "", want ? want : "NULL",
		    want ? "'" : "");
	}
	return same;
}

static int __attribute__((unused))
is_int(long long got, long long want, const char *name)
{
	if (!ok(got == want, "%s", name))
		printf("#   got: %lld, want: %lld\n", got, want);
	return got == want;
}

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_run);
	return tap_failed ? 1 : 0;
}

#endif
