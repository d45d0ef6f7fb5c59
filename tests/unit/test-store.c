/*
 * test-store - the store's schema, queries and failure classes.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/store.h"
#include "tests/unit/tap.h"

static char *dir, *path;

static store *
open_store(void)
{
	store *s = NULL;
	char *err = NULL;
	mp_status rc = store_open(path, 200, &s, &err);

	if (rc)
		printf("# store_open: %s\n", err);
	g_free(err);
	return s;
}

static void
test_tickets(store *s)
{
	store_ticket t = { 0 }, *got = NULL, **list = NULL;
	const char *ids[] = { "<unknown@x>", "<root@x>", NULL };
	char found[16];
	char **parts = NULL;
	int has = 0;

	t.mailbox = "trialsupport";
	t.status = "waiting";
	t.priority = "normal";
	t.subject = "Robert'); DROP TABLE tickets;--";
	t.requester = "a@x.example";
	t.root_message_id = "<root@x>";
	t.created_at = t.updated_at = 100;
	t.staff_at = -1;
	is_int(store_begin(s), MP_OK, "begin");
	is_int(store_ticket_create(s, &t), MP_OK, "create ticket");
	is_str(t.id, "TS-1", "first ticket is TS-1");
	is_int(store_ticket_create(s, &t), MP_OK, "create another");
	is_str(t.id, "TS-2", "counter advances");
	is_int(store_thread_add(s, "<root@x>", "TS-1"), MP_OK, "thread add");
	is_int(store_thread_add(s, "<root@x>", "TS-1"), MP_OK,
	    "thread add is idempotent");
	is_int(store_thread_find(s, "TS-", ids, found), MP_OK, "thread find");
	is_str(found, "TS-1", "found by the second id");
	is_int(store_thread_find(s, "IE-", ids, found), MP_OK,
	    "thread find other kind");
	is_str(found, "", "prefix keeps kinds apart");
	is_int(store_participant_add(s, "TS-1", "a@x.example"), MP_OK,
	    "participant");
	store_participant_add(s, "TS-1", "b@x.example");
	store_participant_add(s, "TS-1", "a@x.example");
	is_int(store_participants(s, "TS-1", &parts), MP_OK, "participants");
	ok(parts[0] && parts[1] && !parts[2] && strcmp(parts[0],
	    "a@x.example") == 0, "participants kept once, in order");
	g_strfreev(parts);
	store_participant_has(s, "TS-1", "b@x.example", &has);
	is_int(has, 1, "participant_has");
	is_int(store_commit(s), MP_OK, "commit");

	is_int(store_ticket_get(s, "TS-1", &got), MP_OK, "get");
	is_str(got->subject, "Robert'); DROP TABLE tickets;--",
	    "SQL-looking text stored verbatim");
	ok(got->owner == NULL && got->staff_at == -1, "NULL and -1 survive");
	store_ticket_free(got);
	is_int(store_ticket_get(s, "TS-99", &got), MP_ERR_NOT_FOUND,
	    "unknown ticket is NOT_FOUND");
	is_int(store_ticket_list(s, "waiting", &list), MP_OK, "list");
	ok(list[0] && list[1] && !list[2], "two waiting tickets");
	store_ticket_list_free(list);
	is_int(store_ticket_list(s, "ended", &list), MP_OK, "list ended");
	ok(list[0] == NULL, "no ended tickets");
	store_ticket_list_free(list);
}

static void
test_savepoint(store *s)
{
	int seen = 1;

	store_begin(s);
	store_savepoint(s);
	store_processed_add(s, "mb", "<k1@x>", "TS-1 created", 1);
	store_rollback_savepoint(s);
	store_savepoint(s);
	store_processed_add(s, "mb", "<k2@x>", "TS-2 created", 1);
	store_release(s);
	store_commit(s);
	store_processed_has(s, "mb", "<k1@x>", &seen);
	is_int(seen, 0, "rolled-back savepoint left nothing");
	store_processed_has(s, "mb", "<k2@x>", &seen);
	is_int(seen, 1, "released savepoint committed");
	store_processed_has(s, "other", "<k2@x>", &seen);
	is_int(seen, 0, "keys are per mailbox");
}

static void
test_outbox(store *s)
{
	char *to[] = { "a@x.example", "b@x.example", NULL };
	store_outbox o = { 0 }, *got = NULL, **due = NULL;
	char ticket[16];
	int known = 0;

	o.ticket = "TS-1";
	o.template = "ticket-ack";
	o.to = to;
	o.subject = "[TS-1] hi";
	o.message_id = "<out1@x>";
	o.status = "queued";
	o.created_at = o.next_at = 50;
	o.raw = "From: x\r\n\r\nbody\r\n";
	o.raw_len = strlen(o.raw);
	store_begin(s);
	is_int(store_outbox_add(s, &o), MP_OK, "outbox add");
	ok(o.id > 0, "outbox id set");
	store_commit(s);
	is_int(store_outbox_get(s, o.id, &got), MP_OK, "outbox get");
	is_str(got->raw, "From: x\r\n\r\nbody\r\n", "raw bytes kept exactly");
	ok(got->to[1] && !got->to[2], "two recipients");
	store_outbox_free(got);
	store_outbox_due(s, 49, 10, &due);
	ok(due[0] == NULL, "not due before next_at");
	store_outbox_list_free(due);
	store_outbox_due(s, 50, 10, &due);
	ok(due[0] != NULL, "due at next_at");
	store_outbox_list_free(due);
	store_outbox_mark(s, o.id, "sent", NULL, 0, 60, NULL);
	store_outbox_get(s, o.id, &got);
	ok(strcmp(got->status, "sent") == 0 && got->attempts == 1 &&
	    got->sent_at == 60, "marked sent after one attempt");
	store_outbox_free(got);
	{
		const char *done[] = { "a@x.example", NULL };

		store_outbox_mark(s, o.id, "queued", "451 later", 70, 61,
		    done);
		store_outbox_get(s, o.id, &got);
		ok(got->delivered[0] && strcmp(got->delivered[0],
		    "a@x.example") == 0 && got->delivered[1] == NULL &&
		    got->attempts == 2, "delivered recipients recorded");
		store_outbox_free(got);
	}
	{
		uint32_t v = 9, u = 9;

		store_imap_get(s, "mb", &v, &u);
		ok(v == 0 && u == 0, "no IMAP checkpoint yet");
		store_imap_set(s, "mb", 1700000000u, 4000000000u);
		store_imap_get(s, "mb", &v, &u);
		ok(v == 1700000000u && u == 4000000000u, "IMAP checkpoint "
		    "keeps 32-bit unsigned values");
	}
	store_outbox_find_ticket(s, "<out1@x>", ticket, &known);
	ok(known && strcmp(ticket, "TS-1") == 0, "notice found by "
	    "Message-ID");
	store_outbox_find_ticket(s, "<nope@x>", ticket, &known);
	is_int(known, 0, "unknown notice");
}

static void
test_autoreply(store *s)
{
	int n = -1;

	store_begin(s);
	for (int i = 0; i < 3; i++)
		store_autoreply_add(s, "c@x.example", 1000 + i * 1000);
	store_commit(s);
	store_autoreply_count(s, "c@x.example", 3000 - 3600, &n);
	is_int(n, 3, "all three within the hour");
	store_autoreply_count(s, "c@x.example", 2500, &n);
	is_int(n, 1, "sliding window");
}

static void
test_quarantine(store *s)
{
	store_quarantine q = { 0 }, *got = NULL;
	const char raw[] = "a\0b";

	q.mailbox = "trialsupport";
	q.key = "sha256:00";
	q.reason = "too big";
	q.raw = (char *)raw;
	q.raw_len = 3;
	q.at = 5;
	store_begin(s);
	is_int(store_quarantine_add(s, &q), MP_OK, "quarantine add");
	store_commit(s);
	is_int(store_quarantine_get(s, q.id, &got), MP_OK, "quarantine get");
	ok(got->raw_len == 3 && got->raw[1] == '\0' && got->raw[2] == 'b',
	    "raw bytes with NUL kept whole");
	is_str(got->status, "held", "held by default");
	store_quarantine_free(got);
	store_quarantine_set_status(s, q.id, "released", NULL);
	store_quarantine_get(s, q.id, &got);
	ok(strcmp(got->status, "released") == 0 && strcmp(got->reason,
	    "too big") == 0, "status changed, reason kept");
	store_quarantine_free(got);
}

static void
test_locked(void)
{
	sqlite3 *other;
	store *s = NULL;
	char *err = NULL;

	sqlite3_open(path, &other);
	sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
	/* Opening may work (WAL readers), but writing must wait and then
	 * report a temporary failure, never corrupt or block forever. */
	if (store_open(path, 100, &s, &err) == MP_OK) {
		is_int(store_begin(s), MP_ERR_TEMP, "locked store: begin is "
		    "a temporary failure");
		store_close(s);
	} else {
		ok(err != NULL, "locked store: open is a temporary failure "
		    "(%s)", err);
	}
	g_free(err);
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
}

static void
test_newer_schema(void)
{
	char *p2 = g_build_filename(dir, "newer.db", NULL);
	sqlite3 *db;
	store *s = NULL;
	char *err = NULL;

	sqlite3_open(p2, &db);
	sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(store_open(p2, 100, &s, &err), MP_ERR_CONFIG, "a newer schema "
	    "is refused");
	ok(err && strstr(err, "newer"), "and says so (%s)", err);
	g_free(err);
	g_unlink(p2);
	g_free(p2);
}

int
main(void)
{
	store *s;

	dir = g_dir_make_tmp("store-XXXXXX", NULL);
	path = g_build_filename(dir, "t.db", NULL);
	s = open_store();
	ok(s != NULL, "open a new store");
	if (s == NULL)
		return tap_done();
	test_tickets(s);
	test_savepoint(s);
	test_outbox(s);
	test_autoreply(s);
	test_quarantine(s);
	store_close(s);
	s = open_store();
	ok(s != NULL, "reopen a migrated store");
	store_close(s);
	test_locked();
	test_newer_schema();
	{
		char *w = g_strconcat(path, "-wal", NULL);
		char *m = g_strconcat(path, "-shm", NULL);

		g_unlink(w);
		g_unlink(m);
		g_free(w);
		g_free(m);
	}
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
	return tap_done();
}
