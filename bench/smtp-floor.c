/*
 * smtp-floor.c - what sending notices over SMTP costs, and nothing else.
 *
 *     smtp-floor URL FROM RCPT FILE COUNT
 *
 * libcurl only, no mailproc code.  Sends the message in FILE (CRLF line
 * ends, as mailproc composes its notices) COUNT times from FROM to RCPT
 * over one easy handle, so the connection is reused the way
 * mailproc/smtp.c reuses it: one MAIL FROM, RCPT TO, DATA per message.  No
 * TLS, no store, no composing.
 *
 * Prints "smtp-floor: N messages in S s = R msg/s" on stdout.  Exit 1 when
 * a message is refused or the connection fails.
 *
 * Build:
 *   cc -O2 -std=gnu11 -Wall -Wextra -Werror bench/smtp-floor.c \
 *       $(pkg-config --cflags --libs libcurl) -o build/bench/smtp-floor
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct src {
	const char *data;
	size_t len, off;
};

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *p)
{
	struct src *s = p;
	size_t n = size * nmemb;

	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	return n;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct curl_slist *rcpt = NULL;
	struct src s = { NULL, 0, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	char *data = NULL;
	long count, i, code = 0;
	size_t cap = 0, got;
	double t0, t1;
	FILE *f;
	CURL *h;
	CURLcode cc;

	if (argc != 6 || (count = atol(argv[5])) <= 0) {
		fprintf(stderr, "usage: smtp-floor URL FROM RCPT FILE COUNT\n");
		return 2;
	}
	if ((f = fopen(argv[4], "rb")) == NULL) {
		perror(argv[4]);
		return 1;
	}
	do {
		if (s.len == cap && (data = realloc(data, cap = cap * 2 +
		    65536)) == NULL) {
			fprintf(stderr, "smtp-floor: out of memory\n");
			return 1;
		}
		got = fread(data + s.len, 1, cap - s.len, f);
		s.len += got;
	} while (got > 0);
	fclose(f);
	s.data = data;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((h = curl_easy_init()) == NULL ||
	    (rcpt = curl_slist_append(NULL, argv[3])) == NULL) {
		fprintf(stderr, "smtp-floor: curl init failed\n");
		return 1;
	}
	curl_easy_setopt(h, CURLOPT_URL, argv[1]);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, argv[2]);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &s);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s.len);

	t0 = now();
	for (i = 0; i < count; i++) {
		s.off = 0;
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (cc != CURLE_OK || code != 250) {
			fprintf(stderr, "smtp-floor: message %ld: %s (%ld) %s\n",
			    i + 1, curl_easy_strerror(cc), code, errbuf);
			return 1;
		}
	}
	t1 = now();
	printf("smtp-floor: %ld messages in %.3f s = %.0f msg/s\n", count,
	    t1 - t0, t1 > t0 ? (double)count / (t1 - t0) : 0.0);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	free(data);
	return 0;
}
