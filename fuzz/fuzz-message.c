/*
 * fuzz-message - the message normaliser: msg_key(), msg_peek() and
 * msg_parse() on raw bytes (not NUL-terminated, as IMAP hands them over),
 * then msg_header_safe() on what came out.
 */
#include <stdio.h>

#include "fuzz/fuzz.h"
#include "parsers/message.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_glib_setup();
	msg_library_init();
	return 0;
}

/*
 * message.h promises that every string of an msg is valid UTF-8 without
 * control characters except LF (and TAB in text): abort() on any other,
 * so the fuzzer reports it like a crash.  NULL is allowed.
 */
static void
check(const char *what, const char *s, int text)
{
	if (s == NULL)
		return;
	if (!g_utf8_validate(s, -1, NULL)) {
		fprintf(stderr, "fuzz-message: %s is not UTF-8\n", what);
		abort();
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n' && !(text && *p == '\t')) ||
		    *p == 0x7f) {
			fprintf(stderr, "fuzz-message: %s has control "
			    "character 0x%02x\n", what, *p);
			abort();
		}
}

static void
check_v(const char *what, char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		check(what, v[i], 0);
}

/* Reads every string of m (ASan sees a bad one) and checks it. */
static void
walk(const msg *m)
{
	check("subject", m->subject, 0);
	check("from", m->from, 0);
	check("from_name", m->from_name, 0);
	check_v("to", m->to);
	check_v("cc", m->cc);
	check("message_id", m->message_id, 0);
	check("in_reply_to", m->in_reply_to, 0);
	check_v("references", m->references);
	check("text", m->text, 1);
	check("new_text", m->new_text, 1);
	for (size_t i = 0; m->attached_texts && m->attached_texts[i]; i++)
		check("attached text", m->attached_texts[i], 1);
	for (size_t i = 0; i < m->n_attachments; i++) {
		check("attachment filename", m->attachments[i].filename, 0);
		check("attachment type", m->attachments[i].content_type, 0);
	}
	check("auth_results", m->auth_results, 0);
	if (m->dsn) {
		check("dsn recipient", m->dsn->recipient, 0);
		check("dsn status", m->dsn->status, 0);
		check("dsn action", m->dsn->action, 0);
		check("dsn message id", m->dsn->original_message_id, 0);
	}
	check("key", m->key, 0);
	if (m->from)
		(void)(strlen(msg_addr_domain(m->from)) +
		    (size_t)msg_addr_is_robot(m->from));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	char key[72], *from = NULL, *subject = NULL, *reason = NULL, *safe;
	msg_limits lim;
	msg *m = NULL;

	msg_key(raw, size, key);
	msg_peek(raw, size, &from, &subject);
	g_free(from);
	g_free(subject);

	msg_limits_default(&lim);
	if (msg_parse(raw, size, &lim, &m, &reason) == MP_OK) {
		walk(m);
		safe = msg_header_safe(m->subject, 200);
		g_free(safe);
		msg_free(m);
	} else {
		g_free(reason);
	}
	return 0;
}
