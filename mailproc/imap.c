/*
 * imap.c - the IMAP transport over libetpan, certificates checked with
 * GnuTLS.
 *
 * The session is an explicit state machine (enum imap_state, state_names,
 * set_state()).  Whenever the link fails the stream is closed at once and
 * the session goes to BROKEN: mailimap_free() would otherwise send LOGOUT
 * on a dead link and wait out the timeout again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "mailproc/imap.h"

#define DEFAULT_TIMEOUT_S	60
#define LOGOUT_TIMEOUT_S	5
#define IDLE_RENEW_S		(28 * 60)	/* RFC 2177 3: servers may drop at 30 min */
#define DEFAULT_CHUNK_BYTES	((size_t)8 * 1024 * 1024)
#define BATCH_MAX		5000	/* messages per body fetch */
#define SET_MAX			1000	/* UIDs per STORE/COPY/MOVE */
#define CHAIN_MAX		16	/* certificates of a peer chain looked at */
#define WAIT_ROUNDS_MAX		100000	/* IDLE rounds in one imap_wait */

enum imap_state {
	ST_DISCONNECTED,
	ST_CONNECTING,
	ST_STARTTLS,
	ST_VERIFYING,
	ST_LOGGING_IN,
	ST_SELECTING,
	ST_SELECTED,
	ST_FETCHING,
	ST_MARKING,
	ST_IDLING,
	ST_BROKEN,
	ST_LOGGING_OUT,
	ST_CLOSED,
};

static const char *const state_names[] = {
	[ST_DISCONNECTED] = "DISCONNECTED",
	[ST_CONNECTING] = "CONNECTING",
	[ST_STARTTLS] = "STARTTLS",
	[ST_VERIFYING] = "VERIFYING",
	[ST_LOGGING_IN] = "LOGGING_IN",
	[ST_SELECTING] = "SELECTING",
	[ST_SELECTED] = "SELECTED",
	[ST_FETCHING] = "FETCHING",
	[ST_MARKING] = "MARKING",
	[ST_IDLING] = "IDLING",
	[ST_BROKEN] = "BROKEN",
	[ST_LOGGING_OUT] = "LOGGING_OUT",
	[ST_CLOSED] = "CLOSED",
};

struct imap {
	mailimap	*s;
	enum imap_state	 state;
	int		 debug;
	char		*host;
	int		 port;
	char		*user;
	char		*folder;
	char		*processed;
	int		 timeout_s;
	size_t		 max_bytes;	/* 0: no limit */
	size_t		 chunk_bytes;
	uint32_t	 uidvalidity;
	int		 has_idle, has_move, has_uidplus;
	int		 processed_exists;
	int		 has_peer;
	char		 peer_sha256[65];
};

/* One message of a fetch: from the size listing, then its body. */
struct entry {
	uint32_t	 uid;
	uint32_t	 size;
	const char	*raw;		/* borrowed from the libetpan result */
	size_t		 len;
	int		 got;
};

enum wait_event { EV_DATA, EV_TIMEOUT, EV_WAKE, EV_ERROR };

static void
set_state(imap *m, enum imap_state st)
{
	if (m->debug && st != m->state)
		fprintf(stderr, "mailproc: imap %s:%d %s: %s -> %s\n", m->host,
		    m->port, m->user, state_names[m->state], state_names[st]);
	m->state = st;
}

/* 1 when r leaves the link unusable (as opposed to a NO for a command). */
static int
is_link_error(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_BAD_STATE:
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_MEMORY:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_PROTOCOL:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
	case MAILIMAP_ERROR_SSL:
	case MAILIMAP_ERROR_NEEDS_MORE_DATA:
		return 1;
	default:
		return 0;
	}
}

static const char *
link_error_str(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE:
		return "unparsable server response";
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "cannot connect";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	case MAILIMAP_ERROR_FATAL:
		return "server ended the session";
	case MAILIMAP_ERROR_PROTOCOL:
		return "protocol error";
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return "server refuses connections";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	default:
		return "unexpected library state";
	}
}

static const char *
server_text(const imap *m)
{
	if (m->s != NULL && m->s->imap_response != NULL &&
	    m->s->imap_response[0] != '\0')
		return m->s->imap_response;
	return "(no text)";
}

/* Closes the stream without a word and marks the session broken. */
static void
break_link(imap *m)
{
	if (m->s != NULL && m->s->imap_stream != NULL) {
		mailstream_close(m->s->imap_stream);
		m->s->imap_stream = NULL;
	}
	set_state(m, ST_BROKEN);
}

/*
 * Turns a failed libetpan call (what: "UID FETCH") into a status and
 * *err.  A link failure breaks the session; a refusal (NO) leaves it
 * usable and returns to SELECTED when it was there.
 */
static mp_status
fail(imap *m, int r, const char *what, char **err)
{
	if (is_link_error(r)) {
		*err = g_strdup_printf("imap %s:%d %s: %s: %s%s%s; the session "
		    "is closed", m->host, m->port, m->user, what,
		    link_error_str(r),
		    r == MAILIMAP_ERROR_FATAL || r == MAILIMAP_ERROR_PROTOCOL ?
		    ": " : "",
		    r == MAILIMAP_ERROR_FATAL || r == MAILIMAP_ERROR_PROTOCOL ?
		    server_text(m) : "");
		break_link(m);
		return MP_ERR_TEMP;
	}
	*err = g_strdup_printf("imap %s:%d %s: %s refused by the server: %s",
	    m->host, m->port, m->user, what, server_text(m));
	if (m->state == ST_FETCHING || m->state == ST_MARKING ||
	    m->state == ST_IDLING)
		set_state(m, ST_SELECTED);
	return MP_ERR_TEMP;
}

/* A usable, selected session, or MP_ERR_TEMP saying why not. */
static mp_status
need_selected(imap *m, char **err)
{
	if (m->state == ST_SELECTED)
		return MP_OK;
	*err = g_strdup_printf("imap %s:%d %s: session is %s, not usable; "
	    "reopen it", m->host, m->port, m->user, state_names[m->state]);
	return MP_ERR_TEMP;
}

static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static int
is_ip_literal(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/* Runs before the handshake: SNI for names (RFC 6066 3 forbids it for
 * IP literals). */
static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	imap *m = data;

	if (!is_ip_literal(m->host))
		mailstream_ssl_set_server_name(ctx, m->host);
}

/* 1 when the last response carried [UNAVAILABLE]: RFC 5530 3 makes a
 * refused login temporary then (the server's auth backend is down). */
static int
login_unavailable(const imap *m)
{
	const struct mailimap_response_info *ri = m->s->imap_response_info;

	return ri != NULL && ri->rsp_atom != NULL &&
	    g_ascii_strcasecmp(ri->rsp_atom, "UNAVAILABLE") == 0;
}

/* 1 when pin (hex, colons and case ignored) equals hex. */
static int
pin_matches(const char *pin, const char *hex)
{
	size_t i = 0;

	for (; *pin != '\0'; pin++) {
		if (*pin == ':' || *pin == ' ')
			continue;
		if (i >= 64 || g_ascii_tolower(*pin) != hex[i])
			return 0;
		i++;
	}
	return i == 64;
}

/*
 * Checks the peer's chain: the pin when set, else the CA bundle (or the
 * system store) and the host name.  Records the leaf's SHA-256.
 */
static mp_status
verify_peer(imap *m, const imap_conf *c, char **err)
{
	gnutls_typed_vdata_st vdata[2];
	gnutls_x509_crt_t crts[CHAIN_MAX];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_datum_t out = { NULL, 0 };
	unsigned char md[32];
	unsigned int ncrt = 0, status = 0, i;
	carray *chain;
	MMAPString *der;
	mp_status st = MP_ERR_CONFIG;
	int r;

	chain = mailstream_get_certificate_chain(m->s->imap_stream);
	if (chain == NULL || carray_count(chain) == 0) {
		*err = g_strdup_printf("certificate for %s not trusted: the "
		    "server sent no certificate", m->host);
		goto done;
	}
	der = carray_get(chain, 0);
	r = gnutls_hash_fast(GNUTLS_DIG_SHA256, der->str, der->len, md);
	if (r < 0) {
		*err = g_strdup_printf("imap %s:%d: SHA-256 failed: %s",
		    m->host, m->port, gnutls_strerror(r));
		st = MP_ERR_INTERNAL;
		goto done;
	}
	for (i = 0; i < sizeof(md); i++)
		snprintf(m->peer_sha256 + 2 * i, 3, "%02x", md[i]);
	m->has_peer = 1;

	if (c->pin_sha256 != NULL && c->pin_sha256[0] != '\0') {
		if (pin_matches(c->pin_sha256, m->peer_sha256))
			st = MP_OK;
		else
			*err = g_strdup_printf("pin mismatch: server has SHA-256 "
			    "%s, the configuration pins %s (imap %s:%d)",
			    m->peer_sha256, c->pin_sha256, m->host, m->port);
		goto done;
	}

	if ((r = gnutls_x509_trust_list_init(&tl, 0)) < 0) {
		*err = g_strdup_printf("imap %s:%d: cannot make a trust list: "
		    "%s", m->host, m->port, gnutls_strerror(r));
		st = MP_ERR_INTERNAL;
		goto done;
	}
	if (c->ca_file != NULL)
		r = gnutls_x509_trust_list_add_trust_file(tl, c->ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0) {
		*err = g_strdup_printf("certificate for %s not trusted: no CA "
		    "certificate loaded from %s%s%s", m->host,
		    c->ca_file != NULL ? c->ca_file : "the system trust store",
		    r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
		goto done;
	}

	for (i = 0; i < carray_count(chain) && i < CHAIN_MAX; i++) {
		gnutls_datum_t d;

		der = carray_get(chain, i);
		d.data = (unsigned char *)der->str;
		d.size = (unsigned int)der->len;
		if ((r = gnutls_x509_crt_init(&crts[ncrt])) < 0) {
			*err = g_strdup_printf("imap %s:%d: %s", m->host,
			    m->port, gnutls_strerror(r));
			st = MP_ERR_INTERNAL;
			goto done;
		}
		ncrt++;
		if ((r = gnutls_x509_crt_import(crts[ncrt - 1], &d,
		    GNUTLS_X509_FMT_DER)) < 0) {
			*err = g_strdup_printf("certificate for %s not trusted: "
			    "certificate %u of the chain cannot be parsed: %s",
			    m->host, i, gnutls_strerror(r));
			goto done;
		}
	}

	memset(vdata, 0, sizeof(vdata));
	vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vdata[0].data = (unsigned char *)m->host;
	vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, ncrt, vdata, 2, 0,
	    &status, NULL);
	if (r < 0) {
		*err = g_strdup_printf("certificate for %s not trusted: "
		    "verification failed: %s", m->host, gnutls_strerror(r));
		goto done;
	}
	if (status != 0) {
		r = gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0);
		*err = g_strdup_printf("certificate for %s not trusted: %s "
		    "(the server's SHA-256 is %s)", m->host,
		    r == 0 ? g_strchomp((char *)out.data) :
		    "verification failed", m->peer_sha256);
		goto done;
	}
	st = MP_OK;
done:
	for (i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	gnutls_free(out.data);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return st;
}

/* Connects and, for TLS, handshakes and verifies; leaves the session
 * NON_AUTHENTICATED (or AUTHENTICATED after PREAUTH). */
static mp_status
connect_verified(imap *m, const imap_conf *c, int tls, char **err)
{
	struct mailimap_capability_data *cap = NULL;
	mp_status st = MP_OK;
	gint64 t0;
	int r;

	set_state(m, ST_CONNECTING);
	t0 = g_get_monotonic_time();
	if (tls == 1)
		r = mailimap_ssl_connect_with_callback(m->s, m->host,
		    (uint16_t)m->port, tls_setup, m);
	else
		r = mailimap_socket_connect(m->s, m->host, (uint16_t)m->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		/* libetpan keeps no errno worth reading here. */
		if (r == MAILIMAP_ERROR_CONNECTION_REFUSED) {
			*err = g_strdup_printf("imap %s:%d: cannot connect: %s",
			    m->host, m->port, g_get_monotonic_time() - t0 >=
			    (gint64)m->timeout_s * G_USEC_PER_SEC ?
			    "timed out" : "refused, unreachable or unknown host");
			break_link(m);
			st = MP_ERR_TEMP;
		} else
			st = fail(m, r, "connect", err);
		goto done;
	}

	if (tls == 2) {
		set_state(m, ST_STARTTLS);
		if ((r = mailimap_capability(m->s, &cap)) != MAILIMAP_NO_ERROR) {
			st = fail(m, r, "CAPABILITY", err);
			goto done;
		}
		if (!mailimap_has_extension(m->s, "STARTTLS")) {
			*err = g_strdup_printf("imap %s:%d: server does not offer "
			    "STARTTLS", m->host, m->port);
			break_link(m);
			st = MP_ERR_CONFIG;
			goto done;
		}
		r = mailimap_socket_starttls_with_callback(m->s, tls_setup, m);
		if (r == MAILIMAP_ERROR_STARTTLS) {
			*err = g_strdup_printf("imap %s:%d: server refuses "
			    "STARTTLS: %s", m->host, m->port, server_text(m));
			break_link(m);
			st = MP_ERR_CONFIG;
			goto done;
		}
		if (r != MAILIMAP_NO_ERROR) {
			st = fail(m, r, "STARTTLS", err);
			goto done;
		}
	}

	if (tls != 0) {
		set_state(m, ST_VERIFYING);
		if ((st = verify_peer(m, c, err)) != MP_OK) {
			break_link(m);
			goto done;
		}
	}
done:
	if (cap != NULL)
		mailimap_capability_data_free(cap);
	return st;
}

mp_status
imap_open(const imap_conf *c, imap **out, char **err)
{
	struct mailimap_capability_data *cap = NULL;
	imap *m = NULL;
	mp_status st = MP_OK;
	int r, tls;

	*out = NULL;
	if (c->tls == NULL) {
		*err = g_strdup("imap: tls must be implicit, starttls or none");
		return MP_ERR_CONFIG;
	}
	if (strcmp(c->tls, "none") == 0)
		tls = 0;
	else if (strcmp(c->tls, "implicit") == 0)
		tls = 1;
	else if (strcmp(c->tls, "starttls") == 0)
		tls = 2;
	else {
		*err = g_strdup_printf("imap: tls must be implicit, starttls "
		    "or none, not \"%s\"", c->tls);
		return MP_ERR_CONFIG;
	}
	if (c->host == NULL || c->user == NULL || c->password == NULL ||
	    c->folder == NULL || c->port <= 0 || c->port > 65535) {
		*err = g_strdup("imap: host, port, user, password and folder "
		    "are required");
		return MP_ERR_CONFIG;
	}
	ignore_sigpipe();

	m = g_new0(imap, 1);
	m->state = ST_DISCONNECTED;
	m->debug = getenv("MAILPROC_DEBUG") != NULL;
	m->host = g_strdup(c->host);
	m->port = c->port;
	m->user = g_strdup(c->user);
	m->folder = g_strdup(c->folder);
	m->processed = g_strdup(c->processed_folder);
	m->timeout_s = c->timeout_s > 0 ? c->timeout_s : DEFAULT_TIMEOUT_S;
	m->max_bytes = c->max_message_bytes;
	m->chunk_bytes = c->fetch_chunk_bytes > 0 ? c->fetch_chunk_bytes :
	    DEFAULT_CHUNK_BYTES;
	if ((m->s = mailimap_new(0, NULL)) == NULL) {
		*err = g_strdup("imap: out of memory");
		st = MP_ERR_INTERNAL;
		goto done;
	}
	mailimap_set_timeout(m->s, m->timeout_s);

	if ((st = connect_verified(m, c, tls, err)) != MP_OK)
		goto done;

	if (m->s->imap_state != MAILIMAP_STATE_AUTHENTICATED) {
		set_state(m, ST_LOGGING_IN);
		r = mailimap_login(m->s, c->user, c->password);
		if (r == MAILIMAP_ERROR_LOGIN && login_unavailable(m)) {
			*err = g_strdup_printf("imap %s:%d: login as %s failed "
			    "for now: %s", m->host, m->port, m->user,
			    server_text(m));
			st = MP_ERR_TEMP;
			goto done;
		}
		if (r == MAILIMAP_ERROR_LOGIN) {
			*err = g_strdup_printf("imap %s:%d: login as %s "
			    "rejected: %s", m->host, m->port, m->user,
			    server_text(m));
			st = MP_ERR_CONFIG;
			goto done;
		}
		if (r != MAILIMAP_NO_ERROR) {
			st = fail(m, r, "LOGIN", err);
			goto done;
		}
	}
	/* Capabilities change with TLS and login (RFC 3501 6.2.1): ask
	 * rather than trust the optional response code. */
	if ((r = mailimap_capability(m->s, &cap)) != MAILIMAP_NO_ERROR) {
		st = fail(m, r, "CAPABILITY", err);
		goto done;
	}
	m->has_idle = mailimap_has_idle(m->s);
	m->has_move = mailimap_has_extension(m->s, "MOVE");
	m->has_uidplus = mailimap_has_extension(m->s, "UIDPLUS");

	set_state(m, ST_SELECTING);
	r = mailimap_select(m->s, m->folder);
	if (r == MAILIMAP_ERROR_SELECT) {
		*err = g_strdup_printf("imap %s:%d %s: cannot select folder "
		    "\"%s\": %s", m->host, m->port, m->user, m->folder,
		    server_text(m));
		st = MP_ERR_CONFIG;
		goto done;
	}
	if (r != MAILIMAP_NO_ERROR) {
		st = fail(m, r, "SELECT", err);
		goto done;
	}
	if (m->s->imap_selection_info == NULL ||
	    m->s->imap_selection_info->sel_uidvalidity == 0) {
		*err = g_strdup_printf("imap %s:%d %s: folder \"%s\" has no "
		    "UIDVALIDITY; cannot track messages", m->host, m->port,
		    m->user, m->folder);
		st = MP_ERR_CONFIG;
		goto done;
	}
	m->uidvalidity = m->s->imap_selection_info->sel_uidvalidity;
	set_state(m, ST_SELECTED);
	*out = m;
	m = NULL;
done:
	if (cap != NULL)
		mailimap_capability_data_free(cap);
	imap_close(m);
	return st;
}

void
imap_close(imap *m)
{
	mailstream_low *low;

	if (m == NULL)
		return;
	if (m->s != NULL) {
		if (m->s->imap_stream != NULL && m->state == ST_BROKEN)
			break_link(m);
		if (m->s->imap_stream != NULL) {
			set_state(m, ST_LOGGING_OUT);
			low = mailstream_get_low(m->s->imap_stream);
			if (low != NULL && m->timeout_s > LOGOUT_TIMEOUT_S)
				low->timeout = LOGOUT_TIMEOUT_S;
			/* Closes the stream whatever the server says. */
			mailimap_logout(m->s);
		}
		mailimap_free(m->s);
	}
	set_state(m, ST_CLOSED);
	g_free(m->host);
	g_free(m->user);
	g_free(m->folder);
	g_free(m->processed);
	g_free(m);
}

uint32_t
imap_uidvalidity(const imap *m)
{
	return m->uidvalidity;
}

int
imap_has_idle(const imap *m)
{
	return m->has_idle;
}

int
imap_has_move(const imap *m)
{
	return m->has_move;
}

const char *
imap_peer_sha256(const imap *m)
{
	return m->has_peer ? m->peer_sha256 : NULL;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The UID, RFC822.SIZE (*has_size = 1) and BODY[] of one FETCH
 * response, those present. */
static void
read_msg_att(struct mailimap_msg_att *att, uint32_t *uid, uint32_t *size,
    int *has_size, struct mailimap_msg_att_body_section **body)
{
	struct mailimap_msg_att_item *item;
	struct mailimap_msg_att_static *s;
	clistiter *it;

	for (it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		item = clist_content(it);
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
		    (s = item->att_data.att_static) == NULL)
			continue;
		if (s->att_type == MAILIMAP_MSG_ATT_UID)
			*uid = s->att_data.att_uid;
		else if (s->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
			*size = s->att_data.att_rfc822_size;
			*has_size = 1;
		}
		else if (s->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
		    body != NULL)
			*body = s->att_data.att_body_section;
	}
}

/* Runs UID FETCH set (UID att); *result owned by the caller. */
static mp_status
uid_fetch(imap *m, struct mailimap_set *set, struct mailimap_fetch_att *att,
    clist **result, char **err)
{
	struct mailimap_fetch_type *ft;
	mp_status st = MP_OK;
	int r;

	*result = NULL;
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	if (ft == NULL || mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid()) != MAILIMAP_NO_ERROR ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, att) !=
	    MAILIMAP_NO_ERROR) {
		*err = g_strdup("imap: out of memory");
		st = MP_ERR_INTERNAL;
		goto done;
	}
	att = NULL;
	r = mailimap_uid_fetch(m->s, set, ft, result);
	if (r != MAILIMAP_NO_ERROR) {
		*result = NULL;
		st = fail(m, r, "UID FETCH", err);
	}
done:
	if (att != NULL)
		mailimap_fetch_att_free(att);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	return st;
}

/* Lists UID and RFC822.SIZE of the messages with UID > after, sorted. */
static mp_status
list_new(imap *m, uint32_t after, GArray *list, char **err)
{
	struct mailimap_set *set;
	clist *result = NULL;
	clistiter *it;
	struct entry *e;
	mp_status st;
	guint i, k;
	int has_size;

	if ((set = mailimap_set_new_interval(after + 1, 0)) == NULL) {
		*err = g_strdup("imap: out of memory");
		return MP_ERR_INTERNAL;
	}
	st = uid_fetch(m, set, mailimap_fetch_att_new_rfc822_size(), &result,
	    err);
	if (st != MP_OK)
		goto done;
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		struct entry x = { 0 };

		has_size = 0;
		read_msg_att(clist_content(it), &x.uid, &x.size, &has_size,
		    NULL);
		/* RFC 3501 6.4.8: "n:*" always includes the highest UID,
		 * even when it is below n.  Unsolicited FETCH responses
		 * (flag changes) come without a size. */
		if (x.uid > after && has_size)
			g_array_append_val(list, x);
	}
	g_array_sort(list, cmp_entry);
	e = (struct entry *)(void *)list->data;
	for (i = k = 0; i < list->len; i++)
		if (k == 0 || e[i].uid != e[k - 1].uid)
			e[k++] = e[i];
	g_array_set_size(list, k);
done:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	mailimap_set_free(set);
	return st;
}

static int
oversize(const imap *m, size_t size)
{
	return m->max_bytes > 0 && size > m->max_bytes;
}

/*
 * Fetches the bodies of e[0..n) (consecutive entries of the listing, so
 * the range first:last holds no other message) and hands them to cb.
 */
static mp_status
fetch_bodies(imap *m, struct entry *e, size_t n, const imap_fetch_cbs *cbs,
    void *ctx, char **err)
{
	struct mailimap_msg_att_body_section *body;
	struct mailimap_set *set;
	struct entry key, *hit;
	clist *result = NULL;
	clistiter *it;
	mp_status st;
	size_t i;
	int has_size;

	if ((set = mailimap_set_new_interval(e[0].uid, e[n - 1].uid)) ==
	    NULL) {
		*err = g_strdup("imap: out of memory");
		return MP_ERR_INTERNAL;
	}
	st = uid_fetch(m, set, mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new(NULL)), &result, err);
	if (st != MP_OK)
		goto done;
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		key.uid = 0;
		key.size = 0;
		body = NULL;
		read_msg_att(clist_content(it), &key.uid, &key.size, &has_size,
		    &body);
		if (body == NULL || body->sec_body_part == NULL)
			continue;
		hit = bsearch(&key, e, n, sizeof(*e), cmp_entry);
		if (hit == NULL)
			continue;
		hit->raw = body->sec_body_part;
		hit->len = body->sec_length;
		hit->got = 1;
	}
	if (cbs->chunk_start != NULL) {
		imap_chunk_msg *cm = g_new(imap_chunk_msg, n);
		size_t k = 0;

		for (i = 0; i < n; i++) {
			if (!e[i].got)
				continue;
			cm[k].uid = e[i].uid;
			cm[k].raw = oversize(m, e[i].len) ? NULL : e[i].raw;
			cm[k].len = e[i].len;
			k++;
		}
		cbs->chunk_start(ctx, cm, k);
		g_free(cm);
	}
	for (i = 0; i < n; i++) {
		if (!e[i].got)		/* expunged since the listing */
			continue;
		if (oversize(m, e[i].len))
			st = cbs->message(ctx, e[i].uid, NULL, 0, e[i].len);
		else
			st = cbs->message(ctx, e[i].uid, e[i].raw, e[i].len,
			    e[i].size);
		e[i].raw = NULL;
		if (st != MP_OK)
			goto done;
	}
done:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	mailimap_set_free(set);
	return st;
}

mp_status
imap_fetch_new(imap *m, uint32_t after_uid, const imap_fetch_cbs *cbs,
    void *ctx, char **err)
{
	GArray *list = NULL;
	struct entry *e;
	mp_status st;
	size_t i, j, n, sum;
	int r;

	if ((st = need_selected(m, err)) != MP_OK)
		return st;
	if (after_uid == UINT32_MAX)
		return MP_OK;
	set_state(m, ST_FETCHING);
	/* Let the server announce what arrived since the last command. */
	if ((r = mailimap_noop(m->s)) != MAILIMAP_NO_ERROR) {
		st = fail(m, r, "NOOP", err);
		goto done;
	}
	/* What the listing below sees needs no wake-up from imap_wait. */
	m->s->imap_selection_info->sel_has_exists = 0;
	list = g_array_new(FALSE, FALSE, sizeof(struct entry));
	if ((st = list_new(m, after_uid, list, err)) != MP_OK)
		goto done;

	e = (struct entry *)(void *)list->data;
	n = list->len;
	for (i = 0; i < n; i = j) {
		if (oversize(m, e[i].size)) {
			st = cbs->message(ctx, e[i].uid, NULL, 0, e[i].size);
			if (st == MP_OK && cbs->chunk_done != NULL)
				st = cbs->chunk_done(ctx);
			if (st != MP_OK)
				goto done;
			j = i + 1;
			continue;
		}
		sum = 0;
		for (j = i; j < n && j - i < BATCH_MAX; j++) {
			if (oversize(m, e[j].size) ||
			    (j > i && sum + e[j].size > m->chunk_bytes))
				break;
			sum += e[j].size;
		}
		if ((st = fetch_bodies(m, e + i, j - i, cbs, ctx, err)) !=
		    MP_OK)
			goto done;
		if (cbs->chunk_done != NULL && (st = cbs->chunk_done(ctx)) !=
		    MP_OK)
			goto done;
	}
done:
	if (list != NULL)
		g_array_free(list, TRUE);
	if (m->state == ST_FETCHING)
		set_state(m, ST_SELECTED);
	return st;
}

/* A set of the sorted, distinct uids[0..n), runs folded to ranges. */
static struct mailimap_set *
make_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set;
	size_t i, j;

	if ((set = mailimap_set_new_empty()) == NULL)
		return NULL;
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
		if (mailimap_set_add_interval(set, uids[i], uids[j]) !=
		    MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return NULL;
		}
	}
	return set;
}

/* UID STORE set +FLAGS.SILENT (flag). */
static mp_status
add_flag(imap *m, struct mailimap_set *set, struct mailimap_flag *flag,
    char **err)
{
	struct mailimap_store_att_flags *sf = NULL;
	struct mailimap_flag_list *fl;
	mp_status st = MP_OK;
	int r;

	if ((fl = mailimap_flag_list_new_empty()) == NULL ||
	    mailimap_flag_list_add(fl, flag) != MAILIMAP_NO_ERROR ||
	    (sf = mailimap_store_att_flags_new_add_flags_silent(fl)) == NULL) {
		if (fl != NULL)
			mailimap_flag_list_free(fl);
		else
			mailimap_flag_free(flag);
		*err = g_strdup("imap: out of memory");
		return MP_ERR_INTERNAL;
	}
	if ((r = mailimap_uid_store(m->s, set, sf)) != MAILIMAP_NO_ERROR)
		st = fail(m, r, "UID STORE", err);
	mailimap_store_att_flags_free(sf);
	return st;
}

/* Creates the processed folder unless LIST shows it. */
static mp_status
ensure_processed(imap *m, char **err)
{
	clist *list = NULL;
	int r, found;

	if (m->processed_exists)
		return MP_OK;
	if ((r = mailimap_list(m->s, "", m->processed, &list)) !=
	    MAILIMAP_NO_ERROR)
		return fail(m, r, "LIST", err);
	found = list != NULL && clist_count(list) > 0;
	if (list != NULL)
		mailimap_list_result_free(list);
	if (!found && (r = mailimap_create(m->s, m->processed)) !=
	    MAILIMAP_NO_ERROR)
		return fail(m, r, "CREATE", err);
	m->processed_exists = 1;
	return MP_OK;
}

/* Moves set to the processed folder by the best means the server has. */
static mp_status
move_set(imap *m, struct mailimap_set *set, char **err)
{
	mp_status st;
	int r;

	if (m->has_move) {
		if ((r = mailimap_uid_move(m->s, set, m->processed)) !=
		    MAILIMAP_NO_ERROR)
			return fail(m, r, "UID MOVE", err);
		return MP_OK;
	}
	if ((r = mailimap_uid_copy(m->s, set, m->processed)) !=
	    MAILIMAP_NO_ERROR)
		return fail(m, r, "UID COPY", err);
	if ((st = add_flag(m, set, mailimap_flag_new_deleted(), err)) != MP_OK)
		return st;
	if (m->has_uidplus)
		r = mailimap_uid_expunge(m->s, set);
	else
		r = mailimap_expunge(m->s);
	if (r != MAILIMAP_NO_ERROR)
		return fail(m, r, m->has_uidplus ? "UID EXPUNGE" : "EXPUNGE",
		    err);
	return MP_OK;
}

mp_status
imap_mark_processed(imap *m, const uint32_t *uids, size_t n, char **err)
{
	struct mailimap_set *set = NULL;
	uint32_t *sorted = NULL;
	mp_status st;
	size_t i, k, off;

	if ((st = need_selected(m, err)) != MP_OK || n == 0)
		return st;
	set_state(m, ST_MARKING);
	sorted = g_new(uint32_t, n);
	memcpy(sorted, uids, n * sizeof(*uids));
	qsort(sorted, n, sizeof(*sorted), cmp_uid);
	for (i = k = 0; i < n; i++)
		if (sorted[i] != 0 && (k == 0 || sorted[i] != sorted[k - 1]))
			sorted[k++] = sorted[i];
	n = k;

	if (m->processed != NULL && (st = ensure_processed(m, err)) != MP_OK)
		goto done;
	for (off = 0; off < n; off += SET_MAX) {
		k = n - off < SET_MAX ? n - off : SET_MAX;
		if ((set = make_set(sorted + off, k)) == NULL) {
			*err = g_strdup("imap: out of memory");
			st = MP_ERR_INTERNAL;
			goto done;
		}
		if ((st = add_flag(m, set, mailimap_flag_new_seen(), err)) !=
		    MP_OK)
			goto done;
		if (m->processed != NULL && (st = move_set(m, set, err)) !=
		    MP_OK)
			goto done;
		mailimap_set_free(set);
		set = NULL;
	}
done:
	if (set != NULL)
		mailimap_set_free(set);
	g_free(sorted);
	if (m->state == ST_MARKING)
		set_state(m, ST_SELECTED);
	return st;
}

/* SEARCH key: UID 1:upto, and UNSEEN without a processed folder. */
static struct mailimap_search_key *
leftover_key(const imap *m, uint32_t upto)
{
	struct mailimap_search_key *all, *k;
	struct mailimap_set *set;

	if ((set = mailimap_set_new_interval(1, upto)) == NULL)
		return NULL;
	if ((k = mailimap_search_key_new_uid(set)) == NULL) {
		mailimap_set_free(set);
		return NULL;
	}
	if (m->processed != NULL)
		return k;
	if ((all = mailimap_search_key_new_multiple_empty()) == NULL ||
	    mailimap_search_key_multiple_add(all, k) != MAILIMAP_NO_ERROR) {
		mailimap_search_key_free(k);
		if (all != NULL)
			mailimap_search_key_free(all);
		return NULL;
	}
	k = mailimap_search_key_new(MAILIMAP_SEARCH_KEY_UNSEEN, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
	if (k == NULL || mailimap_search_key_multiple_add(all, k) !=
	    MAILIMAP_NO_ERROR) {
		if (k != NULL)
			mailimap_search_key_free(k);
		mailimap_search_key_free(all);
		return NULL;
	}
	return all;
}

mp_status
imap_leftovers(imap *m, uint32_t upto, GArray *uids, char **err)
{
	struct mailimap_search_key *key = NULL;
	struct mailimap_set *set = NULL;
	clist *found = NULL, *sizes = NULL;
	clistiter *it;
	GArray *cand = NULL;
	mp_status st;
	int r;

	if ((st = need_selected(m, err)) != MP_OK || upto == 0)
		return st;
	if ((key = leftover_key(m, upto)) == NULL) {
		*err = g_strdup("imap: out of memory");
		return MP_ERR_INTERNAL;
	}
	r = mailimap_uid_search(m->s, NULL, key, &found);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return fail(m, r, "UID SEARCH", err);
	cand = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (it = clist_begin(found); it != NULL; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);

		if (uid <= upto)
			g_array_append_val(cand, uid);
	}
	if (cand->len == 0)
		goto done;
	g_array_sort(cand, cmp_uid);
	if ((set = make_set((uint32_t *)(void *)cand->data, cand->len)) ==
	    NULL) {
		*err = g_strdup("imap: out of memory");
		st = MP_ERR_INTERNAL;
		goto done;
	}
	/* The sizes tell the over-size messages apart. */
	st = uid_fetch(m, set, mailimap_fetch_att_new_rfc822_size(), &sizes,
	    err);
	if (st != MP_OK)
		goto done;
	for (it = clist_begin(sizes); it != NULL; it = clist_next(it)) {
		uint32_t uid = 0, size = 0;
		int has_size = 0;

		read_msg_att(clist_content(it), &uid, &size, &has_size, NULL);
		if (has_size && uid > 0 && uid <= upto && !oversize(m, size))
			g_array_append_val(uids, uid);
	}
done:
	if (sizes != NULL)
		mailimap_fetch_list_free(sizes);
	if (set != NULL)
		mailimap_set_free(set);
	if (found != NULL)
		mailimap_search_result_free(found);
	g_array_free(cand, TRUE);
	return st;
}

/* Waits while idling until the socket or wake_fd is readable, or until
 * the monotonic time until (microseconds). */
static enum wait_event
wait_idle_event(imap *m, int wake_fd, gint64 until)
{
	struct pollfd pfd[2];
	gint64 left;
	int r;

	for (;;) {
		/* Bytes libetpan already read (an EXISTS that came with
		 * "+ idling") would never wake poll(). */
		if (m->s->imap_stream->read_buffer_len > 0)
			return EV_DATA;
		left = (until - g_get_monotonic_time() + 999) / 1000;
		if (left <= 0)
			return EV_TIMEOUT;
		pfd[0].fd = mailimap_idle_get_fd(m->s);
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = wake_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		r = poll(pfd, wake_fd >= 0 ? 2 : 1,
		    left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return EV_ERROR;
		if (r == 0)
			continue;
		if (pfd[0].revents != 0)
			return EV_DATA;
		if (pfd[1].revents != 0)
			return EV_WAKE;
	}
}

mp_status
imap_wait(imap *m, int max_seconds, int wake_fd, int *woken, char **err)
{
	enum wait_event ev = EV_TIMEOUT;
	gint64 deadline, renew, until;
	mp_status st;
	int r, round;

	*woken = 0;
	if ((st = need_selected(m, err)) != MP_OK)
		return st;
	if (!m->has_idle) {
		*err = g_strdup_printf("imap %s:%d: server has no IDLE; poll "
		    "instead", m->host, m->port);
		return MP_ERR_NOT_FOUND;
	}
	if (m->s->imap_selection_info->sel_has_exists) {
		*woken = 1;
		return MP_OK;
	}
	deadline = g_get_monotonic_time() +
	    (gint64)(max_seconds > 0 ? max_seconds : 0) * G_USEC_PER_SEC;
	for (round = 0; round < WAIT_ROUNDS_MAX; round++) {
		if (g_get_monotonic_time() >= deadline)
			break;
		set_state(m, ST_IDLING);
		if ((r = mailimap_idle(m->s)) != MAILIMAP_NO_ERROR) {
			st = fail(m, r, "IDLE", err);
			goto done;
		}
		renew = g_get_monotonic_time() +
		    (gint64)IDLE_RENEW_S * G_USEC_PER_SEC;
		until = renew < deadline ? renew : deadline;
		ev = wait_idle_event(m, wake_fd, until);
		if (ev == EV_ERROR) {
			*err = g_strdup_printf("imap %s:%d %s: poll: %s; the "
			    "session is closed", m->host, m->port, m->user,
			    g_strerror(errno));
			break_link(m);
			st = MP_ERR_TEMP;
			goto done;
		}
		/* DONE reads whatever woke us, EXISTS included. */
		if ((r = mailimap_idle_done(m->s)) != MAILIMAP_NO_ERROR) {
			st = fail(m, r, "IDLE DONE", err);
			goto done;
		}
		set_state(m, ST_SELECTED);
		if (m->s->imap_selection_info->sel_has_exists) {
			*woken = 1;
			break;
		}
		if (ev == EV_WAKE)
			break;
	}
done:
	if (m->state == ST_IDLING)
		set_state(m, ST_SELECTED);
	return st;
}
