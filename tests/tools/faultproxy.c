// SPDX-License-Identifier: Apache-2.0
// Test tool: a hostile network between Coffer's workers and the services
// they use, as a real process on loopback (the hostile-cloud suite,
// tests/integration/e2e_*.sh). It relays TCP from a listening port to a
// server and, reading just enough of the protocol to find what it
// attacks, changes what goes through:
//
//   faultproxy --listen PORT --to PORT --log FILE --mode resp [--every K]
//       between workers and Redis (doc/queue.md): of the item deliveries
//       (a BLMOVE answer, the next item of an ack_next answer, each item
//       of a take_more answer), every K-th
//       (default 2) is attacked, in turn: DROPPED (the worker is told the
//       queue is empty; the item stays in its in-flight list), DUPLICATED
//       (delivered as asked, and delivered again later to the next worker
//       told the queue is empty, with a claim answer faked to match), or
//       REORDERED (its answer held for a second, while other workers take
//       later items).
//   faultproxy --listen PORT --to PORT --log FILE --mode http
//       [--record DIR] [--hold-proofs N]
//       between workers and the coordinator: records every key-release
//       and item-proof request, as sent, in DIR/NNN-release.req and
//       DIR/NNN-proofs.req (for replay), and holds the answers to the
//       first N item-proof requests forever: the coordinator committed the
//       proofs, the worker never learns it and never acknowledges the item.
//
// Every fault is a line of --log ("drop ITEM", "dup ITEM", "reorder
// ITEM", "record FILE", "hold proofs"), so a test can check that it
// happened. --ready-file FILE is written once the port listens. One
// thread, poll(2); it runs until killed.
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/num.h"

#define MAX_CONNS 256
#define BUF_MAX ((size_t)64 << 20)
#define REORDER_HOLD_MS 1000
#define MAX_PENDING 128

enum mode { MODE_RESP, MODE_HTTP };

/* A growable byte buffer. */
struct bytes {
	char *p;
	size_t len, cap;
};

static int
put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > BUF_MAX)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *q;

		while (cap < b->len + n)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void
consume(struct bytes *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* What a request was, to judge its answer. */
enum req_kind {
	REQ_OTHER = 0,
	REQ_BLMOVE,      /* resp: a take */
	REQ_EVALSHA,     /* resp: a script; arg = its ARGV[2] (the item) */
	REQ_PROOFS,      /* http: POST .../proofs */
};

struct req {
	int kind;
	char arg[1100];
};

struct conn {
	int cfd, sfd;            /* client side, server side */
	struct bytes c2s, s2c;   /* unparsed bytes from each side */
	struct bytes out_c, out_s; /* to write to each side */
	struct bytes held;       /* answers held back (reorder) */
	int64_t release_ms;      /* when held goes out (0: nothing held) */
	int hold_forever;        /* http: answers are never forwarded */
	struct req pending[MAX_PENDING];
	size_t npending;
	char faked[1100];        /* resp: an item this connection was given
	                            by the proxy; its claim answer is faked */
};

static struct {
	enum mode mode;
	FILE *log;
	const char *record;
	int every, hold_proofs, to_port;
	long deliveries, recorded;
	char dup[1100];          /* a delivered item to deliver again */
} g;

static void
logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(g.log, fmt, ap);
	va_end(ap);
	fputc('\n', g.log);
	fflush(g.log);
}

/* The client's request of n bytes at the head of c->c2s, of kind rq: noted
 * (its answer is judged by it) and sent on to the server. */
static int
forward_request(struct conn *c, const struct req *rq, size_t n)
{
	if (c->npending == MAX_PENDING)
		return -1;
	c->pending[c->npending++] = *rq;
	if (put(&c->out_s, c->c2s.p, n) != 0)
		return -1;
	consume(&c->c2s, n);
	return 0;
}

/* The request the server's next answer answers (answers come in order). */
static struct req
next_pending(struct conn *c)
{
	struct req rq = { REQ_OTHER, "" };

	if (c->npending > 0) {
		rq = c->pending[0];
		memmove(c->pending, c->pending + 1,
		    (c->npending - 1) * sizeof(c->pending[0]));
		c->npending--;
	}
	return rq;
}

/* ------------------------------------------------------------------ */
/* RESP (doc/queue.md: hiredis speaks RESP2) */

/* The length of the CRLF-terminated line at p (without CRLF), or -1. */
static long
line_len(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return (long)i;
	return -1;
}

static int
parse_num(const char *p, long n, int64_t *v)
{
	char tmp[32];

	if (n <= 0 || n >= (long)sizeof(tmp))
		return -1;
	memcpy(tmp, p, (size_t)n);
	tmp[n] = '\0';
	return coffer_parse_i64(tmp, -1, INT32_MAX, v) == 0 ? 0 : -1;
}

/* The size of one complete RESP value at p, 0 if incomplete, -1 if it is
 * not RESP. */
static long
resp_value(const char *p, size_t n, int depth)
{
	long l, used;
	int64_t v;

	if (n < 3)
		return 0;
	if (depth > 8 || (l = line_len(p, n)) < 0)
		return depth > 8 ? -1 : 0;
	switch (p[0]) {
	case '+': case '-': case ':':
		return l + 2;
	case '$':
		if (parse_num(p + 1, l - 1, &v) != 0)
			return -1;
		if (v < 0)
			return l + 2;
		if ((size_t)(l + 2 + v + 2) > n)
			return 0;
		return l + 2 + (long)v + 2;
	case '*':
		if (parse_num(p + 1, l - 1, &v) != 0)
			return -1;
		used = l + 2;
		for (int64_t i = 0; i < v; i++) {
			long e = resp_value(p + used, n - (size_t)used, depth + 1);

			if (e <= 0)
				return e;
			used += e;
		}
		return used;
	default:
		return -1;
	}
}

/* The i-th element of an array value (a bulk string) into out; 1 if it
 * was one. Scalars only: commands are arrays of bulk strings. */
static int
resp_arg(const char *p, size_t n, int i, char *out, size_t outlen)
{
	long l = line_len(p, n), used;
	int64_t cnt, v;

	if (p[0] != '*' || l < 0 || parse_num(p + 1, l - 1, &cnt) != 0 || i >= cnt)
		return 0;
	used = l + 2;
	for (int k = 0; k <= i; k++) {
		const char *e = p + used;
		long el = line_len(e, n - (size_t)used);

		if (e[0] != '$' || el < 0 || parse_num(e + 1, el - 1, &v) != 0 || v < 0)
			return 0;
		if (k == i) {
			size_t m = (size_t)v < outlen - 1 ? (size_t)v : outlen - 1;

			memcpy(out, e + el + 2, m);
			out[m] = '\0';
			return 1;
		}
		used += el + 2 + (long)v + 2;
	}
	return 0;
}

static void
bulk(struct bytes *b, const char *s)
{
	char head[32];
	int n = snprintf(head, sizeof(head), "$%zu\r\n", strlen(s));

	(void)put(b, head, (size_t)n);
	(void)put(b, s, strlen(s));
	(void)put(b, "\r\n", 2);
}

/* Which fault, if any, the next item delivery gets: 0 none, 1 drop,
 * 2 dup, 3 reorder. */
static int
next_fault(void)
{
	long i = g.deliveries++;

	if (g.every <= 0 || i % g.every != g.every - 1)
		return 0;
	return (int)((i / g.every) % 3) + 1;
}

/* Faults 2 and 3 of a delivered item: remember it to deliver again, or
 * hold c's answers back (from this one on) for REORDER_HOLD_MS; 1 if
 * held. */
static int
dup_or_hold(struct conn *c, int f, const char *item)
{
	if (f == 2 && g.dup[0] == '\0') {
		logf_("dup %s", item);
		snprintf(g.dup, sizeof(g.dup), "%s", item);
	}
	if (f == 3 && c->release_ms == 0) {
		logf_("reorder %s", item);
		c->release_ms = coffer_mono_ms() + REORDER_HOLD_MS;
		return 1;
	}
	return 0;
}

/*
 * One complete answer v (n bytes) to request rq on connection c: forward
 * it, changed or not, to c->out_c (or hold it).
 */
static void
resp_answer(struct conn *c, const struct req *rq, const char *v, size_t n)
{
	struct bytes *out = c->release_ms ? &c->held : &c->out_c;
	char item[1100];
	int f;

	if (rq->kind == REQ_BLMOVE && v[0] == '$' && v[1] != '-') {
		/* An item delivered: $len CRLF item CRLF. */
		long l = line_len(v, n);
		size_t m = n - (size_t)l - 4;

		snprintf(item, sizeof(item), "%.*s", (int)(m < sizeof(item) ? m :
		    sizeof(item) - 1), v + l + 2);
		f = next_fault();
		if (f == 1) {
			logf_("drop %s", item);
			(void)put(out, "$-1\r\n", 5);
			return;
		}
		if (dup_or_hold(c, f, item))
			out = &c->held;
		(void)put(out, v, n);
		return;
	}
	if (rq->kind == REQ_BLMOVE && g.dup[0] != '\0') {
		/* The queue is empty: deliver the duplicate instead, and fake
		 * its claim (the item is in another worker's list). */
		logf_("dup-delivered %s", g.dup);
		bulk(out, g.dup);
		snprintf(c->faked, sizeof(c->faked), "%s", g.dup);
		g.dup[0] = '\0';
		return;
	}
	if (rq->kind == REQ_EVALSHA && c->faked[0] != '\0' &&
	    strcmp(rq->arg, c->faked) == 0 && v[0] == '*' &&
	    n >= 4 && memcmp(v, "*2\r\n", 4) == 0) {
		/* claim of the faked delivery: {1, attempt}. */
		c->faked[0] = '\0';
		(void)put(out, "*2\r\n:1\r\n:1\r\n", 13);
		return;
	}
	(void)put(out, v, n);
}

/*
 * take_more's answer (doc/queue.md 4.3a): {item, attempt, ...}, an array
 * of bulk strings each followed by an integer. Each item is a delivery:
 * a DROPPED one is left out of the answer (it stays in the worker's
 * in-flight list; its lease expires unrenewed), a DUPLICATED one is
 * delivered and remembered, a REORDERED one holds the answer back. 1 if
 * v (n bytes) was such an answer (then handled), 0 if not.
 */
static int
take_more_answer(struct conn *c, const char *v, size_t n)
{
	struct bytes kept = { 0 };
	const char *p;
	long l = line_len(v, n), e1, e2;
	int64_t cnt, blen;
	int64_t nk = 0;
	int held = 0;
	char head[32], item[1100];

	if (v[0] != '*' || l < 0 || parse_num(v + 1, l - 1, &cnt) != 0 ||
	    cnt < 2 || cnt % 2 != 0)
		return 0;
	/* Every pair a bulk string and an integer, else not take_more's. */
	p = v + l + 2;
	for (int64_t i = 0; i < cnt; i += 2) {
		e1 = resp_value(p, (size_t)(v + n - p), 1);
		if (e1 <= 0 || p[0] != '$' || p[1] == '-')
			return 0;
		e2 = resp_value(p + e1, (size_t)(v + n - p - e1), 1);
		if (e2 <= 0 || p[e1] != ':')
			return 0;
		p += e1 + e2;
	}
	p = v + l + 2;
	for (int64_t i = 0; i < cnt; i += 2) {
		long hl = line_len(p, (size_t)(v + n - p));
		int f;

		e1 = resp_value(p, (size_t)(v + n - p), 1);
		e2 = resp_value(p + e1, (size_t)(v + n - p - e1), 1);
		(void)parse_num(p + 1, hl - 1, &blen);
		snprintf(item, sizeof(item), "%.*s", (int)(blen < 1099 ? blen : 1099),
		    p + hl + 2);
		f = next_fault();
		if (f == 1) {
			logf_("drop %s", item);
		} else {
			held |= dup_or_hold(c, f, item);
			(void)put(&kept, p, (size_t)(e1 + e2));
			nk += 2;
		}
		p += e1 + e2;
	}
	snprintf(head, sizeof(head), "*%lld\r\n", (long long)nk);
	{
		struct bytes *out = held || c->release_ms ? &c->held : &c->out_c;

		(void)put(out, head, strlen(head));
		if (kept.len > 0)
			(void)put(out, kept.p, kept.len);
	}
	free(kept.p);
	return 1;
}

static int
resp_pump(struct conn *c)
{
	long n;

	/* Requests: note what each is; forward as they are. */
	while ((n = resp_value(c->c2s.p, c->c2s.len, 0)) > 0) {
		struct req rq;
		char cmd[32];

		memset(&rq, 0, sizeof(rq));
		if (resp_arg(c->c2s.p, c->c2s.len, 0, cmd, sizeof(cmd))) {
			if (strcasecmp(cmd, "BLMOVE") == 0)
				rq.kind = REQ_BLMOVE;
			else if (strcasecmp(cmd, "EVALSHA") == 0 ||
			    strcasecmp(cmd, "EVAL") == 0) {
				rq.kind = REQ_EVALSHA;
				/* EVALSHA sha numkeys prefix worker item ... */
				(void)resp_arg(c->c2s.p, c->c2s.len, 5, rq.arg,
				    sizeof(rq.arg));
			}
		}
		if (forward_request(c, &rq, (size_t)n) != 0)
			return -1;
	}
	if (n < 0)
		return -1;
	/* Answers, in request order. */
	while ((n = resp_value(c->s2c.p, c->s2c.len, 0)) > 0) {
		struct req rq = next_pending(c);

		/* ack_next's answer {added, ours, next, attempt}: the next item
		 * is a delivery too. */
		if (rq.kind == REQ_EVALSHA && c->s2c.p[0] == '*' &&
		    memcmp(c->s2c.p, "*4\r\n", 4) == 0) {
			const char *v = c->s2c.p;
			long l1 = line_len(v + 4, (size_t)n - 4);
			long l2 = l1 >= 0 ? line_len(v + 4 + l1 + 2,
			    (size_t)n - 4 - (size_t)l1 - 2) : -1;
			const char *third = l2 >= 0 ? v + 4 + l1 + 2 + l2 + 2 : NULL;

			if (third != NULL && third[0] == '$' && third[1] != '-') {
				int f = next_fault();
				long tl = line_len(third, (size_t)(v + n - third));
				int64_t blen = 0;
				char item[1100];

				(void)parse_num(third + 1, tl - 1, &blen);
				snprintf(item, sizeof(item), "%.*s", (int)blen, third + tl + 2);
				if (f == 1) {
					struct bytes *out = c->release_ms ? &c->held :
					    &c->out_c;

					/* Same counts, no next item: the lease the
					 * script set expires unrenewed. */
					logf_("drop %s", item);
					(void)put(out, v, (size_t)(third - v));
					(void)put(out, "$-1\r\n:0\r\n", 9);
					consume(&c->s2c, (size_t)n);
					continue;
				}
				(void)dup_or_hold(c, f, item);
			}
		}
		if (rq.kind == REQ_EVALSHA && take_more_answer(c, c->s2c.p, (size_t)n)) {
			consume(&c->s2c, (size_t)n);
			continue;
		}
		resp_answer(c, &rq, c->s2c.p, (size_t)n);
		consume(&c->s2c, (size_t)n);
	}
	return n < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* HTTP/1.1 with Content-Length bodies (doc/api-coordinator.md) */

/* The size of one complete message at p (head and body), 0 if
 * incomplete, -1 if not HTTP; *head the size of its head. */
static long
http_message(const char *p, size_t n, size_t *head)
{
	const char *end = NULL;
	int64_t cl = 0;

	for (size_t i = 0; i + 3 < n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
			end = p + i + 4;
			break;
		}
	if (end == NULL)
		return n > 65536 ? -1 : 0;
	*head = (size_t)(end - p);
	for (const char *l = p; l < end - 2;) {
		const char *e = memchr(l, '\n', (size_t)(end - l));

		if (e == NULL)
			break;
		if (e - l > 15 && strncasecmp(l, "Content-Length:", 15) == 0) {
			char tmp[32];
			const char *s = l + 15;
			size_t k;

			while (*s == ' ')
				s++;
			k = strcspn(s, "\r\n");
			if (k == 0 || k >= sizeof(tmp))
				return -1;
			memcpy(tmp, s, k);
			tmp[k] = '\0';
			if (coffer_parse_i64(tmp, 0, INT32_MAX, &cl) != 0)
				return -1;
		}
		l = e + 1;
	}
	if (*head + (size_t)cl > n)
		return 0;
	return (long)(*head + (size_t)cl);
}

static void
record(const char *what, const char *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%03ld-%s.req", g.record, ++g.recorded,
	    what);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	(void)fwrite(p, 1, n, f);
	fclose(f);
	logf_("record %s", path);
}

static int
http_pump(struct conn *c)
{
	size_t head;
	long n;

	while ((n = http_message(c->c2s.p, c->c2s.len, &head)) > 0) {
		struct req rq = { REQ_OTHER, "" };
		size_t lineend = strcspn(c->c2s.p, "\r\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)(lineend < sizeof(line) ?
		    lineend : sizeof(line) - 1), c->c2s.p);
		if (strncmp(line, "POST ", 5) == 0 && strstr(line, "/proofs ") != NULL) {
			rq.kind = REQ_PROOFS;
			if (g.record != NULL)
				record("proofs", c->c2s.p, (size_t)n);
		} else if (strncmp(line, "POST ", 5) == 0 &&
		    strstr(line, "/release ") != NULL && g.record != NULL) {
			record("release", c->c2s.p, (size_t)n);
		}
		if (forward_request(c, &rq, (size_t)n) != 0)
			return -1;
	}
	if (n < 0)
		return -1;
	while ((n = http_message(c->s2c.p, c->s2c.len, &head)) > 0) {
		struct req rq = next_pending(c);

		if (rq.kind == REQ_PROOFS && g.hold_proofs > 0 && !c->hold_forever) {
			g.hold_proofs--;
			c->hold_forever = 1;
			logf_("hold proofs");
		}
		if (!c->hold_forever && put(&c->out_c, c->s2c.p, (size_t)n) != 0)
			return -1;
		consume(&c->s2c, (size_t)n);
	}
	return n < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */

static struct conn *conns[MAX_CONNS];

static void
conn_free(struct conn *c)
{
	close(c->cfd);
	close(c->sfd);
	free(c->c2s.p);
	free(c->s2c.p);
	free(c->out_c.p);
	free(c->out_s.p);
	free(c->held.p);
	free(c);
}

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
connect_server(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)g.to_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Read what fd has into b; -1 on end or error (what was read before
 * still goes through). */
static int
fill(int fd, struct bytes *b)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0 || put(b, buf, (size_t)n) != 0)
		return -1;
	return 0;
}

static int
drain(int fd, struct bytes *b)
{
	while (b->len > 0) {
		ssize_t n = write(fd, b->p, b->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		consume(b, (size_t)n);
	}
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: faultproxy --listen PORT --to PORT --log FILE "
	    "--mode resp|http\n    [--every K] [--record DIR] [--hold-proofs N] "
	    "[--ready-file FILE]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'L' },
		{ "mode", required_argument, NULL, 'm' },
		{ "every", required_argument, NULL, 'e' },
		{ "record", required_argument, NULL, 'r' },
		{ "hold-proofs", required_argument, NULL, 'H' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in sa;
	const char *logpath = NULL, *ready = NULL;
	int lport = -1, lfd, one = 1, c;

	g.every = 2;
	g.to_port = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (coffer_parse_int(optarg, 0, 65535, &lport) != 0)
				return usage();
			break;
		case 't':
			if (coffer_parse_int(optarg, 1, 65535, &g.to_port) != 0)
				return usage();
			break;
		case 'L': logpath = optarg; break;
		case 'm':
			if (strcmp(optarg, "resp") == 0)
				g.mode = MODE_RESP;
			else if (strcmp(optarg, "http") == 0)
				g.mode = MODE_HTTP;
			else
				return usage();
			break;
		case 'e':
			if (coffer_parse_int(optarg, 0, 1000000, &g.every) != 0)
				return usage();
			break;
		case 'r': g.record = optarg; break;
		case 'H':
			if (coffer_parse_int(optarg, 0, 1000000, &g.hold_proofs) != 0)
				return usage();
			break;
		case 'R': ready = optarg; break;
		default: return usage();
		}
	}
	if (lport < 0 || g.to_port < 0 || logpath == NULL || optind != argc)
		return usage();
	if ((g.log = fopen(logpath, "a")) == NULL) {
		fprintf(stderr, "faultproxy: %s: %s\n", logpath, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)lport);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 64) != 0) {
		fprintf(stderr, "faultproxy: port %d: %s\n", lport, strerror(errno));
		return 1;
	}
	if (ready != NULL) {
		FILE *f = fopen(ready, "w");

		if (f != NULL) {
			fprintf(f, "%d\n", lport);
			fclose(f);
		}
	}
	for (;;) {
		struct pollfd pf[1 + 2 * MAX_CONNS];
		int np = 1, timeout = 1000;
		int64_t now = coffer_mono_ms();

		pf[0].fd = lfd;
		pf[0].events = POLLIN;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *k = conns[i];

			if (k == NULL)
				continue;
			if (k->release_ms != 0) {
				if (now >= k->release_ms) {
					(void)put(&k->out_c, k->held.p, k->held.len);
					k->held.len = 0;
					k->release_ms = 0;
				} else if (k->release_ms - now < timeout) {
					timeout = (int)(k->release_ms - now);
				}
			}
			pf[np].fd = k->cfd;
			pf[np].events = POLLIN | (k->out_c.len ? POLLOUT : 0);
			pf[np + 1].fd = k->sfd;
			pf[np + 1].events = POLLIN | (k->out_s.len ? POLLOUT : 0);
			np += 2;
		}
		if (poll(pf, (nfds_t)np, timeout) < 0 && errno != EINTR)
			return 1;
		if (pf[0].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), sfd, slot = -1;

			for (int i = 0; i < MAX_CONNS && cfd >= 0; i++)
				if (conns[i] == NULL) {
					slot = i;
					break;
				}
			if (cfd >= 0 && (slot < 0 || (sfd = connect_server()) < 0)) {
				close(cfd);
			} else if (cfd >= 0) {
				struct conn *k = calloc(1, sizeof(*k));

				if (k == NULL) {
					close(cfd);
					close(sfd);
				} else {
					(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one,
					    sizeof(one));
					nonblock(cfd);
					nonblock(sfd);
					k->cfd = cfd;
					k->sfd = sfd;
					conns[slot] = k;
				}
			}
		}
		np = 1;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *k = conns[i];
			int bad = 0;

			if (k == NULL)
				continue;
			/* pf[] has the connections that existed before this
			 * round's accept, in slot order. */
			if (pf[np].fd != k->cfd)
				continue;
			if (pf[np].revents & (POLLIN | POLLHUP | POLLERR))
				bad |= fill(k->cfd, &k->c2s);
			if (pf[np + 1].revents & (POLLIN | POLLHUP | POLLERR))
				bad |= fill(k->sfd, &k->s2c);
			np += 2;
			/* What arrived before an end still goes through. */
			bad |= (g.mode == MODE_RESP ? resp_pump(k) : http_pump(k));
			bad |= drain(k->sfd, &k->out_s) | drain(k->cfd, &k->out_c);
			if (bad) {
				conn_free(k);
				conns[i] = NULL;
			}
		}
	}
}
