/*
 * log.h - one line per event on stderr, which journald picks up:
 * "mailproc: LEVEL: what happened, on what (mailbox, UID, Message-ID,
 * ticket), and what happens next".
 */
#ifndef MP_LOG_H
#define MP_LOG_H

#include <glib.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR } log_level;

/* Turns debug lines on (-v); MAILPROC_DEBUG in the environment does too. */
void log_set_debug(int on);
int log_debug_enabled(void);

/* Writes one line at level lv (debug lines only when enabled). */
void mp_log(log_level lv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
