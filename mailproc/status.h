/*
 * status.h - the one status type of mailproc.
 *
 * Every function that can fail returns an mp_status and passes results
 * through out-parameters.  A status is either temporary (the same work may
 * succeed later: retry, do not checkpoint) or permanent (quarantine, fail).
 * status_exit_code() is the only place that maps a status to an exit code.
 */
#ifndef MP_STATUS_H
#define MP_STATUS_H

typedef enum {
	MP_OK = 0,		/* success */
	MP_ERR_USAGE,		/* bad command line: exit 2 */
	MP_ERR_CONFIG,		/* bad configuration or template: exit 2 */
	MP_ERR_NOT_FOUND,	/* a named ticket, row or file does not exist */
	MP_ERR_TEMP,		/* temporary: store busy or full, network; retry */
	MP_ERR_PARSE,		/* permanent: input cannot be parsed */
	MP_ERR_LIMIT,		/* permanent: input exceeds a configured bound */
	MP_ERR_REFUSED,		/* a rule refused the operation */
	MP_ERR_IO,		/* a local file could not be read or written */
	MP_ERR_INTERNAL,	/* a bug or an unexpected library failure */
} mp_status;

/* Returns a static, human-readable name of st. */
const char *mp_status_str(mp_status st);

/* Returns 1 when st is worth retrying later without change. */
int mp_status_is_temporary(mp_status st);

/* Maps st to the process exit code: 0 success, 1 runtime failure,
 * 2 usage or configuration error, 75 temporary failure (EX_TEMPFAIL). */
int mp_status_exit_code(mp_status st);

#endif
