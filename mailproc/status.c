/*
 * status.c - names and exit codes of mp_status.
 */
#include "mailproc/status.h"

static const char *const status_names[] = {
	[MP_OK] = "success",
	[MP_ERR_USAGE] = "usage error",
	[MP_ERR_CONFIG] = "configuration error",
	[MP_ERR_NOT_FOUND] = "not found",
	[MP_ERR_TEMP] = "temporary failure",
	[MP_ERR_PARSE] = "cannot parse",
	[MP_ERR_LIMIT] = "over a limit",
	[MP_ERR_REFUSED] = "refused",
	[MP_ERR_IO] = "input/output error",
	[MP_ERR_INTERNAL] = "internal error",
};

const char *
mp_status_str(mp_status st)
{
	if ((unsigned)st < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[st];
	return "unknown status";
}

int
mp_status_is_temporary(mp_status st)
{
	return st == MP_ERR_TEMP;
}

int
mp_status_exit_code(mp_status st)
{
	switch (st) {
	case MP_OK:
		return 0;
	case MP_ERR_USAGE:
	case MP_ERR_CONFIG:
		return 2;
	case MP_ERR_TEMP:
		return 75;
	default:
		return 1;
	}
}
