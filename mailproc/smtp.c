/*
 * smtp.c - the SMTP transport over libcurl.
 *
 * One easy handle per smtp: libcurl keeps its connection between
 * performs, so consecutive sends share one SMTP session (a new MAIL
 * transaction each, no RSET).  After a failed transfer libcurl sends QUIT
 * and closes the connection, and the next perform opens a new one.
 */
#include <string.h>

#include <curl/curl.h>
#include <glib.h>

#include "mailproc/smtp.h"

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets, brackets included. */
#define MAX_ADDRESS	254
#define MAX_TIMEOUT	3600

struct smtp {
	CURL		*curl;		/* keeps the connection */
	char		*url;
	char		*user;		/* or NULL */
	char		*password;	/* or NULL; wiped on free */
	char		*ca_file;	/* or NULL */
	int		 starttls;
	int		 timeout_s;

	/* State of the transfer in progress, reset by each send or probe. */
	const char	*raw;		/* borrowed from the caller */
	size_t		 len, off;
	int		 in_transaction; /* session up; MAIL comes next */
	int		 answered;	/* a reply other than 421 came */
	int		 auth_offered;	/* last EHLO offered AUTH */
	char		 reply[256];	/* last reply line */
	char		 errbuf[CURL_ERROR_SIZE];
};

void
smtp_global_init(void)
{
	/* A failure surfaces later: curl_easy_init() returns NULL. */
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
smtp_global_cleanup(void)
{
	curl_global_cleanup();
}

/* Feeds the message to libcurl, which dot-stuffs it (RFC 5321 4.5.2). */
static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	smtp *s = arg;
	size_t n = size * nitems, left = s->len - s->off;

	if (n > left)
		n = left;
	if (n > 0) {
		memcpy(buf, s->raw + s->off, n);
		s->off += n;
	}
	return n;
}

/* Receives every server reply line (libcurl passes them as "headers").
 * Keeps the last one for the result, except the 221 that answers the QUIT
 * libcurl sends when it drops a connection after a failure, and notes
 * whether EHLO offered AUTH; a 220 (the greeting, or the answer to
 * STARTTLS) comes before a new EHLO. */
static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	smtp *s = arg;
	size_t n = size * nitems, k;

	if (n >= 3 && memcmp(buf, "221", 3) == 0)
		return n;
	if (n >= 3 && memcmp(buf, "421", 3) != 0)
		s->answered = 1;

	if (n >= 3 && memcmp(buf, "220", 3) == 0)
		s->auth_offered = 0;
	if (n >= 9 && memcmp(buf, "250", 3) == 0 &&
	    (buf[3] == '-' || buf[3] == ' ') &&
	    g_ascii_strncasecmp(buf + 4, "AUTH", 4) == 0 &&
	    (buf[8] == ' ' || buf[8] == '='))
		s->auth_offered = 1;
	for (k = 0; k < n && k < sizeof(s->reply) - 1; k++) {
		unsigned char c = buf[k];

		if (c == '\r' || c == '\n')
			break;
		s->reply[k] = (c < ' ' || c == 0x7f) ? '?' : c;
	}
	s->reply[k] = '\0';
	return n;
}

/* Replies to NOOP arrive as "body"; nothing in them is needed. */
static size_t
discard_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nitems;
}

/* Called once the session is set up (greeting, EHLO, TLS, AUTH), just
 * before MAIL FROM: from here on a 5xx is about this message. */
static int
prereq_cb(void *arg, char *conn_primary_ip, char *conn_local_ip,
    int conn_primary_port, int conn_local_port)
{
	smtp *s = arg;

	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	s->in_transaction = 1;
	return CURL_PREREQFUNC_OK;
}

/* Applies the options every transfer of s shares to h. */
static CURLcode
configure(smtp *s, CURL *h)
{
	CURLcode cc = CURLE_OK;
	long t = s->timeout_s;
	int tls = s->starttls || g_ascii_strncasecmp(s->url, "smtps:", 6) == 0;

	if (!cc) cc = curl_easy_setopt(h, CURLOPT_URL, s->url);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* The process ignores SIGPIPE itself; libcurl must leave signals be. */
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_USE_SSL,
	    tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_file) {
		if (!cc) cc = curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
		/* Else GnuTLS reads all of /etc/ssl/certs per connection. */
		if (!cc) cc = curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	if (s->user) {
		if (!cc) cc = curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		if (!cc) cc = curl_easy_setopt(h, CURLOPT_PASSWORD,
		    s->password ? s->password : "");
	}
	/* Bounds: connecting, the whole transfer, each reply (also QUIT at
	 * close, which only this one limits), and a peer that stalls. */
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_TIMEOUT, t);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, t);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, t);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_cb);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_READDATA, s);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq_cb);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_PREREQDATA, s);
	return cc;
}

static void
set_detail(smtp_result *r, const char *text)
{
	size_t k;

	for (k = 0; text[k] && k < sizeof(r->detail) - 1; k++) {
		unsigned char c = text[k];

		r->detail[k] = (c < ' ' || c == 0x7f) ? '?' : c;
	}
	r->detail[k] = '\0';
}

static void
result_set(smtp_result *r, smtp_outcome o, long code, const char *text)
{
	r->outcome = o;
	r->code = code;
	set_detail(r, text);
}

static void
transfer_begin(smtp *s)
{
	s->in_transaction = 0;
	s->answered = 0;
	s->reply[0] = '\0';
	s->errbuf[0] = '\0';
}

/* Turns the end of a transfer on h into *r.  A 5xx is permanent only once
 * the session was set up: a refused greeting, STARTTLS or AUTH is about
 * our configuration, and retrying after it is fixed must still work. */
static void
classify(smtp *s, CURL *h, CURLcode cc, smtp_result *r)
{
	long code = 0;

	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
		code = 0;
	if (cc == CURLE_OK) {
		result_set(r, SMTP_SENT, code, s->reply[0] ? s->reply : "sent");
		return;
	}
	/* 530 is "authentication required" (RFC 4954 6) or "must issue
	 * STARTTLS first" (RFC 3207 4): our configuration again. */
	r->outcome = code >= 500 && code <= 599 && code != 530 &&
	    s->in_transaction ? SMTP_PERMFAIL : SMTP_TEMPFAIL;
	r->code = code;
	/* The server's own words when it refused; else what libcurl saw (a
	 * refused end of DATA leaves libcurl's error buffer empty). */
	if (code >= 400 && s->reply[0])
		set_detail(r, s->reply);
	else if (s->errbuf[0])
		set_detail(r, s->errbuf);
	else
		set_detail(r, curl_easy_strerror(cc));
}

/* A bare address as libcurl will bracket it: no control characters,
 * spaces or brackets that could end the path or the command line early. */
static int
address_ok(const char *a, int may_be_empty)
{
	size_t n;

	if (a == NULL)
		return 0;
	n = strlen(a);
	if (n > MAX_ADDRESS || (n == 0 && !may_be_empty))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = a[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

/* Whether the host of an smtp:// URL is on this machine, so plain text
 * never leaves it. */
static int
url_is_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int yes = 0;

	if (u == NULL)
		goto done;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto done;
	yes = g_ascii_strcasecmp(host, "localhost") == 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0;
done:
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

mp_status
smtp_new(const smtp_conf *c, smtp **out, char **err)
{
	smtp *s = NULL;
	int plain;
	CURLcode cc;
	mp_status rc = MP_OK;

	*out = NULL;
	*err = NULL;
	if (c->url == NULL || (g_ascii_strncasecmp(c->url, "smtp://", 7) != 0 &&
	    g_ascii_strncasecmp(c->url, "smtps://", 8) != 0)) {
		*err = g_strdup_printf("smtp: url \"%s\" is not smtp:// or "
		    "smtps://; nothing will be sent",
		    c->url ? c->url : "");
		rc = MP_ERR_CONFIG;
		goto done;
	}
	plain = g_ascii_strncasecmp(c->url, "smtp://", 7) == 0 && !c->starttls;
	if (plain && !url_is_loopback(c->url)) {
		*err = g_strdup_printf("smtp: %s: plain text is allowed to "
		    "loopback only; enable STARTTLS or use smtps://", c->url);
		rc = MP_ERR_CONFIG;
		goto done;
	}
	if (c->timeout_s < 1 || c->timeout_s > MAX_TIMEOUT) {
		*err = g_strdup_printf("smtp: timeout %d s is outside 1..%d",
		    c->timeout_s, MAX_TIMEOUT);
		rc = MP_ERR_CONFIG;
		goto done;
	}
	s = g_new0(smtp, 1);
	s->url = g_strdup(c->url);
	s->user = g_strdup(c->user);
	s->password = g_strdup(c->password);
	s->ca_file = g_strdup(c->ca_file);
	s->starttls = c->starttls;
	s->timeout_s = c->timeout_s;
	if ((s->curl = curl_easy_init()) == NULL) {
		*err = g_strdup("smtp: libcurl could not be initialised");
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	if ((cc = configure(s, s->curl)) != CURLE_OK) {
		*err = g_strdup_printf("smtp: %s: libcurl refused an option: "
		    "%s", c->url, curl_easy_strerror(cc));
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	*out = s;
	s = NULL;
done:
	smtp_free(s);
	return rc;
}

void
smtp_free(smtp *s)
{
	if (s == NULL)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	if (s->password)
		explicit_bzero(s->password, strlen(s->password));
	g_free(s->url);
	g_free(s->user);
	g_free(s->password);
	g_free(s->ca_file);
	g_free(s);
}

mp_status
smtp_send(smtp *s, const char *from, const char *rcpt, const char *raw,
    size_t len, smtp_result *r)
{
	struct curl_slist *rcpts = NULL;
	CURLcode cc = CURLE_OK;
	mp_status rc = MP_OK;

	result_set(r, SMTP_TEMPFAIL, 0, "smtp: out of memory; not sent");
	if (!address_ok(from, 1)) {
		result_set(r, SMTP_PERMFAIL, 0,
		    "envelope sender is not a bare address; not sent");
		goto done;
	}
	if (!address_ok(rcpt, 0)) {
		result_set(r, SMTP_PERMFAIL, 0,
		    "recipient is not a bare address; not sent");
		goto done;
	}
	if ((rcpts = curl_slist_append(NULL, rcpt)) == NULL) {
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	s->raw = raw;
	s->len = len;
	/* An empty sender makes libcurl send the null reverse-path <>. */
	if (!cc) cc = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM,
	    *from ? from : NULL);
	if (!cc) cc = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
	if (!cc) cc = curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	/* Lets a server with SIZE (RFC 1870) refuse a large message early. */
	if (!cc) cc = curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)len);
	if (cc) {
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	/*
	 * A server closes an idle session when it likes (RFC 5321 4.5.3.2.7),
	 * and libcurl notices only a bare FIN: after a TLS close_notify or a
	 * "421 timeout" it reuses the dead connection and fails.  So a send
	 * on a reused connection that failed before the server answered
	 * anything but 421 is tried once more on a new one.  Without an
	 * answer no transaction had begun, so the message cannot arrive
	 * twice; a timeout is not retried, so timeout_s still bounds it.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		long fresh = 0;

		transfer_begin(s);
		s->off = 0;
		cc = curl_easy_perform(s->curl);
		if (cc == CURLE_OK || cc == CURLE_OPERATION_TIMEDOUT ||
		    s->answered || curl_easy_getinfo(s->curl,
		    CURLINFO_NUM_CONNECTS, &fresh) != CURLE_OK || fresh > 0)
			break;
	}
	if (cc == CURLE_OUT_OF_MEMORY) {
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	classify(s, s->curl, cc, r);
done:
	/* The handle must not keep pointers into the caller's data. */
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, NULL);
	s->raw = NULL;
	s->len = s->off = 0;
	curl_slist_free_all(rcpts);
	return rc;
}

/*
 * Why NOOP on a separate handle rather than CURLOPT_CONNECT_ONLY: both run
 * libcurl's whole session set-up (greeting, EHLO, STARTTLS, AUTH), but NOOP
 * also proves the server answers commands after AUTH, and it ends with a
 * QUIT, where CONNECT_ONLY leaves a socket for us to tidy.  A separate
 * handle tests a fresh connection (the point of a check) and leaves the
 * sending connection alone.
 */
mp_status
smtp_probe(smtp *s, smtp_result *r)
{
	CURL *h = NULL;
	CURLcode cc;
	mp_status rc = MP_OK;

	result_set(r, SMTP_TEMPFAIL, 0, "smtp: out of memory; not probed");
	if ((h = curl_easy_init()) == NULL) {
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	transfer_begin(s);
	s->auth_offered = 0;
	cc = configure(s, h);
	if (!cc) cc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "NOOP");
	if (cc) {
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	cc = curl_easy_perform(h);
	if (cc == CURLE_OUT_OF_MEMORY) {
		rc = MP_ERR_INTERNAL;
		goto done;
	}
	classify(s, h, cc, r);
	/* libcurl skips AUTH when the server does not offer it (RFC 4954
	 * leaves that to the client); a check must not call that working. */
	if (r->outcome == SMTP_SENT && s->user && !s->auth_offered)
		result_set(r, SMTP_PERMFAIL, r->code, "the server offered no "
		    "AUTH, so the configured user would not log in");
done:
	if (h)
		curl_easy_cleanup(h);
	return rc;
}
