/*
 * parse-dump - prints the normalised form of a message as JSON, in the
 * shape of the .json files in tests/fixtures/parse.  Used by the fixture test and to
 * look at a message by hand: parse-dump FILE.eml
 */
#include <glib.h>
#include <stdio.h>

#include "mailproc/json.h"
#include "parsers/message.h"

static void
strv(json_out *j, char **v)
{
	json_array_begin(j);
	for (int i = 0; v && v[i]; i++)
		json_string(j, v[i]);
	json_array_end(j);
}

int
main(int argc, char **argv)
{
	msg_limits lim;
	char *raw = NULL, *reason = NULL, *out;
	gsize len = 0;
	msg *m = NULL;
	json_out *j;
	mp_status rc;

	if (argc != 2) {
		fprintf(stderr, "usage: parse-dump FILE\n");
		return 2;
	}
	if (!g_file_get_contents(argv[1], &raw, &len, NULL)) {
		fprintf(stderr, "parse-dump: cannot read %s\n", argv[1]);
		return 1;
	}
	msg_library_init();
	msg_limits_default(&lim);
	rc = msg_parse(raw, len, &lim, &m, &reason);
	g_free(raw);
	if (rc) {
		printf("{\"error\": \"%s\", \"reason\": \"%s\"}\n",
		    mp_status_str(rc), reason);
		g_free(reason);
		return 0;
	}
	j = json_new();
	json_object_begin(j);
	json_key(j, "subject"); json_string(j, m->subject);
	json_key(j, "from"); json_string(j, m->from);
	json_key(j, "from_name"); json_string(j, m->from_name);
	json_key(j, "to"); strv(j, m->to);
	json_key(j, "cc"); strv(j, m->cc);
	json_key(j, "message_id"); json_string(j, m->message_id);
	json_key(j, "in_reply_to"); json_string(j, m->in_reply_to);
	json_key(j, "references"); strv(j, m->references);
	json_key(j, "date"); json_time(j, m->date);
	json_key(j, "body_type"); json_string(j, m->body_type);
	json_key(j, "new_text"); json_string(j, m->new_text);
	json_key(j, "attachments");
	json_array_begin(j);
	for (size_t i = 0; i < m->n_attachments; i++) {
		json_object_begin(j);
		json_key(j, "filename");
		json_string(j, m->attachments[i].filename);
		json_key(j, "content_type");
		json_string(j, m->attachments[i].content_type);
		json_key(j, "size");
		json_int(j, (int64_t)m->attachments[i].size);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "auto"); json_bool(j, m->is_auto);
	json_key(j, "dsn");
	if (m->dsn) {
		json_object_begin(j);
		json_key(j, "recipient"); json_string(j, m->dsn->recipient);
		json_key(j, "status"); json_string(j, m->dsn->status);
		json_key(j, "action"); json_string(j, m->dsn->action);
		json_key(j, "original_message_id");
		json_string(j, m->dsn->original_message_id);
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_object_end(j);
	out = json_finish(j);
	fputs(out, stdout);
	g_free(out);
	msg_free(m);
	return 0;
}
