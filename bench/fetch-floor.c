/*
 * fetch-floor.c - what fetching a folder over IMAP costs, and nothing else.
 *
 *     fetch-floor PORT USER PASSWORD [HOST]
 *
 * libetpan only, no mailproc code.  Connects without TLS to HOST
 * (default 127.0.0.1):PORT, LOGINs, SELECTs INBOX, then fetches the
 * folder the way mailproc/imap.c does: `UID FETCH 1:* (UID RFC822.SIZE)`
 * for the listing, then `UID FETCH a:b (UID BODY.PEEK[])` over runs of
 * consecutive messages whose RFC822.SIZEs add up to at most 8 MiB (one
 * message at least, at most 5,000 messages; the same limits as imap.c).
 * Each body is touched (its bytes are summed) and the result freed before
 * the next batch.  BODY.PEEK sets no flag: the folder is left as it was.
 *
 * Prints "fetch-floor: N messages in S s = R msg/s" on stdout (and the
 * bytes fetched on stderr).  The time covers connect, LOGIN, SELECT, the
 * listing, the body fetches and LOGOUT.  Exit 1 on any IMAP failure.
 *
 * Build (the -specs= flag that libetpan's .pc carries is dropped, as the
 * Makefile does):
 *   cc -O2 -std=gnu11 -Wall -Wextra -Werror bench/fetch-floor.c \
 *       $(pkg-config --cflags libetpan) \
 *       $(pkg-config --libs libetpan | sed 's/-specs=[^ ]\{1,\}//g') \
 *       -o build/bench/fetch-floor
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libetpan/libetpan.h>

#define CHUNK_BYTES	((size_t)8 * 1024 * 1024)
#define BATCH_MAX	5000
#define TIMEOUT_S	60

struct entry {
	uint32_t uid;
	uint32_t size;
};

static const char *step = "start";

static void
die(int r)
{
	fprintf(stderr, "fetch-floor: %s failed (libetpan error %d)\n", step,
	    r);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Runs UID FETCH set (UID att); the set and att are consumed here. */
static clist *
uid_fetch(mailimap *s, struct mailimap_set *set, struct mailimap_fetch_att *att)
{
	struct mailimap_fetch_type *ft;
	clist *result = NULL;
	int r;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	if (ft == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid()) != MAILIMAP_NO_ERROR ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, att) !=
	    MAILIMAP_NO_ERROR)
		die(MAILIMAP_ERROR_MEMORY);
	r = mailimap_uid_fetch(s, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		die(r);
	return result;
}

/* UID, RFC822.SIZE and BODY[] of one FETCH response, those present. */
static void
read_att(struct mailimap_msg_att *att, uint32_t *uid, uint32_t *size,
    int *has_size, const char **body, size_t *len)
{
	clistiter *it;

	for (it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
		    (st = item->att_data.att_static) == NULL)
			continue;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			*uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
			*size = st->att_data.att_rfc822_size;
			*has_size = 1;
		} else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
		    body != NULL && st->att_data.att_body_section != NULL) {
			*body = st->att_data.att_body_section->sec_body_part;
			*len = st->att_data.att_body_section->sec_length;
		}
	}
}

int
main(int argc, char **argv)
{
	struct entry *e = NULL;
	size_t n = 0, cap = 0, i, j, got = 0, bytes = 0, sum;
	unsigned long fold = 0;
	const char *host;
	mailimap *s;
	clist *result;
	clistiter *it;
	double t0, t1;
	int r, port;

	if (argc < 4 || argc > 5 || (port = atoi(argv[1])) <= 0 ||
	    port > 65535) {
		fprintf(stderr, "usage: fetch-floor PORT USER PASSWORD [HOST]\n");
		return 2;
	}
	host = argc == 5 ? argv[4] : "127.0.0.1";
	signal(SIGPIPE, SIG_IGN);

	t0 = now();
	if ((s = mailimap_new(0, NULL)) == NULL)
		die(MAILIMAP_ERROR_MEMORY);
	mailimap_set_timeout(s, TIMEOUT_S);
	step = "connect";
	r = mailimap_socket_connect(s, host, (uint16_t)port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
		die(r);
	step = "LOGIN";
	if ((r = mailimap_login(s, argv[2], argv[3])) != MAILIMAP_NO_ERROR)
		die(r);
	step = "SELECT INBOX";
	if ((r = mailimap_select(s, "INBOX")) != MAILIMAP_NO_ERROR)
		die(r);

	step = "UID FETCH 1:* (UID RFC822.SIZE)";
	result = uid_fetch(s, mailimap_set_new_interval(1, 0),
	    mailimap_fetch_att_new_rfc822_size());
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		struct entry x = { 0, 0 };
		int has_size = 0;

		read_att(clist_content(it), &x.uid, &x.size, &has_size, NULL,
		    NULL);
		if (x.uid == 0 || !has_size)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((e = realloc(e, cap * sizeof(*e))) == NULL)
				die(MAILIMAP_ERROR_MEMORY);
		}
		e[n++] = x;
	}
	mailimap_fetch_list_free(result);
	qsort(e, n, sizeof(*e), cmp_entry);

	step = "UID FETCH a:b (UID BODY.PEEK[])";
	for (i = 0; i < n; i = j) {
		sum = 0;
		for (j = i; j < n && j - i < BATCH_MAX; j++) {
			if (j > i && sum + e[j].size > CHUNK_BYTES)
				break;
			sum += e[j].size;
		}
		result = uid_fetch(s, mailimap_set_new_interval(e[i].uid,
		    e[j - 1].uid), mailimap_fetch_att_new_body_peek_section(
		    mailimap_section_new(NULL)));
		for (it = clist_begin(result); it != NULL;
		    it = clist_next(it)) {
			const char *body = NULL;
			size_t len = 0, k;
			uint32_t uid = 0, size = 0;
			int has_size = 0;

			read_att(clist_content(it), &uid, &size, &has_size,
			    &body, &len);
			if (body == NULL)
				continue;
			for (k = 0; k < len; k++)
				fold += (unsigned char)body[k];
			bytes += len;
			got++;
		}
		mailimap_fetch_list_free(result);
	}

	step = "LOGOUT";
	mailimap_logout(s);
	mailimap_free(s);
	t1 = now();
	free(e);

	fprintf(stderr, "fetch-floor: %zu listed, %zu bodies, %zu bytes "
	    "(byte sum %lu)\n", n, got, bytes, fold);
	printf("fetch-floor: %zu messages in %.3f s = %.0f msg/s\n", got,
	    t1 - t0, t1 > t0 ? (double)got / (t1 - t0) : 0.0);
	return got == n ? 0 : 1;
}
