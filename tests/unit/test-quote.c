/*
 * test-quote.c - quote_strip() and quote_tidy() against their rules.
 */
#include <string.h>

#include <glib.h>

#include "parsers/quote.h"
#include "tests/unit/tap.h"

struct row {
	const char	*name;
	const char	*input;
	const char	*expected;
};

static const struct row strip_rows[] = {
	{ "empty", "", "" },
	{ "plain text unchanged", "Hello\nWorld", "Hello\nWorld" },
	{ "On ... wrote: cuts the rest",
	    "Thanks!\n\nOn Mon, Jan 8, 2024 at 10:02 AM Bob <bob@x.example> "
	    "wrote:\n> old\n> text\n",
	    "Thanks!" },
	{ "attribution wrapped over two lines",
	    "Sure.\n\nOn Mon, Jan 8, 2024 at 10:02 AM Bob Example <\n"
	    "bob@x.example> wrote:\n\n> old",
	    "Sure." },
	{ "attribution wrapped over three lines",
	    "Ok\nOn Mon, Jan 8, 2024 at 10:02 AM\nBob Example\n"
	    "<bob@x.example> wrote:\nold, unquoted",
	    "Ok" },
	{ "attribution over four lines is not one",
	    "Ok\nOn Monday\nwe met\nand Bob\nwrote:\nend",
	    "Ok\nOn Monday\nwe met\nand Bob\nwrote:\nend" },
	{ "attribution never spans a blank line",
	    "On Monday we met.\n\nBob wrote:\nIt is fine.",
	    "On Monday we met.\n\nBob wrote:\nIt is fine." },
	{ "mid-sentence wrote: is not cut",
	    "I think Bob wrote: we should ship.\nAgreed.",
	    "I think Bob wrote: we should ship.\nAgreed." },
	{ "On inside a line is not an attribution",
	    "Yes. On Monday Bob wrote:\n> old", "Yes. On Monday Bob wrote:" },
	{ "On ... wrote: followed by text is not an attribution",
	    "On Monday Bob wrote: the report.\nOk",
	    "On Monday Bob wrote: the report.\nOk" },
	{ "attribution may start with blanks",
	    "Hi\n   On Tue, Bob wrote:   \nold, unquoted", "Hi" },
	{ "French attribution",
	    "Merci\n\nLe lun. 8 janv. 2024 \xc3\xa0 10:02, Bob <bob@x.example> "
	    "a \xc3\xa9" "crit :\n> vieux",
	    "Merci" },
	{ "French attribution with no-break space and no space",
	    "Merci\nLe 08/01/2024, Bob a \xc3\xa9" "crit\xc2\xa0:\n> a\n"
	    "Le 08/01/2024, Bob a \xc3\xa9" "crit:\n> b",
	    "Merci" },
	{ "German attribution",
	    "Danke\n\nAm 08.01.2024 um 10:02 schrieb Bob <bob@x.example>:\n"
	    "> alt",
	    "Danke" },
	{ "German attribution, schrieb: form",
	    "Danke\nAm 8. Januar 2024 schrieb: Bob\nalt", "Danke" },
	{ "Spanish attribution",
	    "Gracias\n\nEl lun, 8 ene 2024 a las 10:02, Bob (<bob@x.example>) "
	    "escribi\xc3\xb3:\n> viejo",
	    "Gracias" },
	{ "Italian attribution",
	    "Grazie\n\nIl giorno lun 8 gen 2024 alle ore 10:02 Bob "
	    "<bob@x.example> ha scritto:\n> vecchio",
	    "Grazie" },
	{ "Dutch attribution",
	    "Bedankt\n\nOp ma 8 jan. 2024 om 10:02 schreef Bob "
	    "<bob@x.example>:\n> oud",
	    "Bedankt" },
	{ "Portuguese attribution",
	    "Obrigado\n\nEm seg., 8 de jan. de 2024 \xc3\xa0s 10:02, Bob "
	    "<bob@x.example> escreveu:\n> antigo",
	    "Obrigado" },
	{ "-----Original Message-----",
	    "See below.\n\n-----Original Message-----\nFrom: Bob\n"
	    "Sent: Monday\n\nold",
	    "See below." },
	{ "Original Message with blanks, any case, two dashes",
	    "Ok\n  ----- original MESSAGE --  \nold", "Ok" },
	{ "localized Original Message lines",
	    "A\n-----Urspr\xc3\xbcngliche Nachricht-----\nalt", "A" },
	{ "French Original Message",
	    "B\n-------- Message d'origine --------\nvieux", "B" },
	{ "Spanish Original Message",
	    "C\n---Mensaje original---\nviejo", "C" },
	{ "one dash is no Original Message line",
	    "D\n-Original Message-\ne", "D\n-Original Message-\ne" },
	{ "Outlook header after a rule of underscores",
	    "Thanks\n\n________________________________\n"
	    "From: Bob <bob@x.example>\n"
	    "Sent: Monday, January 8, 2024 10:02 AM\nTo: Alice\n"
	    "Subject: Re: hi\n\nold",
	    "Thanks" },
	{ "Outlook rule with blank lines, Date: four lines below From:",
	    "Thanks\n__________\n\nFrom: Bob\nTo: Alice\nSubject: x\nCc: y\n"
	    "Date: Mon\nold",
	    "Thanks" },
	{ "Outlook rule of nine underscores is kept, cut at From:",
	    "Thanks\n_________\nFrom: Bob\nSent: Monday\nold",
	    "Thanks\n_________" },
	{ "Outlook bold header",
	    "Thanks\n*From:* Bob <bob@x.example>\n*Sent:* Monday\nold",
	    "Thanks" },
	{ "Outlook German header",
	    "Danke\nVon: Bob\nGesendet: Montag, 8. Januar 2024 10:02\nalt",
	    "Danke" },
	{ "Outlook French header",
	    "Merci\nDe : Bob\nEnvoy\xc3\xa9 : lundi 8 janvier 2024\nvieux",
	    "Merci" },
	{ "Outlook Spanish header",
	    "Gracias\nDe: Bob\nPara: Alice\nEnviado: lunes\nviejo",
	    "Gracias" },
	{ "From: without Sent: within four lines is kept",
	    "From: the team\nWe are\nhappy\nto\nannounce\nDate: soon",
	    "From: the team\nWe are\nhappy\nto\nannounce\nDate: soon" },
	{ "Gmail forward is not cut",
	    "FYI\n\n---------- Forwarded message ---------\n"
	    "From: Bob <bob@x.example>\nDate: Mon, Jan 8, 2024 at 10:02 AM\n"
	    "Subject: Hi\nTo: Alice <alice@y.example>\n\n\nOriginal text\n",
	    "FYI\n\n---------- Forwarded message ---------\n"
	    "From: Bob <bob@x.example>\nDate: Mon, Jan 8, 2024 at 10:02 AM\n"
	    "Subject: Hi\nTo: Alice <alice@y.example>\n\nOriginal text" },
	{ "Apple forward is not cut",
	    "Begin forwarded message:\n\nFrom: Bob <bob@x.example>\n"
	    "Subject: Hi\nDate: 8 January 2024 at 10:02:00 GMT\nTo: Alice\n\n"
	    "Body",
	    "Begin forwarded message:\n\nFrom: Bob <bob@x.example>\n"
	    "Subject: Hi\nDate: 8 January 2024 at 10:02:00 GMT\nTo: Alice\n\n"
	    "Body" },
	{ "quoted lines removed wherever they are",
	    "> a\nreply\n  > b\nmore\n\t>c", "reply\nmore" },
	{ "bottom-posting without attribution",
	    "> Can you ship?\n> Today?\n\nYes, tomorrow.", "Yes, tomorrow." },
	{ "interleaved answers",
	    "> q1\nA1\n\n> q2\n\nA2", "A1\n\nA2" },
	{ "bottom-posting under an attribution keeps the answer",
	    "Top line\nOn Mon, Bob wrote:\n> question?\n\nanswer",
	    "Top line\n\nanswer" },
	{ "bottom-post with a wrapped attribution and a signature",
	    "On Mon, Jan 8, 2024 at 10:02 AM Bob <b@x.example>\nwrote:\n"
	    "> q\n>\n> q2\nmy answer\n-- \nJane", "my answer" },
	{ "top-post: quote then only a signature is still cut",
	    "answer\n\nOn Mon, Bob wrote:\n> q\n-- \nBob", "answer" },
	{ "top-post: quote to the end is cut",
	    "answer\nOn Mon, Bob wrote:\n> q\n> q2\n", "answer" },
	{ "quoted attribution does not cut",
	    "new\n> On Mon, Bob wrote:\n>> old\nmore new", "new\nmore new" },
	{ "signature -- with space",
	    "Hi\n\n-- \nBob\nACME Inc.", "Hi" },
	{ "signature -- without space, before an attribution",
	    "Hi\n--\nBob\n\nOn Mon, Bob wrote:\n> x", "Hi" },
	{ "near-signatures are text",
	    "Hi\n--- \nx\n -- \ny\n--  \nz", "Hi\n---\nx\n --\ny\n--\nz" },
	{ "client footers removed",
	    "Hi\nSent from my iPhone\nSent from my Samsung Galaxy smartphone.\n"
	    "SENT FROM MY IPAD\nSent from Mail for Windows 10\n"
	    "Sent from Yahoo Mail on Android\n"
	    "Get Outlook for iOS<https://aka.ms/o0ukef>\n"
	    "  Get Outlook for Android  \nEnvoy\xc3\xa9 de mon iPhone\n"
	    "Von meinem iPhone gesendet\nEnviado desde mi iPhone\nBye",
	    "Hi\nBye" },
	{ "footer-like text is kept",
	    "I have sent from my phone before.\nSent from my\n"
	    "envoy\xc3\xa9 de mon iPhone\nVon meinem iPhone\n"
	    "Sent from my  iPhone",
	    "I have sent from my phone before.\nSent from my\n"
	    "envoy\xc3\xa9 de mon iPhone\nVon meinem iPhone\n"
	    "Sent from my  iPhone" },
	{ "footer above a quoted Apple reply",
	    "Hi\n\nSent from my iPhone\n\n> On Jan 8, 2024, at 10:02, Bob "
	    "wrote:\n>\n> old",
	    "Hi" },
	{ "CRLF input",
	    "Hi\r\n\r\nthere\r\n\r\nOn Mon, Bob wrote:\r\n> old\r\n",
	    "Hi\n\nthere" },
	{ "CRLF signature",
	    "Hi\r\n-- \r\nBob\r\n", "Hi" },
	{ "tidy: blanks, trailing whitespace, no final newline",
	    "\n\n  \nHi  \n\n\n\nthere\t\n\n", "Hi\n\nthere" },
	{ "only history gives an empty string",
	    "> a\n> b\n\nOn Mon, Bob wrote:\n", "" },
};

static const struct row tidy_rows[] = {
	{ "tidy: empty", "", "" },
	{ "tidy: CRLF and lone CR", "a\r\nb\rc\r\n", "a\nb\nc" },
	{ "tidy: blank runs, edges, trailing whitespace",
	    "\r\n \t\r\na \t\r\n\r\n\r\n\r\nb\r\n\r\n", "a\n\nb" },
	{ "tidy: strips nothing else",
	    "Hi\n> quoted\nOn Mon, Bob wrote:\n-- \nSent from my iPhone",
	    "Hi\n> quoted\nOn Mon, Bob wrote:\n--\nSent from my iPhone" },
	{ "tidy: leading spaces kept",
	    "  indented\n\tcode", "  indented\n\tcode" },
};

static void
run_rows(const struct row *rows, size_t n, char *(*fn)(const char *))
{
	size_t i;
	char *got;

	for (i = 0; i < n; i++) {
		got = fn(rows[i].input);
		is_str(got, rows[i].expected, rows[i].name);
		g_free(got);
	}
}

/* Big inputs: the result, and a time bound that only a superlinear
 * algorithm misses (linear is well under a second, even with ASan). */
static void
run_big(void)
{
	static const char chunk[] =
	    "On the fence about this one, wrote: nothing\n"
	    "From: the team\nnot a header\n> quoted\nSent from my iPhone\n"
	    "Le plan a \xc3\xa9" "crit\nplain text line\n";
	static const char kept[] =
	    "On the fence about this one, wrote: nothing\n"
	    "From: the team\nnot a header\n"
	    "Le plan a \xc3\xa9" "crit\nplain text line";
	GString *in, *want;
	char *got;
	gint64 t0, dt;

	in = g_string_new(NULL);
	want = g_string_new(NULL);
	while (in->len < 10 * 1024 * 1024) {
		g_string_append(in, chunk);
		if (want->len > 0)
			g_string_append_c(want, '\n');
		g_string_append(want, kept);
	}
	t0 = g_get_monotonic_time();
	got = quote_strip(in->str);
	dt = g_get_monotonic_time() - t0;
	is_str(strcmp(got, want->str) == 0 ? "same" : got, "same",
	    "10 MB of near-misses: nothing cut");
	ok(dt < 10 * G_USEC_PER_SEC, "10 MB in %.2f s", dt / 1e6);
	g_free(got);

	g_string_truncate(in, 0);
	g_string_append(in, "On ");
	while (in->len < 1024 * 1024)
		g_string_append(in, "Monday Bob schrieb Am On ");
	g_string_append(in, "wrote:");
	t0 = g_get_monotonic_time();
	got = quote_strip(in->str);
	dt = g_get_monotonic_time() - t0;
	ok(strcmp(got, in->str) == 0,
	    "1 MB line is never an attribution: kept");
	ok(dt < 10 * G_USEC_PER_SEC, "1 MB line in %.2f s", dt / 1e6);
	g_free(got);

	/* "On \nOn \nx wrote:" is the one attribution, at its first line. */
	g_string_truncate(in, 0);
	g_string_truncate(want, 0);
	while (in->len < 1024 * 1024) {
		g_string_append(in, "On \n");
		if (in->len > 8)
			g_string_append(want, want->len > 0 ? "\nOn" : "On");
	}
	g_string_append(in, "x wrote:");
	got = quote_strip(in->str);
	ok(strcmp(got, want->str) == 0,
	    "1 MB of short lead lines: cut where the three-line join matches");
	g_free(got);

	g_string_free(in, TRUE);
	g_string_free(want, TRUE);
}

int
main(void)
{
	char *got;

	run_rows(strip_rows, G_N_ELEMENTS(strip_rows), quote_strip);
	run_rows(tidy_rows, G_N_ELEMENTS(tidy_rows), quote_tidy);

	got = quote_strip(NULL);
	is_str(got, "", "quote_strip(NULL) gives an empty string");
	g_free(got);
	got = quote_tidy(NULL);
	is_str(got, "", "quote_tidy(NULL) gives an empty string");
	g_free(got);

	run_big();
	return tap_done();
}
