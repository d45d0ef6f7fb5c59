/*
 * test-imap - the IMAP transport against throw-away Dovecot servers on
 * 127.0.0.1 (tests/system/dovecot.sh): a full one, one that plays an old
 * server without IDLE and MOVE (UIDPLUS only, and a certificate without
 * 127.0.0.1 in it) and one with neither (whose users outside its passwd
 * file meet an authentication backend that is down).
 *
 * Needs root (Dovecot runs mail as nobody); prints "1..0 # SKIP" when it
 * is not root or Dovecot cannot be installed.  Every server is stopped at
 * exit, and by a watcher shell should this process die.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "mailproc/imap.h"
#include "tests/unit/tap.h"

#define SEC	G_USEC_PER_SEC

static const char *top;
static char *dir;		/* holds main/, uidplus/, plain/ and msgs/ */
static int started;
static int port[3], tls_port[3];	/* main, uidplus, plain */
static char pin[65];
static char *cert, *other_cert, *name_cert;
static int msg_seq;

struct got {
	uint32_t	 uid;
	char		*raw;	/* NULL when oversize */
	size_t		 len;
	size_t		 size;
};

struct sink {
	GArray		*got;	/* struct got */
	int		 stop_after;	/* 0: never */
	mp_status	 stop_with;
};

/* Prints text as TAP diagnostics, "# " before each line. */
static void
diag(const char *text)
{
	char **lines = g_strsplit(text, "\n", -1);
	int i;

	for (i = 0; lines[i] != NULL; i++)
		if (lines[i][0] != '\0')
			printf("# %s\n", lines[i]);
	g_strfreev(lines);
}

/* Runs script in bash with dovecot.sh sourced, D set to dir and TESTPID
 * to our pid; 0 on success.  *out (may be NULL) gets stdout. */
static int
sh(const char *script, char **out)
{
	char *argv[8], *err = NULL, pid[32];
	GError *gerr = NULL;
	int status = -1;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	argv[0] = "bash";
	argv[1] = "-c";
	argv[2] = g_strconcat(". \"$1/tests/system/dovecot.sh\" || exit 1; "
	    "D=\"$2\"; TESTPID=\"$3\"; ", script, NULL);
	argv[3] = "test-imap";
	argv[4] = (char *)top;
	argv[5] = dir;
	argv[6] = pid;
	argv[7] = NULL;
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
	    out, &err, &status, &gerr)) {
		printf("# spawn: %s\n", gerr->message);
		g_error_free(gerr);
		status = -1;
	} else if (status != 0 && err != NULL)
		diag(err);
	g_free(err);
	g_free(argv[2]);
	return status;
}

static void
stop_servers(void)
{
	if (!started)
		return;
	started = 0;
	sh("for x in main uidplus plain; do dovecot_stop \"$D/$x\" & done; "
	    "wait; rm -rf \"$D\"", NULL);
}

static void
deliver(const char *user, const char *name, const char *text, size_t len,
    const char *server)
{
	char *path, *cmd;

	path = g_strdup_printf("%s/msgs/%s", dir, name);
	if (!g_file_set_contents(path, text, (gssize)len, NULL))
		printf("# cannot write %s\n", path);
	cmd = g_strdup_printf("dovecot_deliver \"$D/%s\" %s \"%s\"", server,
	    user, path);
	if (sh(cmd, NULL) != 0)
		printf("# delivery of %s failed\n", name);
	g_free(cmd);
	g_free(path);
}

/* A CRLF message with a unique X-Seq, padded to at least pad bytes. */
static char *
make_msg(int *seq, size_t pad, size_t *len)
{
	GString *s = g_string_new(NULL);

	*seq = ++msg_seq;
	g_string_append_printf(s, "From: Alice <alice@example.org>\r\n"
	    "To: support@example.com\r\nSubject: test %d\r\n"
	    "Message-ID: <%d.test-imap@example.org>\r\nX-Seq: %d\r\n\r\n"
	    "Hello number %d.\r\n", *seq, *seq, *seq, *seq);
	while (s->len < pad)
		g_string_append(s, "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\r\n");
	*len = s->len;
	return g_string_free(s, FALSE);
}

static mp_status
collect(void *ctx, uint32_t uid, const char *raw, size_t len, size_t size)
{
	struct sink *k = ctx;
	struct got g;

	g.uid = uid;
	g.raw = raw != NULL ? g_memdup2(raw, len) : NULL;
	g.len = len;
	g.size = size;
	g_array_append_val(k->got, g);
	if (k->stop_after > 0 && (int)k->got->len >= k->stop_after)
		return k->stop_with;
	return MP_OK;
}

static const imap_fetch_cbs collect_cbs = { .message = collect };

static void
sink_init(struct sink *k)
{
	memset(k, 0, sizeof(*k));
	k->got = g_array_new(FALSE, FALSE, sizeof(struct got));
}

static void
sink_clear(struct sink *k)
{
	guint i;

	for (i = 0; i < k->got->len; i++)
		g_free(g_array_index(k->got, struct got, i).raw);
	g_array_set_size(k->got, 0);
}

static void
sink_free(struct sink *k)
{
	sink_clear(k);
	g_array_free(k->got, TRUE);
}

static struct got *
got_at(struct sink *k, guint i)
{
	return &g_array_index(k->got, struct got, i);
}

static imap_conf
conf_for(int server, const char *tls)
{
	imap_conf c = { 0 };

	c.host = "127.0.0.1";
	c.port = strcmp(tls, "implicit") == 0 ? tls_port[server] :
	    port[server];
	c.tls = tls;
	c.user = "trialsupport";
	c.password = "secret";
	c.folder = "INBOX";
	c.processed_folder = "Processed";
	c.timeout_s = 10;
	c.max_message_bytes = 1024 * 1024;
	c.fetch_chunk_bytes = 8 * 1024 * 1024;
	return c;
}

static imap *
open_ok(const imap_conf *c, const char *name)
{
	imap *m = NULL;
	char *err = NULL;
	mp_status st = imap_open(c, &m, &err);

	if (!is_int(st, MP_OK, name))
		printf("#   %s\n", err ? err : "(no error text)");
	g_free(err);
	return m;
}

/* Opens c expecting a failure, closes any session; returns the status,
 * *err_out (may be NULL) gets the message. */
static mp_status
open_fail(const imap_conf *c, char **err_out)
{
	imap *m = NULL;
	char *err = NULL;
	mp_status st = imap_open(c, &m, &err);

	imap_close(m);
	if (err_out != NULL)
		*err_out = err;
	else
		g_free(err);
	return st;
}

static int
count(const char *server, const char *user, const char *folder)
{
	char *cmd, *out = NULL;
	int n = -1;

	cmd = g_strdup_printf("dovecot_count \"$D/%s\" %s %s", server, user,
	    folder);
	if (sh(cmd, &out) == 0)
		n = atoi(out);
	g_free(out);
	g_free(cmd);
	return n;
}

static mp_status
fetch(imap *m, uint32_t after, struct sink *k)
{
	char *err = NULL;
	mp_status st;

	sink_clear(k);
	st = imap_fetch_new(m, after, &collect_cbs, k, &err);
	if (st != MP_OK)
		printf("# fetch: %s\n", err ? err : "(no error text)");
	g_free(err);
	return st;
}

static int
start_servers(void)
{
	char *out = NULL;
	int n, rc;

	rc = sh("set -e; "
	    "dovecot_start \"$D/main\" >&2; "
	    "echo $DOVECOT_PORT $DOVECOT_TLS_PORT; "
	    /* A certificate without the IP: the name check must fail. */
	    "mkdir -p \"$D/uidplus\"; "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -days 2 -subj /CN=localhost "
	    "-addext subjectAltName=DNS:localhost "
	    "-keyout \"$D/uidplus/key.pem\" -out \"$D/uidplus/cert.pem\" "
	    ">/dev/null 2>&1; "
	    "DOVECOT_EXTRA_CONF='imap_capability = IMAP4rev1 LITERAL+ UIDPLUS' "
	    "dovecot_start \"$D/uidplus\" >&2; "
	    "echo $DOVECOT_PORT $DOVECOT_TLS_PORT; "
	    /* Users not in passwd meet a passdb that is "down". */
	    "printf '#!/bin/sh\\nexit 111\\n' >\"$D/authdown\"; "
	    "chmod 755 \"$D/authdown\"; "
	    "DOVECOT_EXTRA_CONF=\"imap_capability = IMAP4rev1 LITERAL+\n"
	    "passdb {\n driver = checkpassword\n args = $D/authdown\n}\" "
	    "dovecot_start \"$D/plain\" >&2; "
	    "echo $DOVECOT_PORT $DOVECOT_TLS_PORT; "
	    "openssl x509 -in \"$D/main/cert.pem\" -outform DER | "
	    "sha256sum | cut -c1-64; "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -days 2 -subj /CN=localhost "
	    "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
	    "-keyout \"$D/other-key.pem\" -out \"$D/other.pem\" "
	    ">/dev/null 2>&1; "
	    "mkdir \"$D/msgs\"; "
	    /* Stops the servers should this process die without exit(). */
	    "( i=0; while [ $i -lt 1200 ] && kill -0 \"$TESTPID\"; do "
	    "sleep 0.5; i=$((i + 1)); done; "
	    "for x in main uidplus plain; do dovecot_stop \"$D/$x\" & done; "
	    "wait; rm -rf \"$D\" ) </dev/null >/dev/null 2>&1 &",
	    &out);
	started = 1;
	if (rc != 0 || out == NULL) {
		g_free(out);
		return -1;
	}
	n = sscanf(out, "%d %d %d %d %d %d %64s", &port[0], &tls_port[0],
	    &port[1], &tls_port[1], &port[2], &tls_port[2], pin);
	g_free(out);
	return n == 7 ? 0 : -1;
}

static void
test_plain(void)
{
	struct sink k;
	imap_conf c = conf_for(0, "none");
	imap *m;
	char *text[3] = { NULL, NULL, NULL };
	size_t len[3];
	int seq[3], i, order = 1, exact = 1;
	uint32_t last = 0, uids[16];
	char *err = NULL;

	sink_init(&k);
	m = open_ok(&c, "open with tls none");
	if (m == NULL)
		goto done;
	ok(imap_uidvalidity(m) != 0, "uidvalidity is non-zero (%u)",
	    imap_uidvalidity(m));
	ok(imap_has_idle(m) && imap_has_move(m), "Dovecot offers IDLE and MOVE");
	ok(imap_peer_sha256(m) == NULL, "no certificate without TLS");

	/* Delivered after SELECT: imap_fetch_new must still see them. */
	for (i = 0; i < 3; i++) {
		char name[32];

		text[i] = make_msg(&seq[i], 300 * (size_t)(i + 1), &len[i]);
		snprintf(name, sizeof(name), "plain-%d.eml", i);
		deliver("trialsupport", name, text[i], len[i], "main");
	}
	is_int(fetch(m, 0, &k), MP_OK, "fetch after 0");
	is_int(k.got->len, 3, "three messages");
	for (i = 0; i < 3 && i < (int)k.got->len; i++) {
		struct got *g = got_at(&k, (guint)i);

		if (i > 0 && g->uid <= got_at(&k, (guint)i - 1)->uid)
			order = 0;
		if (g->raw == NULL || g->len != len[i] ||
		    memcmp(g->raw, text[i], len[i]) != 0 || g->size != len[i])
			exact = 0;
		last = g->uid;
	}
	ok(order, "in UID order");
	ok(exact, "byte-exact, size is the length");
	is_int(fetch(m, last, &k), MP_OK, "fetch after the last UID");
	is_int(k.got->len, 0, "nothing new (the highest UID is filtered out)");

	/* A callback's failure stops the fetch and comes back. */
	sink_clear(&k);
	k.stop_after = 1;
	k.stop_with = MP_ERR_IO;
	is_int(imap_fetch_new(m, 0, &collect_cbs, &k, &err), MP_ERR_IO,
	    "a failing callback stops the fetch with its status");
	is_int(k.got->len, 1, "after one message");
	g_free(err);
	err = NULL;
	k.stop_after = 0;

	/* Oversize: small, big, small with a 2000-byte limit. */
	{
		imap_conf c2 = conf_for(0, "none");
		imap *m2;
		char *t[3];
		size_t l[3];
		int s[3], j;

		c2.max_message_bytes = 2000;
		for (j = 0; j < 3; j++) {
			char name[32];

			t[j] = make_msg(&s[j], j == 1 ? 5000 : 100, &l[j]);
			snprintf(name, sizeof(name), "size-%d.eml", j);
			deliver("trialsupport", name, t[j], l[j], "main");
		}
		m2 = open_ok(&c2, "open with max_message_bytes 2000");
		if (m2 != NULL) {
			is_int(fetch(m2, last, &k), MP_OK, "fetch with a size limit");
			is_int(k.got->len, 3, "all three reported");
			if (k.got->len == 3) {
				ok(got_at(&k, 0)->raw != NULL &&
				    got_at(&k, 0)->len == l[0] &&
				    got_at(&k, 2)->raw != NULL &&
				    memcmp(got_at(&k, 2)->raw, t[2], l[2]) == 0,
				    "the small ones come with their bytes");
				ok(got_at(&k, 1)->raw == NULL &&
				    got_at(&k, 1)->len == 0,
				    "the big one comes with raw NULL, len 0");
				is_int(got_at(&k, 1)->size, l[1],
				    "and its size");
				ok(got_at(&k, 0)->uid < got_at(&k, 1)->uid &&
				    got_at(&k, 1)->uid < got_at(&k, 2)->uid,
				    "still in UID order");
			}
			imap_close(m2);
		}
		for (j = 0; j < 3; j++)
			g_free(t[j]);
	}

	/* Everything so far to Processed. */
	is_int(fetch(m, 0, &k), MP_OK, "fetch all");
	for (i = 0; i < (int)k.got->len && i < 16; i++)
		uids[i] = got_at(&k, (guint)i)->uid;
	is_int(i, 6, "six messages in INBOX");
	is_int(imap_mark_processed(m, uids, (size_t)i, &err), MP_OK,
	    "mark_processed (MOVE)");
	if (err != NULL)
		printf("#   %s\n", err);
	g_free(err);
	err = NULL;
	is_int(count("main", "trialsupport", "INBOX"), 0, "INBOX is empty");
	is_int(count("main", "trialsupport", "Processed"), 6,
	    "Processed, created on the way, holds them");
	{
		char *out = NULL;

		sh("ls \"$(dovecot_maildir \"$D/main\" trialsupport Processed)"
		    "/cur\" | grep -c ':2,[A-Za-z]*S'", &out);
		is_int(out != NULL ? atoi(out) : -1, 6, "all six are \\Seen");
		g_free(out);
	}
	is_int(fetch(m, 0, &k), MP_OK, "fetch after the move");
	is_int(k.got->len, 0, "nothing left");
	is_int(imap_mark_processed(m, uids, 0, &err), MP_OK,
	    "mark_processed of nothing");
	g_free(err);
	err = NULL;
	imap_close(m);

	/* A repeat after a crash must not fail: the UIDs are gone. */
	m = open_ok(&c, "reopen");
	if (m != NULL) {
		is_int(imap_mark_processed(m, uids, 6, &err), MP_OK,
		    "marking moved UIDs again is harmless");
		if (err != NULL)
			printf("#   %s\n", err);
		g_free(err);
		err = NULL;
		is_int(count("main", "trialsupport", "Processed"), 6,
		    "Processed still holds six");
		imap_close(m);
	}
done:
	for (i = 0; i < 3; i++)
		g_free(text[i]);
	sink_free(&k);
}

static void
test_tls(void)
{
	imap_conf c;
	imap *m;
	char *err = NULL, colons[3 * 32];
	int64_t t0;
	int fd, i, saved;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	c = conf_for(0, "implicit");
	c.ca_file = cert;
	m = open_ok(&c, "implicit TLS, ca_file is the server's certificate");
	if (m != NULL)
		is_str(imap_peer_sha256(m), pin, "peer SHA-256 as openssl says");
	imap_close(m);

	c = conf_for(0, "starttls");
	c.ca_file = cert;
	m = open_ok(&c, "STARTTLS, ca_file is the server's certificate");
	if (m != NULL)
		is_str(imap_peer_sha256(m), pin, "same certificate after STARTTLS");
	imap_close(m);

	c = conf_for(0, "implicit");
	c.ca_file = other_cert;
	is_int(open_fail(&c, &err), MP_ERR_CONFIG,
	    "another self-signed certificate as CA: configuration error");
	ok(err != NULL && g_str_has_prefix(err,
	    "certificate for 127.0.0.1 not trusted: "),
	    "message names the certificate");
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;

	c = conf_for(0, "implicit");
	is_int(open_fail(&c, &err), MP_ERR_CONFIG,
	    "self-signed certificate against the system trust store: "
	    "configuration error");
	ok(err != NULL && g_str_has_prefix(err,
	    "certificate for 127.0.0.1 not trusted: "), "message says so");
	g_free(err);
	err = NULL;

	c = conf_for(1, "implicit");
	c.ca_file = name_cert;
	is_int(open_fail(&c, &err), MP_ERR_CONFIG,
	    "trusted certificate without 127.0.0.1 in it: configuration error");
	ok(err != NULL && g_str_has_prefix(err,
	    "certificate for 127.0.0.1 not trusted: ") &&
	    strstr(err, "name") != NULL, "message says the name is wrong");
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;

	c = conf_for(0, "starttls");
	c.ca_file = other_cert;
	is_int(open_fail(&c, &err), MP_ERR_CONFIG,
	    "STARTTLS with the wrong CA: configuration error");
	g_free(err);
	err = NULL;

	c = conf_for(0, "implicit");
	c.pin_sha256 = pin;
	m = open_ok(&c, "the right pin, system trust store not needed");
	imap_close(m);

	for (i = 0; i < 32; i++)
		snprintf(colons + 3 * i, 4, "%c%c%s",
		    g_ascii_toupper(pin[2 * i]), g_ascii_toupper(pin[2 * i + 1]),
		    i < 31 ? ":" : "");
	c.pin_sha256 = colons;
	m = open_ok(&c, "the right pin in openssl's colon form");
	imap_close(m);

	c.pin_sha256 = "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff";
	is_int(open_fail(&c, &err), MP_ERR_CONFIG,
	    "wrong pin: configuration error");
	ok(err != NULL && g_str_has_prefix(err, "pin mismatch: server has "
	    "SHA-256 ") && strstr(err, pin) != NULL,
	    "message gives the server's SHA-256");
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;

	c = conf_for(0, "none");
	c.password = "wrong";
	t0 = g_get_monotonic_time();
	is_int(open_fail(&c, &err), MP_ERR_CONFIG,
	    "wrong password: configuration error");
	ok(err != NULL && strstr(err, "login as trialsupport rejected") != NULL,
	    "message says the login was rejected");
	printf("#   %s (%.2f s)\n", err ? err : "NULL",
	    (double)(g_get_monotonic_time() - t0) / SEC);
	g_free(err);
	err = NULL;

	c = conf_for(0, "none");
	c.folder = "NoSuchFolder";
	is_int(open_fail(&c, &err), MP_ERR_CONFIG,
	    "unknown folder: configuration error");
	g_free(err);
	err = NULL;

	/* A port nobody listens on: bind one, learn it, close it. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		printf("# cannot find a closed port: %s\n", g_strerror(errno));
	if (fd >= 0)
		close(fd);
	c = conf_for(0, "none");
	c.port = ntohs(sa.sin_port);
	t0 = g_get_monotonic_time();
	is_int(open_fail(&c, &err), MP_ERR_TEMP, "closed port: temporary");
	ok(g_get_monotonic_time() - t0 < 2 * SEC, "and quickly");
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;

	/* A listener that never answers: the greeting times out. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = 0;
	sl = sizeof(sa);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		printf("# cannot listen: %s\n", g_strerror(errno));
	c = conf_for(0, "none");
	c.port = ntohs(sa.sin_port);
	c.timeout_s = 1;
	t0 = g_get_monotonic_time();
	is_int(open_fail(&c, &err), MP_ERR_TEMP, "silent server: temporary");
	ok(g_get_monotonic_time() - t0 < 3 * SEC, "after the 1 s timeout "
	    "(%.2f s)", (double)(g_get_monotonic_time() - t0) / SEC);
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;
	if (fd >= 0)
		close(fd);

	/* libetpan prints GnuTLS's complaint to stderr: keep TAP clean. */
	fflush(stderr);
	saved = dup(2);
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0 && saved >= 0)
		dup2(fd, 2);
	c = conf_for(0, "implicit");
	c.port = port[0];	/* TLS to the plain port */
	c.ca_file = cert;
	c.timeout_s = 2;
	t0 = g_get_monotonic_time();
	is_int(open_fail(&c, &err), MP_ERR_TEMP,
	    "implicit TLS against a plain port: temporary");
	ok(g_get_monotonic_time() - t0 < 4 * SEC, "within the timeout");
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (fd >= 0)
		close(fd);
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;

	c = conf_for(0, "bogus");
	is_int(open_fail(&c, NULL), MP_ERR_CONFIG, "unknown tls value");
}

/* Waits on m while a child delivers a message after 0.5 s. */
static void
wait_for_delivery(imap *m, const char *server, const char *name)
{
	struct sink k;
	char *argv[8], *script, *path, *text, *err = NULL, pid[32];
	size_t len;
	int seq, woken = -1, status;
	uint32_t last = 0;
	int64_t t0, dt;
	GPid child;
	GError *gerr = NULL;
	mp_status st;

	sink_init(&k);
	fetch(m, 0, &k);	/* clears what SELECT announced */
	if (k.got->len > 0)
		last = got_at(&k, k.got->len - 1)->uid;
	text = make_msg(&seq, 100, &len);
	path = g_strdup_printf("%s/msgs/%s", dir, name);
	g_file_set_contents(path, text, (gssize)len, NULL);
	script = g_strdup_printf(". \"$1/tests/system/dovecot.sh\"; sleep 0.5; "
	    "dovecot_deliver \"$2/%s\" trialsupport \"%s\"", server, path);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	argv[0] = "bash";
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = "test-imap";
	argv[4] = (char *)top;
	argv[5] = dir;
	argv[6] = pid;
	argv[7] = NULL;
	if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
	    G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &child, &gerr)) {
		printf("# spawn: %s\n", gerr->message);
		g_error_free(gerr);
		goto done;
	}
	t0 = g_get_monotonic_time();
	st = imap_wait(m, 10, -1, &woken, &err);
	dt = g_get_monotonic_time() - t0;
	waitpid(child, &status, 0);
	g_spawn_close_pid(child);
	is_int(st, MP_OK, "imap_wait during a delivery");
	if (err != NULL)
		printf("#   %s\n", err);
	is_int(woken, 1, "woken by EXISTS");
	ok(dt >= SEC * 4 / 10 && dt < 3 * SEC,
	    "after the delivery, within 3 s (%.2f s)", (double)dt / SEC);
	is_int(fetch(m, last, &k), MP_OK, "fetch after waking");
	is_int(k.got->len, 1, "the delivered message");
	if (k.got->len == 1)
		ok(got_at(&k, 0)->len == len &&
		    memcmp(got_at(&k, 0)->raw, text, len) == 0, "byte-exact");
done:
	g_free(err);
	g_free(script);
	g_free(path);
	g_free(text);
	sink_free(&k);
}

static void
test_idle(void)
{
	imap_conf c = conf_for(0, "none");
	struct sink k;
	imap *m;
	char *err = NULL;
	int woken = -1, pfd[2];
	int64_t t0, dt;

	sink_init(&k);
	c.processed_folder = NULL;
	m = open_ok(&c, "open for IDLE");
	if (m == NULL)
		goto done;
	woken = -1;
	is_int(imap_wait(m, 10, -1, &woken, &err), MP_OK,
	    "wait right after SELECT");
	is_int(woken, 1, "returns at once: unfetched mail may be there");
	g_free(err);
	err = NULL;

	wait_for_delivery(m, "main", "idle-1.eml");

	woken = -1;
	t0 = g_get_monotonic_time();
	is_int(imap_wait(m, 2, -1, &woken, &err), MP_OK, "wait, nothing comes");
	dt = g_get_monotonic_time() - t0;
	is_int(woken, 0, "not woken");
	ok(dt >= 19 * SEC / 10 && dt < 4 * SEC, "after 2 s (%.2f s)",
	    (double)dt / SEC);
	g_free(err);
	err = NULL;

	if (pipe(pfd) == 0) {
		if (write(pfd[1], "x", 1) != 1)
			printf("# write: %s\n", g_strerror(errno));
		woken = -1;
		t0 = g_get_monotonic_time();
		is_int(imap_wait(m, 10, pfd[0], &woken, &err), MP_OK,
		    "wait with a readable wake_fd");
		dt = g_get_monotonic_time() - t0;
		is_int(woken, 0, "not woken by mail");
		ok(dt < SEC, "returns early (%.2f s)", (double)dt / SEC);
		g_free(err);
		err = NULL;
		close(pfd[0]);
		close(pfd[1]);
	}
	is_int(fetch(m, 0, &k), MP_OK, "session usable after the waits");
	imap_close(m);

	c = conf_for(0, "implicit");
	c.ca_file = cert;
	c.processed_folder = NULL;
	m = open_ok(&c, "open for IDLE over TLS");
	if (m != NULL) {
		wait_for_delivery(m, "main", "idle-2.eml");
		imap_close(m);
	}
done:
	sink_free(&k);
}

static void
test_bulk(void)
{
	imap_conf c = conf_for(0, "implicit");
	struct sink k;
	imap *m = NULL;
	char *text[200], *script;
	size_t len[200];
	int seq[200], first, i, n, seen[200], order = 1, exact = 1, dup = 0;
	int64_t t0;

	sink_init(&k);
	for (i = 0; i < 200; i++) {
		char *path = g_strdup_printf("%s/msgs/bulk-%03d.eml", dir, i);

		text[i] = make_msg(&seq[i], 200 + (size_t)(i * 97 % 6000),
		    &len[i]);
		g_file_set_contents(path, text[i], (gssize)len[i], NULL);
		g_free(path);
		seen[i] = 0;
	}
	first = seq[0];
	script = g_strdup("for f in \"$D\"/msgs/bulk-*.eml; do "
	    "dovecot_deliver \"$D/main\" implementation \"$f\" || exit 1; done");
	is_int(sh(script, NULL), 0, "200 messages delivered");
	g_free(script);

	c.ca_file = cert;
	c.user = "implementation";
	c.fetch_chunk_bytes = 64 * 1024;
	m = open_ok(&c, "open implementation over TLS, 64 KiB chunks");
	if (m == NULL)
		goto done;
	t0 = g_get_monotonic_time();
	is_int(fetch(m, 0, &k), MP_OK, "fetch 200 messages in chunks");
	printf("# fetched in %.3f s\n",
	    (double)(g_get_monotonic_time() - t0) / SEC);
	is_int(k.got->len, 200, "all 200");
	for (i = 0; i < (int)k.got->len; i++) {
		struct got *g = got_at(&k, (guint)i);
		const char *x = g->raw ? g_strstr_len(g->raw, (gssize)g->len,
		    "X-Seq: ") : NULL;

		n = x != NULL ? atoi(x + 7) - first : -1;
		if (i > 0 && g->uid <= got_at(&k, (guint)i - 1)->uid)
			order = 0;
		if (n < 0 || n >= 200 || g->len != len[n] ||
		    memcmp(g->raw, text[n], len[n]) != 0) {
			exact = 0;
			continue;
		}
		if (seen[n]++)
			dup = 1;
	}
	ok(order, "in UID order");
	ok(exact && !dup, "each byte-exact, each once");
	imap_close(m);

	c.fetch_chunk_bytes = 1;
	m = open_ok(&c, "open with chunks smaller than any message");
	if (m == NULL)
		goto done;
	is_int(fetch(m, 0, &k), MP_OK, "fetch one message at a time");
	is_int(k.got->len, 200, "still all 200");
	imap_close(m);
done:
	for (i = 0; i < 200; i++)
		g_free(text[i]);
	sink_free(&k);
}

/* A server without MOVE (and IDLE), with or without UIDPLUS. */
static void
test_old_server(int server, const char *name)
{
	imap_conf c = conf_for(server, "none");
	const char *dirname = server == 1 ? "uidplus" : "plain";
	struct sink k;
	imap *m;
	char *text, *err = NULL, fname[32];
	uint32_t uid;
	size_t len;
	int seq, woken = -1, i;

	sink_init(&k);
	for (i = 0; i < 2; i++) {
		snprintf(fname, sizeof(fname), "%s-%d.eml", dirname, i);
		text = make_msg(&seq, 100, &len);
		deliver("trialsupport", fname, text, len, dirname);
		g_free(text);
	}
	m = open_ok(&c, name);
	if (m == NULL)
		goto done;
	ok(!imap_has_idle(m) && !imap_has_move(m), "no IDLE, no MOVE");
	is_int(imap_wait(m, 5, -1, &woken, &err), MP_ERR_NOT_FOUND,
	    "imap_wait without IDLE: not found, at once");
	g_free(err);
	err = NULL;
	is_int(fetch(m, 0, &k), MP_OK, "fetch");
	is_int(k.got->len, 2, "two messages");
	if (k.got->len == 2) {
		uid = got_at(&k, 0)->uid;
		is_int(imap_mark_processed(m, &uid, 1, &err), MP_OK,
		    server == 1 ? "mark one (UID COPY, UID EXPUNGE)" :
		    "mark one (COPY, EXPUNGE)");
		if (err != NULL)
			printf("#   %s\n", err);
		g_free(err);
		err = NULL;
		is_int(count(dirname, "trialsupport", "INBOX"), 1,
		    "one left in INBOX");
		is_int(count(dirname, "trialsupport", "Processed"), 1,
		    "one in Processed");
		is_int(fetch(m, 0, &k), MP_OK, "fetch again");
		ok(k.got->len == 1 && got_at(&k, 0)->uid > uid,
		    "the other one is still there");
	}
	imap_close(m);
done:
	sink_free(&k);
}

static void
test_debug_log(void)
{
	imap_conf c = conf_for(0, "none");
	char *path, *log = NULL, *want;
	imap *m;
	int fd, saved;

	path = g_strdup_printf("%s/debug.log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	if (fd < 0 || saved < 0) {
		ok(0, "cannot redirect stderr");
		goto done;
	}
	fflush(stderr);
	dup2(fd, 2);
	g_setenv("MAILPROC_DEBUG", "1", TRUE);
	m = open_ok(&c, "open with MAILPROC_DEBUG set");
	imap_close(m);
	g_unsetenv("MAILPROC_DEBUG");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	g_file_get_contents(path, &log, NULL, NULL);
	want = g_strdup_printf("mailproc: imap 127.0.0.1:%d trialsupport: "
	    "DISCONNECTED -> CONNECTING\n", port[0]);
	ok(log != NULL && strstr(log, want) != NULL &&
	    strstr(log, "SELECTING -> SELECTED\n") != NULL &&
	    strstr(log, "LOGGING_OUT -> CLOSED\n") != NULL,
	    "state transitions logged");
	if (log != NULL && strstr(log, want) == NULL)
		printf("# log: %s\n", log);
	g_free(want);
	g_free(log);
done:
	g_free(path);
}

/* A login refused with [UNAVAILABLE]: the plain server's checkpassword
 * passdb for users outside its passwd file always fails for now. */
static void
test_auth_down(void)
{
	imap_conf c = conf_for(2, "none");
	char *err = NULL;

	c.user = "authdown";
	is_int(open_fail(&c, &err), MP_ERR_TEMP,
	    "login while the server's auth backend is down: temporary");
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
}

/* Servers going away under an idling and a selected session. */
static void
test_dead_link(void)
{
	imap_conf c = conf_for(0, "none");
	struct sink k;
	imap *m, *m2;
	char *argv[8], *err = NULL, pid[32];
	int woken = -1, status;
	int64_t t0, dt;
	GPid child;
	GError *gerr = NULL;

	sink_init(&k);
	m = open_ok(&c, "open main for the shutdown");
	c = conf_for(2, "none");
	m2 = open_ok(&c, "open plain for the shutdown");
	if (m == NULL || m2 == NULL)
		goto done;
	fetch(m, 0, &k);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	argv[0] = "bash";
	argv[1] = "-c";
	argv[2] = ". \"$1/tests/system/dovecot.sh\"; sleep 0.5; "
	    "dovecot_stop \"$2/main\" & dovecot_stop \"$2/plain\" & wait";
	argv[3] = "test-imap";
	argv[4] = (char *)top;
	argv[5] = dir;
	argv[6] = pid;
	argv[7] = NULL;
	if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
	    G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &child, &gerr)) {
		printf("# spawn: %s\n", gerr->message);
		g_error_free(gerr);
		goto done;
	}
	t0 = g_get_monotonic_time();
	is_int(imap_wait(m, 10, -1, &woken, &err), MP_ERR_TEMP,
	    "IDLE when the server shuts down: temporary");
	dt = g_get_monotonic_time() - t0;
	ok(dt < 4 * SEC, "noticed at once (%.2f s)", (double)dt / SEC);
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;
	waitpid(child, &status, 0);
	g_spawn_close_pid(child);
	is_int(imap_fetch_new(m, 0, &collect_cbs, &k, &err), MP_ERR_TEMP,
	    "a broken session stays broken");
	g_free(err);
	err = NULL;
	is_int(imap_fetch_new(m2, 0, &collect_cbs, &k, &err), MP_ERR_TEMP,
	    "fetch on a session whose server is gone: temporary");
	printf("#   %s\n", err ? err : "NULL");
	g_free(err);
	err = NULL;
	t0 = g_get_monotonic_time();
	imap_close(m2);
	imap_close(m);
	m = m2 = NULL;
	ok(g_get_monotonic_time() - t0 < SEC / 2,
	    "closing dead sessions does not wait, does not die");
done:
	imap_close(m);
	imap_close(m2);
	sink_free(&k);
}

int
main(void)
{
	GError *gerr = NULL;
	int64_t t0 = g_get_monotonic_time();

	setvbuf(stdout, NULL, _IOLBF, 0);
	top = getenv("MP_TOP") ? getenv("MP_TOP") : ".";
	if (getuid() != 0) {
		printf("1..0 # SKIP Dovecot needs root (mail runs as nobody)\n");
		return 0;
	}
	/* Dovecot's processes must reach it: 0755, not mkdtemp's 0700. */
	dir = g_dir_make_tmp("mailproc-imap-XXXXXX", &gerr);
	if (dir == NULL || g_chmod(dir, 0755) != 0) {
		printf("1..0 # SKIP no temporary directory: %s\n",
		    gerr ? gerr->message : g_strerror(errno));
		g_clear_error(&gerr);
		return 0;
	}
	atexit(stop_servers);
	if (start_servers() != 0) {
		if (access("/usr/sbin/dovecot", X_OK) != 0) {
			printf("1..0 # SKIP dovecot-imapd cannot be installed\n");
			return 0;
		}
		printf("Bail out! Dovecot did not start\n");
		return 1;
	}
	cert = g_strdup_printf("%s/main/cert.pem", dir);
	other_cert = g_strdup_printf("%s/other.pem", dir);
	name_cert = g_strdup_printf("%s/uidplus/cert.pem", dir);

	test_plain();
	test_tls();
	test_idle();
	test_bulk();
	test_old_server(1, "open a server with UIDPLUS only");
	test_old_server(2, "open a server without UIDPLUS");
	test_debug_log();
	test_auth_down();
	test_dead_link();	/* stops main and plain */

	stop_servers();
	printf("# %.1f s\n", (double)(g_get_monotonic_time() - t0) / SEC);
	g_free(cert);
	g_free(other_cert);
	g_free(name_cert);
	g_free(dir);
	return tap_done();
}
