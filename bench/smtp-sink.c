/*
 * smtp-sink - an SMTP server that accepts every message and keeps only a
 * count, so that a benchmark measures the client and not the server.
 *
 *     smtp-sink DIR
 *
 * Listens on 127.0.0.1 on a free port, writes the port to DIR/port and its
 * PID to DIR/pid, then serves any number of connections at once (one
 * thread, poll).  After every accepted message DIR/count holds
 * "MESSAGES RECIPIENTS\n": a message with three RCPTs counts 1 and 3;
 * DIR/connections holds the number of connections accepted so far.
 * It speaks just enough of RFC 5321 for a client that sends EHLO, MAIL,
 * RCPT, DATA, RSET, NOOP and QUIT, with PIPELINING; anything else gets
 * 502.  Stops on SIGTERM or SIGINT.  Loopback only, never a real server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 64
#define LINE_MAX_LEN 4096

struct conn {
	int fd;
	int in_data;
	int dstate;		/* DATA end matcher: 2 = at a line start */
	int rcpts;
	size_t len;		/* bytes of an unfinished command line */
	char line[LINE_MAX_LEN];
};

static volatile sig_atomic_t stop;
static long messages, recipients;
static int count_fd = -1;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void
say(struct conn *c, const char *text)
{
	size_t n = strlen(text), off = 0;

	while (off < n) {
		ssize_t w = write(c->fd, text + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;		/* the reader sees the close */
		off += (size_t)w;
	}
}

static void
write_count(void)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%ld %ld\n", messages, recipients);

	if (ftruncate(count_fd, 0) < 0 || pwrite(count_fd, buf, (size_t)n, 0) <
	    0)
		perror("smtp-sink: count");
}

/* One command line (without CRLF); returns 0 when the session ends. */
static int
command(struct conn *c, const char *l)
{
	if (strncasecmp(l, "EHLO", 4) == 0)
		say(c, "250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	else if (strncasecmp(l, "HELO", 4) == 0)
		say(c, "250 sink\r\n");
	else if (strncasecmp(l, "MAIL", 4) == 0) {
		c->rcpts = 0;
		say(c, "250 ok\r\n");
	} else if (strncasecmp(l, "RCPT", 4) == 0) {
		c->rcpts++;
		say(c, "250 ok\r\n");
	} else if (strncasecmp(l, "DATA", 4) == 0) {
		if (c->rcpts == 0) {
			say(c, "503 no recipients\r\n");
			return 1;
		}
		c->in_data = 1;
		c->dstate = 2;
		say(c, "354 go on\r\n");
	} else if (strncasecmp(l, "RSET", 4) == 0) {
		c->rcpts = 0;
		say(c, "250 ok\r\n");
	} else if (strncasecmp(l, "NOOP", 4) == 0)
		say(c, "250 ok\r\n");
	else if (strncasecmp(l, "QUIT", 4) == 0) {
		say(c, "221 bye\r\n");
		return 0;
	} else
		say(c, "502 not here\r\n");
	return 1;
}

/* Feeds n bytes read from c; returns 0 when the session ends. */
static int
feed(struct conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (c->in_data) {
			/* States: 0 in a line, 1 CR, 2 line start, 3 ".",
			 * 4 ".CR"; LF in state 4 ends the message. */
			switch (c->dstate) {
			case 3: c->dstate = ch == '\r' ? 4 : 0; break;
			case 4:
				if (ch == '\n') {
					c->in_data = 0;
					messages++;
					recipients += c->rcpts;
					c->rcpts = 0;
					write_count();
					say(c, "250 stored\r\n");
				} else
					c->dstate = 0;
				break;
			case 2:
				if (ch == '.') {
					c->dstate = 3;
					break;
				}
				/* FALLTHROUGH */
			default:
				if (ch == '\r')
					c->dstate = 1;
				else if (ch == '\n' && c->dstate == 1)
					c->dstate = 2;
				else
					c->dstate = 0;
			}
			continue;
		}
		if (ch == '\n') {
			if (c->len && c->line[c->len - 1] == '\r')
				c->len--;
			c->line[c->len] = '\0';
			c->len = 0;
			if (!command(c, c->line))
				return 0;
		} else if (c->len < sizeof c->line - 1)
			c->line[c->len++] = ch;
		else {
			say(c, "500 line too long\r\n");
			return 0;
		}
	}
	return 1;
}

static void
put_file(const char *dir, const char *name, long value)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(f, "%ld\n", value);
	fclose(f);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	struct pollfd pf[MAX_CONN + 1];
	static struct conn conns[MAX_CONN];
	char path[4096], buf[65536];
	int lfd, one = 1, nconn = 0;
	long accepted = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: smtp-sink DIR\n");
		return 2;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof path, "%s/count", argv[1]);
	if ((count_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		perror(path);
		return 1;
	}
	write_count();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("smtp-sink: listen");
		return 1;
	}
	put_file(argv[1], "pid", (long)getpid());
	put_file(argv[1], "port", ntohs(sa.sin_port));
	while (!stop) {
		pf[0].fd = lfd;
		pf[0].events = POLLIN;
		for (int i = 0; i < nconn; i++) {
			pf[i + 1].fd = conns[i].fd;
			pf[i + 1].events = POLLIN;
		}
		if (poll(pf, (nfds_t)nconn + 1, 500) < 0) {
			if (errno == EINTR)
				continue;
			perror("smtp-sink: poll");
			return 1;
		}
		for (int i = nconn - 1; i >= 0; i--) {
			ssize_t n;

			if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(conns[i].fd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0 && feed(&conns[i], buf, (size_t)n))
				continue;
			close(conns[i].fd);
			conns[i] = conns[--nconn];
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				continue;
			if (nconn == MAX_CONN) {
				close(fd);
				continue;
			}
			memset(&conns[nconn], 0, sizeof conns[nconn]);
			conns[nconn].fd = fd;
			say(&conns[nconn], "220 sink ESMTP\r\n");
			nconn++;
			put_file(argv[1], "connections", ++accepted);
		}
	}
	close(lfd);
	return 0;
}
