/*
 * daemon.h - `mailproc run`: IMAP watchers and the SMTP sender (SPEC 4).
 *
 * One thread per configured mailbox and one for the sender, each with its
 * own store connection.  A thread per connection keeps a stalled server
 * from holding up the others without an event loop around libetpan's
 * blocking calls; SQLite's WAL and busy_timeout serialise the writers.
 */
#ifndef MP_DAEMON_H
#define MP_DAEMON_H

#include "mailproc/config.h"

/* Runs until SIGTERM/SIGINT (exit status 0) or, with once, until every
 * mailbox was fetched once and nothing is due in the outbox.  SIGHUP
 * reloads the configuration and the templates.  config_path is reread on
 * SIGHUP; db_path (or NULL) overrides the store.  Takes cfg. */
mp_status daemon_run(config *cfg, const char *config_path,
    const char *db_path, int once);

/* Connects to every IMAP account and the SMTP server and logs in, for
 * `mailproc check`; prints one line per server.  MP_OK when all work. */
mp_status daemon_check_servers(config *cfg);

#endif
