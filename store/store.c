/*
 * store.c - SQLite schema, migrations and queries.
 *
 * The schema version is PRAGMA user_version; each entry of migrations[]
 * moves the database one version up inside one transaction, so a store is
 * always at a version this program knows or is refused.
 */
#include <glib.h>
#include <sqlite3.h>
#include <string.h>

#include "store/store.h"

struct store {
	sqlite3 *db;
	GHashTable *stmts;	/* SQL text pointer -> prepared statement */
	char *errmsg;
};

static const char *const migrations[] = {
	/* 1: trial-support tickets, the message pipeline, outbox, quarantine */
	"CREATE TABLE counters (prefix TEXT PRIMARY KEY, next INTEGER NOT NULL);"
	"CREATE TABLE tickets ("
	" id TEXT PRIMARY KEY, num INTEGER NOT NULL, mailbox TEXT NOT NULL,"
	" status TEXT NOT NULL, prev_status TEXT, priority TEXT,"
	" subject TEXT, requester TEXT, owner TEXT, root_message_id TEXT,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" staff_at INTEGER NOT NULL DEFAULT -1);"
	"CREATE INDEX tickets_status ON tickets (status, num);"
	"CREATE TABLE participants (ticket TEXT NOT NULL, address TEXT NOT NULL,"
	" seq INTEGER PRIMARY KEY, UNIQUE (ticket, address));"
	"CREATE TABLE thread (message_id TEXT NOT NULL, ticket TEXT NOT NULL,"
	" PRIMARY KEY (message_id, ticket)) WITHOUT ROWID;"
	"CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket TEXT NOT NULL,"
	" mailbox TEXT, message_id TEXT, from_addr TEXT, date INTEGER,"
	" visibility TEXT NOT NULL, body TEXT NOT NULL, raw BLOB);"
	"CREATE INDEX messages_ticket ON messages (ticket, id);"
	"CREATE TABLE attachments (message INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" filename TEXT, content_type TEXT NOT NULL, size INTEGER NOT NULL,"
	" PRIMARY KEY (message, seq)) WITHOUT ROWID;"
	"CREATE TABLE events (id INTEGER PRIMARY KEY, ticket TEXT NOT NULL,"
	" at INTEGER NOT NULL, actor TEXT, action TEXT NOT NULL, detail TEXT,"
	" message_id TEXT);"
	"CREATE INDEX events_ticket ON events (ticket, id);"
	"CREATE TABLE notes (id INTEGER PRIMARY KEY, ticket TEXT NOT NULL,"
	" at INTEGER NOT NULL, author TEXT, macro TEXT, fields TEXT, body TEXT,"
	" message_id TEXT);"
	"CREATE INDEX notes_ticket ON notes (ticket, id);"
	"CREATE TABLE outbox (id INTEGER PRIMARY KEY, ticket TEXT,"
	" template TEXT NOT NULL, recipients TEXT NOT NULL, subject TEXT,"
	" message_id TEXT NOT NULL, status TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, error TEXT,"
	" internal INTEGER NOT NULL, created_at INTEGER NOT NULL,"
	" next_at INTEGER NOT NULL, sent_at INTEGER NOT NULL DEFAULT -1,"
	" raw BLOB NOT NULL);"
	"CREATE INDEX outbox_due ON outbox (status, next_at);"
	"CREATE INDEX outbox_message_id ON outbox (message_id);"
	"CREATE TABLE processed (mailbox TEXT NOT NULL, key TEXT NOT NULL,"
	" outcome TEXT NOT NULL, at INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox, key)) WITHOUT ROWID;"
	"CREATE TABLE quarantine (id INTEGER PRIMARY KEY, mailbox TEXT,"
	" key TEXT, reason TEXT NOT NULL, from_addr TEXT, subject TEXT,"
	" status TEXT NOT NULL, at INTEGER NOT NULL, raw BLOB NOT NULL);"
	"CREATE TABLE autoreplies (address TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX autoreplies_address ON autoreplies (address, at);"
	"CREATE TABLE imap_state (mailbox TEXT PRIMARY KEY,"
	" uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL);"
	"INSERT INTO counters VALUES ('TS', 1), ('IE', 1);",

	/* 2: implementation backlog entries */
	"CREATE TABLE entries ("
	" id TEXT PRIMARY KEY, num INTEGER NOT NULL, mailbox TEXT NOT NULL,"
	" status TEXT NOT NULL, prev_status TEXT, subject TEXT,"
	" root_message_id TEXT, requested_by TEXT NOT NULL,"
	" customer_name TEXT, salesforce_url TEXT, tdd_url TEXT,"
	" deployment_type TEXT, hosting_provider TEXT, additional_info TEXT,"
	" segment TEXT, ae TEXT, arr INTEGER, expected_users TEXT,"
	" expected_repos TEXT, code_hosts TEXT,"
	" priority TEXT, size TEXT, risk TEXT, ie TEXT, pm TEXT,"
	" tdd_signed_off INTEGER NOT NULL DEFAULT 0,"
	" missing_fields TEXT NOT NULL DEFAULT '',"
	" flags TEXT NOT NULL DEFAULT '',"
	" requirements TEXT NOT NULL DEFAULT '',"
	" reason TEXT,"
	" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" handoff_at INTEGER NOT NULL DEFAULT -1,"
	" live_at INTEGER NOT NULL DEFAULT -1);"
	"CREATE INDEX entries_status ON entries (status, num);",

	/* 3: per-recipient delivery progress of outbox rows */
	"ALTER TABLE outbox ADD COLUMN delivered TEXT NOT NULL DEFAULT '';",

	/* 4: digests sent, once per period */
	"CREATE TABLE digests (name TEXT NOT NULL, period TEXT NOT NULL,"
	" outbox INTEGER, at INTEGER NOT NULL,"
	" PRIMARY KEY (name, period, at));",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
store_schema_version(void)
{
	return N_MIGRATIONS;
}

const char *
store_errmsg(store *s)
{
	return s && s->errmsg ? s->errmsg : "no error";
}

/* Records SQLite's message and classifies rc. */
static mp_status
fail(store *s, int rc)
{
	g_free(s->errmsg);
	s->errmsg = g_strdup(sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_PROTOCOL:
		return MP_ERR_TEMP;
	default:
		return MP_ERR_INTERNAL;
	}
}

static mp_status
exec(store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? MP_OK : fail(s, rc);
}

/* Returns the cached prepared statement for sql (a string literal: its
 * address is the cache key), reset and unbound, or NULL with errmsg set. */
static sqlite3_stmt *
prep(store *s, const char *sql)
{
	sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		g_free(s->errmsg);
		s->errmsg = g_strdup(sqlite3_errmsg(s->db));
		return NULL;
	}
	g_hash_table_insert(s->stmts, (gpointer)sql, st);
	return st;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v ? g_strdup((const char *)v) : NULL;
}

/* Steps a statement that returns no rows. */
static mp_status
step_done(store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MP_OK : fail(s, rc);
}

static void
stmt_free(gpointer p)
{
	sqlite3_finalize(p);
}

static mp_status
migrate(store *s, char **err)
{
	sqlite3_stmt *st = NULL;
	int version = 0;
	mp_status rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(s, sqlite3_errcode(s->db));
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > N_MIGRATIONS) {
		*err = g_strdup_printf("database schema version %d is newer "
		    "than this mailproc (%d)", version, N_MIGRATIONS);
		return MP_ERR_CONFIG;
	}
	if (version == N_MIGRATIONS)
		return MP_OK;
	rc = store_begin(s);
	if (rc)
		return rc;
	/* Another process may have migrated while we waited for the lock. */
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (; version < N_MIGRATIONS; version++) {
		char *pragma;

		rc = exec(s, migrations[version]);
		if (rc)
			goto failed;
		pragma = g_strdup_printf("PRAGMA user_version = %d",
		    version + 1);
		rc = exec(s, pragma);
		g_free(pragma);
		if (rc)
			goto failed;
	}
	return store_commit(s);
failed:
	*err = g_strdup_printf("schema migration to version %d failed: %s",
	    version + 1, store_errmsg(s));
	store_rollback(s);
	return rc;
}

mp_status
store_open(const char *path, int busy_ms, store **out, char **err)
{
	store *s = g_new0(store, 1);
	mp_status rc;
	int src;

	*out = NULL;
	*err = NULL;
	s->stmts = g_hash_table_new_full(NULL, NULL, NULL, stmt_free);
	src = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		*err = g_strdup_printf("cannot open store %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src));
		store_close(s);
		return MP_ERR_TEMP;
	}
	sqlite3_busy_timeout(s->db, busy_ms);
	sqlite3_extended_result_codes(s->db, 0);
	rc = exec(s, "PRAGMA journal_mode = WAL");
	if (!rc)
		rc = exec(s, "PRAGMA synchronous = FULL");
	if (!rc)
		rc = exec(s, "PRAGMA foreign_keys = ON");
	if (rc) {
		*err = g_strdup_printf("cannot use store %s: %s", path,
		    store_errmsg(s));
		store_close(s);
		return rc == MP_ERR_INTERNAL ? MP_ERR_TEMP : rc;
	}
	rc = migrate(s, err);
	if (rc) {
		if (*err == NULL)
			*err = g_strdup_printf("cannot migrate store %s: %s",
			    path, store_errmsg(s));
		store_close(s);
		return rc;
	}
	*out = s;
	return MP_OK;
}

void
store_close(store *s)
{
	if (s == NULL)
		return;
	g_hash_table_destroy(s->stmts);
	sqlite3_close(s->db);
	g_free(s->errmsg);
	g_free(s);
}

mp_status
store_sync_relaxed(store *s)
{
	return exec(s, "PRAGMA synchronous = NORMAL");
}

mp_status store_begin(store *s) { return exec(s, "BEGIN IMMEDIATE"); }
mp_status store_commit(store *s) { return exec(s, "COMMIT"); }
mp_status store_savepoint(store *s) { return exec(s, "SAVEPOINT msg"); }
mp_status store_release(store *s) { return exec(s, "RELEASE msg"); }

void
store_rollback(store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

void
store_rollback_savepoint(store *s)
{
	sqlite3_exec(s->db, "ROLLBACK TO msg; RELEASE msg", NULL, NULL, NULL);
}

/* ---- processed ---- */

mp_status
store_processed_has(store *s, const char *mailbox, const char *key, int *seen)
{
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM processed WHERE mailbox = ?"
	    " AND key = ?");
	int rc;

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, mailbox);
	bind_text(st, 2, key);
	rc = sqlite3_step(st);
	*seen = rc == SQLITE_ROW;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MP_OK : fail(s, rc);
}

mp_status
store_processed_add(store *s, const char *mailbox, const char *key,
    const char *outcome, int64_t at)
{
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO processed"
	    " (mailbox, key, outcome, at) VALUES (?, ?, ?, ?)");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, mailbox);
	bind_text(st, 2, key);
	bind_text(st, 3, outcome);
	sqlite3_bind_int64(st, 4, at);
	return step_done(s, st);
}

mp_status
store_processed_remove(store *s, const char *mailbox, const char *key)
{
	sqlite3_stmt *st = prep(s, "DELETE FROM processed WHERE mailbox = ?"
	    " AND key = ?");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, mailbox);
	bind_text(st, 2, key);
	return step_done(s, st);
}

/* ---- tickets ---- */

static mp_status
next_number(store *s, const char *prefix, int64_t *num)
{
	sqlite3_stmt *st = prep(s, "UPDATE counters SET next = next + 1"
	    " WHERE prefix = ? RETURNING next - 1");
	int rc;

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, prefix);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		mp_status r = fail(s, rc);

		sqlite3_reset(st);
		return r;
	}
	*num = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return MP_OK;
}

#define TICKET_COLS "id, mailbox, status, prev_status, priority, subject," \
	" requester, owner, root_message_id, created_at, updated_at, staff_at"

static void
bind_ticket(sqlite3_stmt *st, const store_ticket *t)
{
	bind_text(st, 1, t->id);
	bind_text(st, 2, t->mailbox);
	bind_text(st, 3, t->status);
	bind_text(st, 4, t->prev_status);
	bind_text(st, 5, t->priority);
	bind_text(st, 6, t->subject);
	bind_text(st, 7, t->requester);
	bind_text(st, 8, t->owner);
	bind_text(st, 9, t->root_message_id);
	sqlite3_bind_int64(st, 10, t->created_at);
	sqlite3_bind_int64(st, 11, t->updated_at);
	sqlite3_bind_int64(st, 12, t->staff_at);
}

static store_ticket *
row_ticket(sqlite3_stmt *st)
{
	store_ticket *t = g_new0(store_ticket, 1);

	g_strlcpy(t->id, (const char *)sqlite3_column_text(st, 0),
	    sizeof(t->id));
	t->mailbox = col_text(st, 1);
	t->status = col_text(st, 2);
	t->prev_status = col_text(st, 3);
	t->priority = col_text(st, 4);
	t->subject = col_text(st, 5);
	t->requester = col_text(st, 6);
	t->owner = col_text(st, 7);
	t->root_message_id = col_text(st, 8);
	t->created_at = sqlite3_column_int64(st, 9);
	t->updated_at = sqlite3_column_int64(st, 10);
	t->staff_at = sqlite3_column_int64(st, 11);
	return t;
}

mp_status
store_ticket_create(store *s, store_ticket *t)
{
	sqlite3_stmt *st;
	int64_t num = 0;
	mp_status rc;

	rc = next_number(s, "TS", &num);
	if (rc)
		return rc;
	g_snprintf(t->id, sizeof(t->id), "TS-%" G_GINT64_FORMAT, num);
	st = prep(s, "INSERT INTO tickets (" TICKET_COLS ", num) VALUES"
	    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_ticket(st, t);
	sqlite3_bind_int64(st, 13, num);
	return step_done(s, st);
}

mp_status
store_ticket_update(store *s, const store_ticket *t)
{
	sqlite3_stmt *st = prep(s, "UPDATE tickets SET mailbox = ?2,"
	    " status = ?3, prev_status = ?4, priority = ?5, subject = ?6,"
	    " requester = ?7, owner = ?8, root_message_id = ?9,"
	    " created_at = ?10, updated_at = ?11, staff_at = ?12"
	    " WHERE id = ?1");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_ticket(st, t);
	return step_done(s, st);
}

mp_status
store_ticket_get(store *s, const char *id, store_ticket **out)
{
	sqlite3_stmt *st = prep(s, "SELECT " TICKET_COLS " FROM tickets"
	    " WHERE id = ?");
	int rc;

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_ticket(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MP_OK;
	return rc == SQLITE_DONE ? MP_ERR_NOT_FOUND : fail(s, rc);
}

/* Runs st (bound) and collects its rows with conv into a NULL-terminated
 * array. */
static mp_status
collect(store *s, sqlite3_stmt *st, void *(*conv)(sqlite3_stmt *),
    void ***out)
{
	GPtrArray *arr = g_ptr_array_new();
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(arr, conv(st));
	sqlite3_reset(st);
	g_ptr_array_add(arr, NULL);
	*out = g_ptr_array_free(arr, FALSE);
	return rc == SQLITE_DONE ? MP_OK : fail(s, rc);
}

mp_status
store_ticket_list(store *s, const char *status, store_ticket ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT " TICKET_COLS " FROM tickets"
	    " WHERE ?1 IS NULL OR status = ?1 ORDER BY num");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, status);
	return collect(s, st, (void *(*)(sqlite3_stmt *))row_ticket,
	    (void ***)out);
}

void
store_ticket_free(store_ticket *t)
{
	if (t == NULL)
		return;
	g_free(t->mailbox);
	g_free(t->status);
	g_free(t->prev_status);
	g_free(t->priority);
	g_free(t->subject);
	g_free(t->requester);
	g_free(t->owner);
	g_free(t->root_message_id);
	g_free(t);
}

void
store_ticket_list_free(store_ticket **list)
{
	for (size_t i = 0; list && list[i]; i++)
		store_ticket_free(list[i]);
	g_free(list);
}

/* ---- backlog entries ---- */

#define ENTRY_COLS "id, mailbox, status, prev_status, subject," \
	" root_message_id, requested_by, customer_name, salesforce_url," \
	" tdd_url, deployment_type, hosting_provider, additional_info," \
	" segment, ae, arr, expected_users, expected_repos, code_hosts," \
	" priority, size, risk, ie, pm, tdd_signed_off, missing_fields," \
	" flags, requirements, reason, created_at, updated_at, handoff_at," \
	" live_at"

static void
bind_entry(sqlite3_stmt *st, const store_entry *e)
{
	int i = 1;

	bind_text(st, i++, e->id);
	bind_text(st, i++, e->mailbox);
	bind_text(st, i++, e->status);
	bind_text(st, i++, e->prev_status);
	bind_text(st, i++, e->subject);
	bind_text(st, i++, e->root_message_id);
	bind_text(st, i++, e->requested_by);
	for (int k = 0; k < STORE_ENTRY_FIELDS; k++) {
		if (k == STORE_ENTRY_ARR && e->field[k])
			sqlite3_bind_int64(st, i++, g_ascii_strtoll(
			    e->field[k], NULL, 10));
		else
			bind_text(st, i++, e->field[k]);
	}
	bind_text(st, i++, e->priority);
	bind_text(st, i++, e->size);
	bind_text(st, i++, e->risk);
	bind_text(st, i++, e->ie);
	bind_text(st, i++, e->pm);
	sqlite3_bind_int(st, i++, e->tdd_signed_off);
	bind_text(st, i++, e->missing_fields ? e->missing_fields : "");
	bind_text(st, i++, e->flags ? e->flags : "");
	bind_text(st, i++, e->requirements ? e->requirements : "");
	bind_text(st, i++, e->reason);
	sqlite3_bind_int64(st, i++, e->created_at);
	sqlite3_bind_int64(st, i++, e->updated_at);
	sqlite3_bind_int64(st, i++, e->handoff_at);
	sqlite3_bind_int64(st, i++, e->live_at);
}

static void *
row_entry(sqlite3_stmt *st)
{
	store_entry *e = g_new0(store_entry, 1);
	int i = 0;

	g_strlcpy(e->id, (const char *)sqlite3_column_text(st, i++),
	    sizeof(e->id));
	e->mailbox = col_text(st, i++);
	e->status = col_text(st, i++);
	e->prev_status = col_text(st, i++);
	e->subject = col_text(st, i++);
	e->root_message_id = col_text(st, i++);
	e->requested_by = col_text(st, i++);
	for (int k = 0; k < STORE_ENTRY_FIELDS; k++)
		e->field[k] = col_text(st, i++);
	e->priority = col_text(st, i++);
	e->size = col_text(st, i++);
	e->risk = col_text(st, i++);
	e->ie = col_text(st, i++);
	e->pm = col_text(st, i++);
	e->tdd_signed_off = sqlite3_column_int(st, i++);
	e->missing_fields = col_text(st, i++);
	e->flags = col_text(st, i++);
	e->requirements = col_text(st, i++);
	e->reason = col_text(st, i++);
	e->created_at = sqlite3_column_int64(st, i++);
	e->updated_at = sqlite3_column_int64(st, i++);
	e->handoff_at = sqlite3_column_int64(st, i++);
	e->live_at = sqlite3_column_int64(st, i++);
	return e;
}

mp_status
store_entry_create(store *s, store_entry *e)
{
	sqlite3_stmt *st;
	int64_t num = 0;
	mp_status rc;

	rc = next_number(s, "IE", &num);
	if (rc)
		return rc;
	g_snprintf(e->id, sizeof(e->id), "IE-%" G_GINT64_FORMAT, num);
	st = prep(s, "INSERT INTO entries (" ENTRY_COLS ", num) VALUES (?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_entry(st, e);
	sqlite3_bind_int64(st, 34, num);
	return step_done(s, st);
}

mp_status
store_entry_update(store *s, const store_entry *e)
{
	sqlite3_stmt *st = prep(s, "REPLACE INTO entries (" ENTRY_COLS ","
	    " num) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	    " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24,"
	    " ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33,"
	    " (SELECT num FROM entries WHERE id = ?1))");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_entry(st, e);
	return step_done(s, st);
}

mp_status
store_entry_get(store *s, const char *id, store_entry **out)
{
	sqlite3_stmt *st = prep(s, "SELECT " ENTRY_COLS " FROM entries"
	    " WHERE id = ?");
	int rc;

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_entry(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MP_OK;
	return rc == SQLITE_DONE ? MP_ERR_NOT_FOUND : fail(s, rc);
}

mp_status
store_entry_list(store *s, const char *status, store_entry ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT " ENTRY_COLS " FROM entries"
	    " WHERE ?1 IS NULL OR status = ?1 ORDER BY num");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, status);
	return collect(s, st, row_entry, (void ***)out);
}

void
store_entry_free(store_entry *e)
{
	if (e == NULL)
		return;
	g_free(e->mailbox);
	g_free(e->status);
	g_free(e->prev_status);
	g_free(e->subject);
	g_free(e->root_message_id);
	g_free(e->requested_by);
	for (int k = 0; k < STORE_ENTRY_FIELDS; k++)
		g_free(e->field[k]);
	g_free(e->priority);
	g_free(e->size);
	g_free(e->risk);
	g_free(e->ie);
	g_free(e->pm);
	g_free(e->missing_fields);
	g_free(e->flags);
	g_free(e->requirements);
	g_free(e->reason);
	g_free(e);
}

void
store_entry_list_free(store_entry **list)
{
	for (size_t i = 0; list && list[i]; i++)
		store_entry_free(list[i]);
	g_free(list);
}

/* ---- participants and thread ---- */

mp_status
store_participant_add(store *s, const char *ticket, const char *addr)
{
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO participants"
	    " (ticket, address) VALUES (?, ?)");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	bind_text(st, 2, addr);
	return step_done(s, st);
}

mp_status
store_participant_has(store *s, const char *ticket, const char *addr,
    int *has)
{
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM participants WHERE"
	    " ticket = ? AND address = ?");
	int rc;

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	bind_text(st, 2, addr);
	rc = sqlite3_step(st);
	*has = rc == SQLITE_ROW;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MP_OK : fail(s, rc);
}

static void *
row_string(sqlite3_stmt *st)
{
	return col_text(st, 0);
}

mp_status
store_participants(store *s, const char *ticket, char ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT address FROM participants WHERE"
	    " ticket = ? ORDER BY seq");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	return collect(s, st, row_string, (void ***)out);
}

mp_status
store_thread_add(store *s, const char *message_id, const char *ticket)
{
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO thread"
	    " (message_id, ticket) VALUES (?, ?)");

	if (message_id == NULL)
		return MP_OK;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, message_id);
	bind_text(st, 2, ticket);
	return step_done(s, st);
}

mp_status
store_thread_find(store *s, const char *prefix, const char *const *ids,
    char ticket[static 16])
{
	sqlite3_stmt *st = prep(s, "SELECT ticket FROM thread WHERE"
	    " message_id = ? AND substr(ticket, 1, length(?2)) = ?2"
	    " ORDER BY length(ticket) DESC, ticket DESC LIMIT 1");

	ticket[0] = '\0';
	if (st == NULL)
		return MP_ERR_INTERNAL;
	for (size_t i = 0; ids && ids[i]; i++) {
		int rc;

		sqlite3_reset(st);
		bind_text(st, 1, ids[i]);
		bind_text(st, 2, prefix);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			g_strlcpy(ticket, (const char *)sqlite3_column_text(st,
			    0), 16);
			sqlite3_reset(st);
			return MP_OK;
		}
		if (rc != SQLITE_DONE) {
			mp_status r = fail(s, rc);

			sqlite3_reset(st);
			return r;
		}
	}
	sqlite3_reset(st);
	return MP_OK;
}

/* ---- raw messages ---- */

/* A raw message bigger than this is written into its row in pieces after
 * the row is inserted, so that SQLite does not build the whole row in
 * memory next to the caller's copy (a 70 MB message took 155 MB). */
#define BLOB_PIECE ((size_t)1 << 20)

/* Binds raw as parameter i: itself when small, else zeros of its length
 * for raw_fill() to overwrite. */
static void
bind_raw(sqlite3_stmt *st, int i, const char *raw, size_t len)
{
	if (len > BLOB_PIECE)
		sqlite3_bind_zeroblob64(st, i, len);
	else
		sqlite3_bind_blob64(st, i, raw ? raw : "", len, SQLITE_STATIC);
}

/* Writes raw into column raw of row id of table, after bind_raw(). */
static mp_status
raw_fill(store *s, const char *table, sqlite3_int64 id, const char *raw,
    size_t len)
{
	sqlite3_blob *b = NULL;
	mp_status st;
	int rc;

	if (len <= BLOB_PIECE)
		return MP_OK;
	rc = sqlite3_blob_open(s->db, "main", table, "raw", id, 1, &b);
	for (size_t off = 0; rc == SQLITE_OK && off < len; off += BLOB_PIECE)
		rc = sqlite3_blob_write(b, raw + off, (int)MIN(BLOB_PIECE,
		    len - off), (int)off);
	if (rc != SQLITE_OK) {
		st = fail(s, rc);
		sqlite3_blob_close(b);
		return st;
	}
	rc = sqlite3_blob_close(b);
	return rc == SQLITE_OK ? MP_OK : fail(s, rc);
}

/* ---- messages ---- */

mp_status
store_message_add(store *s, const store_message *m, const char *raw,
    size_t raw_len)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO messages (ticket, mailbox,"
	    " message_id, from_addr, date, visibility, body, raw) VALUES"
	    " (?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_int64 id;
	mp_status rc;

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, m->ticket);
	bind_text(st, 2, m->mailbox);
	bind_text(st, 3, m->message_id);
	bind_text(st, 4, m->from);
	sqlite3_bind_int64(st, 5, m->date);
	bind_text(st, 6, m->visibility);
	bind_text(st, 7, m->body ? m->body : "");
	if (raw)
		bind_raw(st, 8, raw, raw_len);
	rc = step_done(s, st);
	if (rc)
		return rc;
	id = sqlite3_last_insert_rowid(s->db);
	if (raw && (rc = raw_fill(s, "messages", id, raw, raw_len)) != MP_OK)
		return rc;
	for (size_t i = 0; i < m->n_attachments; i++) {
		st = prep(s, "INSERT INTO attachments (message, seq, filename,"
		    " content_type, size) VALUES (?, ?, ?, ?, ?)");
		if (st == NULL)
			return MP_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, m->attachments[i].filename);
		bind_text(st, 4, m->attachments[i].content_type);
		sqlite3_bind_int64(st, 5, m->attachments[i].size);
		rc = step_done(s, st);
		if (rc)
			return rc;
	}
	return MP_OK;
}

static void *
row_message(sqlite3_stmt *st)
{
	store_message *m = g_new0(store_message, 1);

	m->id = sqlite3_column_int64(st, 0);
	m->ticket = col_text(st, 1);
	m->mailbox = col_text(st, 2);
	m->message_id = col_text(st, 3);
	m->from = col_text(st, 4);
	m->date = sqlite3_column_int64(st, 5);
	m->visibility = col_text(st, 6);
	m->body = col_text(st, 7);
	return m;
}

static void *
row_attachment(sqlite3_stmt *st)
{
	store_attachment *a = g_new0(store_attachment, 1);

	a->filename = col_text(st, 0);
	a->content_type = col_text(st, 1);
	a->size = sqlite3_column_int64(st, 2);
	return a;
}

mp_status
store_messages(store *s, const char *ticket, store_message ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT id, ticket, mailbox, message_id,"
	    " from_addr, date, visibility, body FROM messages WHERE ticket = ?"
	    " ORDER BY id");
	mp_status rc;

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	rc = collect(s, st, row_message, (void ***)out);
	for (size_t i = 0; !rc && (*out)[i]; i++) {
		store_message *m = (*out)[i];
		store_attachment **list = NULL;
		size_t n = 0;

		st = prep(s, "SELECT filename, content_type, size FROM"
		    " attachments WHERE message = ? ORDER BY seq");
		if (st == NULL)
			return MP_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, m->id);
		rc = collect(s, st, row_attachment, (void ***)&list);
		while (list && list[n])
			n++;
		m->attachments = g_new0(store_attachment, n ? n : 1);
		for (size_t k = 0; k < n; k++) {
			m->attachments[k] = *list[k];
			g_free(list[k]);
		}
		m->n_attachments = n;
		g_free(list);
	}
	return rc;
}

void
store_message_list_free(store_message **list)
{
	for (size_t i = 0; list && list[i]; i++) {
		store_message *m = list[i];

		g_free(m->ticket);
		g_free(m->mailbox);
		g_free(m->message_id);
		g_free(m->from);
		g_free(m->visibility);
		g_free(m->body);
		for (size_t k = 0; k < m->n_attachments; k++) {
			g_free(m->attachments[k].filename);
			g_free(m->attachments[k].content_type);
		}
		g_free(m->attachments);
		g_free(m);
	}
	g_free(list);
}

/* ---- events and notes ---- */

mp_status
store_event_add(store *s, const char *ticket, int64_t at, const char *actor,
    const char *action, const char *detail, const char *message_id)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO events (ticket, at, actor,"
	    " action, detail, message_id) VALUES (?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	sqlite3_bind_int64(st, 2, at);
	bind_text(st, 3, actor);
	bind_text(st, 4, action);
	bind_text(st, 5, detail);
	bind_text(st, 6, message_id);
	return step_done(s, st);
}

static void *
row_event(sqlite3_stmt *st)
{
	store_event *e = g_new0(store_event, 1);

	e->at = sqlite3_column_int64(st, 0);
	e->actor = col_text(st, 1);
	e->action = col_text(st, 2);
	e->detail = col_text(st, 3);
	e->message_id = col_text(st, 4);
	return e;
}

mp_status
store_events(store *s, const char *ticket, store_event ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT at, actor, action, detail,"
	    " message_id FROM events WHERE ticket = ? ORDER BY id");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	return collect(s, st, row_event, (void ***)out);
}

void
store_event_list_free(store_event **list)
{
	for (size_t i = 0; list && list[i]; i++) {
		g_free(list[i]->actor);
		g_free(list[i]->action);
		g_free(list[i]->detail);
		g_free(list[i]->message_id);
		g_free(list[i]);
	}
	g_free(list);
}

mp_status
store_note_add(store *s, const char *ticket, const store_note *n)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO notes (ticket, at, author,"
	    " macro, fields, body, message_id) VALUES (?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	sqlite3_bind_int64(st, 2, n->at);
	bind_text(st, 3, n->author);
	bind_text(st, 4, n->macro);
	bind_text(st, 5, n->fields_json);
	bind_text(st, 6, n->body);
	bind_text(st, 7, n->message_id);
	return step_done(s, st);
}

static void *
row_note(sqlite3_stmt *st)
{
	store_note *n = g_new0(store_note, 1);

	n->at = sqlite3_column_int64(st, 0);
	n->author = col_text(st, 1);
	n->macro = col_text(st, 2);
	n->fields_json = col_text(st, 3);
	n->body = col_text(st, 4);
	n->message_id = col_text(st, 5);
	return n;
}

mp_status
store_notes(store *s, const char *ticket, store_note ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT at, author, macro, fields, body,"
	    " message_id FROM notes WHERE ticket = ? ORDER BY id");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, ticket);
	return collect(s, st, row_note, (void ***)out);
}

void
store_note_list_free(store_note **list)
{
	for (size_t i = 0; list && list[i]; i++) {
		g_free(list[i]->author);
		g_free(list[i]->macro);
		g_free(list[i]->fields_json);
		g_free(list[i]->body);
		g_free(list[i]->message_id);
		g_free(list[i]);
	}
	g_free(list);
}

/* ---- outbox ---- */

mp_status
store_outbox_add(store *s, store_outbox *o)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO outbox (ticket, template,"
	    " recipients, subject, message_id, status, error, internal,"
	    " created_at, next_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?)");
	char *to = g_strjoinv("\n", o->to);
	mp_status rc;

	if (st == NULL) {
		g_free(to);
		return MP_ERR_INTERNAL;
	}
	bind_text(st, 1, o->ticket);
	bind_text(st, 2, o->template);
	bind_text(st, 3, to);
	bind_text(st, 4, o->subject);
	bind_text(st, 5, o->message_id);
	bind_text(st, 6, o->status);
	bind_text(st, 7, o->error);
	sqlite3_bind_int(st, 8, o->internal);
	sqlite3_bind_int64(st, 9, o->created_at);
	sqlite3_bind_int64(st, 10, o->next_at);
	sqlite3_bind_blob64(st, 11, o->raw, o->raw_len, SQLITE_STATIC);
	rc = step_done(s, st);
	g_free(to);
	if (rc == MP_OK)
		o->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

#define OUTBOX_COLS "id, ticket, template, recipients, subject, message_id," \
	" status, attempts, error, internal, created_at, next_at, sent_at," \
	" delivered"

static store_outbox *
row_outbox_common(sqlite3_stmt *st)
{
	store_outbox *o = g_new0(store_outbox, 1);
	char *to;

	o->id = sqlite3_column_int64(st, 0);
	o->ticket = col_text(st, 1);
	o->template = col_text(st, 2);
	to = col_text(st, 3);
	o->to = to && *to ? g_strsplit(to, "\n", -1) : g_new0(char *, 1);
	g_free(to);
	o->subject = col_text(st, 4);
	o->message_id = col_text(st, 5);
	o->status = col_text(st, 6);
	o->attempts = sqlite3_column_int(st, 7);
	o->error = col_text(st, 8);
	o->internal = sqlite3_column_int(st, 9);
	o->created_at = sqlite3_column_int64(st, 10);
	o->next_at = sqlite3_column_int64(st, 11);
	o->sent_at = sqlite3_column_int64(st, 12);
	to = col_text(st, 13);
	o->delivered = to && *to ? g_strsplit(to, "\n", -1) :
	    g_new0(char *, 1);
	g_free(to);
	return o;
}

static void *
row_outbox(sqlite3_stmt *st)
{
	return row_outbox_common(st);
}

static void *
row_outbox_raw(sqlite3_stmt *st)
{
	store_outbox *o = row_outbox_common(st);
	int n = sqlite3_column_bytes(st, 14);

	o->raw = g_malloc((size_t)n + 1);
	if (n > 0)
		memcpy(o->raw, sqlite3_column_blob(st, 14), (size_t)n);
	o->raw[n] = '\0';
	o->raw_len = (size_t)n;
	return o;
}

mp_status
store_outbox_list(store *s, store_outbox ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT " OUTBOX_COLS " FROM outbox"
	    " ORDER BY id");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	return collect(s, st, row_outbox, (void ***)out);
}

mp_status
store_outbox_get(store *s, int64_t id, store_outbox **out)
{
	sqlite3_stmt *st = prep(s, "SELECT " OUTBOX_COLS ", raw FROM outbox"
	    " WHERE id = ?");
	int rc;

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_outbox_raw(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MP_OK;
	return rc == SQLITE_DONE ? MP_ERR_NOT_FOUND : fail(s, rc);
}

mp_status
store_outbox_due(store *s, int64_t now, int limit, store_outbox ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT " OUTBOX_COLS ", raw FROM outbox"
	    " WHERE status = 'queued' AND next_at <= ? ORDER BY next_at, id"
	    " LIMIT ?");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	return collect(s, st, row_outbox_raw, (void ***)out);
}

mp_status
store_outbox_mark(store *s, int64_t id, const char *status, const char *error,
    int64_t next_at, int64_t now, const char *const *delivered)
{
	sqlite3_stmt *st = prep(s, "UPDATE outbox SET status = ?2,"
	    " error = ?3, next_at = ?4, attempts = attempts + 1,"
	    " sent_at = CASE WHEN ?2 = 'sent' THEN ?5 ELSE sent_at END,"
	    " delivered = ifnull(?6, delivered) WHERE id = ?1");
	char *d = delivered ? g_strjoinv("\n", (char **)delivered) : NULL;
	mp_status rc;

	if (st == NULL) {
		g_free(d);
		return MP_ERR_INTERNAL;
	}
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, status);
	bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, next_at);
	sqlite3_bind_int64(st, 5, now);
	bind_text(st, 6, d);
	rc = step_done(s, st);
	g_free(d);
	return rc;
}

mp_status
store_outbox_find_ticket(store *s, const char *message_id,
    char ticket[static 16], int *known)
{
	sqlite3_stmt *st = prep(s, "SELECT ifnull(ticket, '') FROM outbox"
	    " WHERE message_id = ? LIMIT 1");
	int rc;

	ticket[0] = '\0';
	*known = 0;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, message_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*known = 1;
		g_strlcpy(ticket, (const char *)sqlite3_column_text(st, 0),
		    16);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MP_OK : fail(s, rc);
}

void
store_outbox_free(store_outbox *o)
{
	if (o == NULL)
		return;
	g_free(o->ticket);
	g_free(o->template);
	g_strfreev(o->to);
	g_strfreev(o->delivered);
	g_free(o->subject);
	g_free(o->message_id);
	g_free(o->status);
	g_free(o->error);
	g_free(o->raw);
	g_free(o);
}

void
store_outbox_list_free(store_outbox **list)
{
	for (size_t i = 0; list && list[i]; i++)
		store_outbox_free(list[i]);
	g_free(list);
}

/* ---- digests ---- */

mp_status
store_digest_sent(store *s, const char *name, const char *period, int *sent)
{
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM digests WHERE name = ? AND"
	    " period = ?");
	int rc;

	*sent = 0;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, name);
	bind_text(st, 2, period);
	rc = sqlite3_step(st);
	*sent = rc == SQLITE_ROW;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MP_OK : fail(s, rc);
}

mp_status
store_digest_record(store *s, const char *name, const char *period,
    int64_t outbox_id, int64_t at)
{
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO digests (name,"
	    " period, outbox, at) VALUES (?, ?, ?, ?)");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, name);
	bind_text(st, 2, period);
	sqlite3_bind_int64(st, 3, outbox_id);
	sqlite3_bind_int64(st, 4, at);
	return step_done(s, st);
}

/* ---- IMAP checkpoints ---- */

mp_status
store_imap_get(store *s, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid)
{
	sqlite3_stmt *st = prep(s, "SELECT uidvalidity, last_uid FROM"
	    " imap_state WHERE mailbox = ?");
	int rc;

	*uidvalidity = *last_uid = 0;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, mailbox);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MP_OK : fail(s, rc);
}

mp_status
store_imap_set(store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid)
{
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO imap_state"
	    " (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	return step_done(s, st);
}

/* ---- automatic replies ---- */

mp_status
store_autoreply_count(store *s, const char *addr, int64_t since, int *count)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*) FROM autoreplies WHERE"
	    " address = ? AND at > ?");
	int rc;

	*count = 0;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, since);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MP_OK : fail(s, rc);
}

mp_status
store_autoreply_add(store *s, const char *addr, int64_t at)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO autoreplies (address, at)"
	    " VALUES (?, ?)");
	mp_status rc;

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, at);
	rc = step_done(s, st);
	if (rc)
		return rc;
	/* The window is an hour: older rows only cost space. */
	st = prep(s, "DELETE FROM autoreplies WHERE address = ? AND at <= ?");
	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, at - 3600);
	return step_done(s, st);
}

/* ---- quarantine ---- */

mp_status
store_quarantine_add(store *s, store_quarantine *q)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO quarantine (mailbox, key,"
	    " reason, from_addr, subject, status, at, raw) VALUES"
	    " (?, ?, ?, ?, ?, ?, ?, ?)");
	mp_status rc;

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, q->mailbox);
	bind_text(st, 2, q->key);
	bind_text(st, 3, q->reason);
	bind_text(st, 4, q->from);
	bind_text(st, 5, q->subject);
	bind_text(st, 6, q->status ? q->status : "held");
	sqlite3_bind_int64(st, 7, q->at);
	bind_raw(st, 8, q->raw, q->raw_len);
	rc = step_done(s, st);
	if (rc == MP_OK)
		q->id = sqlite3_last_insert_rowid(s->db);
	if (rc == MP_OK)
		rc = raw_fill(s, "quarantine", q->id, q->raw, q->raw_len);
	return rc;
}

#define QUARANTINE_COLS "id, mailbox, key, reason, from_addr, subject," \
	" status, at"

static store_quarantine *
row_quarantine_common(sqlite3_stmt *st)
{
	store_quarantine *q = g_new0(store_quarantine, 1);

	q->id = sqlite3_column_int64(st, 0);
	q->mailbox = col_text(st, 1);
	q->key = col_text(st, 2);
	q->reason = col_text(st, 3);
	q->from = col_text(st, 4);
	q->subject = col_text(st, 5);
	q->status = col_text(st, 6);
	q->at = sqlite3_column_int64(st, 7);
	return q;
}

static void *
row_quarantine(sqlite3_stmt *st)
{
	return row_quarantine_common(st);
}

mp_status
store_quarantine_list(store *s, store_quarantine ***out)
{
	sqlite3_stmt *st = prep(s, "SELECT " QUARANTINE_COLS " FROM quarantine"
	    " ORDER BY id");

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	return collect(s, st, row_quarantine, (void ***)out);
}

mp_status
store_quarantine_get(store *s, int64_t id, store_quarantine **out)
{
	sqlite3_stmt *st = prep(s, "SELECT " QUARANTINE_COLS ", raw FROM"
	    " quarantine WHERE id = ?");
	int rc;

	*out = NULL;
	if (st == NULL)
		return MP_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_quarantine *q = row_quarantine_common(st);
		int n = sqlite3_column_bytes(st, 8);

		q->raw = g_malloc((size_t)n + 1);
		if (n > 0)
			memcpy(q->raw, sqlite3_column_blob(st, 8), (size_t)n);
		q->raw[n] = '\0';
		q->raw_len = (size_t)n;
		*out = q;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MP_OK;
	return rc == SQLITE_DONE ? MP_ERR_NOT_FOUND : fail(s, rc);
}

mp_status
store_quarantine_set_status(store *s, int64_t id, const char *status,
    const char *reason)
{
	sqlite3_stmt *st = prep(s, "UPDATE quarantine SET status = ?1,"
	    " reason = ifnull(?3, reason) WHERE id = ?2");

	if (st == NULL)
		return MP_ERR_INTERNAL;
	bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, id);
	bind_text(st, 3, reason);
	return step_done(s, st);
}

void
store_quarantine_free(store_quarantine *q)
{
	if (q == NULL)
		return;
	g_free(q->mailbox);
	g_free(q->key);
	g_free(q->reason);
	g_free(q->from);
	g_free(q->subject);
	g_free(q->status);
	g_free(q->raw);
	g_free(q);
}

void
store_quarantine_list_free(store_quarantine **list)
{
	for (size_t i = 0; list && list[i]; i++)
		store_quarantine_free(list[i]);
	g_free(list);
}
