// SPDX-License-Identifier: Apache-2.0
// A standby worker's assignment (doc/worker.md 2.2): the job's settings
// as NAME=VALUE lines on stdin, read and checked here, then parsed by the
// same code as the environment (config.c, worker_config_parse_vars).
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "worker/worker.h"

/* Where the assignment ends in b from offset from on: the index just past
 * its empty line, or 0 if it has not come yet. */
static size_t
assign_end(const struct coffer_buf *b, size_t from)
{
	const uint8_t *p = b->data;

	if (b->len > 0 && p[0] == '\n')
		return 1;
	for (size_t i = from > 0 ? from : 1; i < b->len; i++)
		if (p[i] == '\n' && p[i - 1] == '\n')
			return i + 1;
	return 0;
}

int
worker_assign_read(int fd, volatile sig_atomic_t *stop, struct coffer_buf *out,
    int *closed)
{
	size_t scanned = 0, end;
	int r;

	*closed = 0;
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		uint8_t *p;
		ssize_t n;

		if (stop != NULL && *stop)
			return coffer_errf(COFFER_E_CANCELLED, "stopped while waiting"
			    " for the assignment");
		/* A bounded wait: a stop signal between the check and the
		 * poll is seen within a second. */
		if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
			return coffer_errf(COFFER_E_IO, "assignment: poll: %s",
			    strerror(errno));
		if (pf.revents == 0)
			continue;
		if (out->len >= WORKER_ASSIGN_MAX)
			return coffer_errf(COFFER_E_LIMIT, "assignment: longer than %d"
			    " bytes without its empty line", WORKER_ASSIGN_MAX);
		if ((r = coffer_buf_reserve(out, WORKER_ASSIGN_MAX - out->len,
		    &p)) != 0)
			return r;
		n = read(fd, p, WORKER_ASSIGN_MAX - out->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return coffer_errf(COFFER_E_IO, "assignment: read: %s",
			    strerror(errno));
		if (n == 0) {
			*closed = 1;
			return 0;
		}
		coffer_buf_commit(out, (size_t)n);
		if ((end = assign_end(out, scanned)) > 0) {
			/* What follows the empty line is not the assignment. */
			out->len = end;
			out->data[end] = '\0';
			return 0;
		}
		scanned = out->len;
	}
}

static int
name_ok(const char *p, size_t n)
{
	if (n == 0 || n > 128 || (p[0] >= '0' && p[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return 0;
	return 1;
}

int
worker_assign_parse(const char *s, size_t len, struct worker_assign *a)
{
	struct worker_assign t;
	size_t line = 0;
	char *p, *end;
	int r = 0;

	memset(a, 0, sizeof(*a));
	memset(&t, 0, sizeof(t));
	if (len > WORKER_ASSIGN_MAX)
		return coffer_errf(COFFER_E_LIMIT, "assignment: more than %d bytes",
		    WORKER_ASSIGN_MAX);
	if (memchr(s, '\0', len) != NULL)
		return coffer_errf(COFFER_E_FORMAT, "assignment: a NUL byte");
	if ((t.text = coffer_malloc(len + 1)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "assignment");
	memcpy(t.text, s, len);
	t.text[len] = '\0';
	p = t.text;
	end = t.text + len;
	while (p < end) {
		char *lf = memchr(p, '\n', (size_t)(end - p)), *eq;
		size_t n = lf != NULL ? (size_t)(lf - p) : (size_t)(end - p);

		line++;
		if (n == 0) {
			/* The empty line ends it: nothing may follow. */
			if (lf + 1 != end)
				r = coffer_errf(COFFER_E_FORMAT, "assignment line %zu: text"
				    " after the empty line that ends it", line);
			break;
		}
		if (lf == NULL) {
			r = coffer_errf(COFFER_E_FORMAT, "assignment line %zu: not"
			    " ended by a line feed", line);
			break;
		}
		*lf = '\0';
		if (memchr(p, '\r', n) != NULL) {
			r = coffer_errf(COFFER_E_FORMAT, "assignment line %zu: a"
			    " carriage return (lines end with LF alone)", line);
			break;
		}
		if ((eq = memchr(p, '=', n)) == NULL || !name_ok(p, (size_t)(eq - p))) {
			r = coffer_errf(COFFER_E_FORMAT, "assignment line %zu: '%.40s'"
			    " is not NAME=VALUE with NAME [A-Za-z_][A-Za-z0-9_]{0,127}",
			    line, p);
			break;
		}
		*eq = '\0';
		for (size_t i = 0; i < t.n && r == 0; i++)
			if (strcmp(t.name[i], p) == 0)
				r = coffer_errf(COFFER_E_FORMAT, "assignment line %zu: %s"
				    " is given twice", line, p);
		if (r != 0)
			break;
		if (t.n == WORKER_ASSIGN_MAX_VARS) {
			r = coffer_errf(COFFER_E_LIMIT, "assignment: more than %d"
			    " variables", WORKER_ASSIGN_MAX_VARS);
			break;
		}
		t.name[t.n] = p;
		t.value[t.n] = eq + 1;
		t.n++;
		p = lf + 1;
	}
	if (r != 0) {
		free(t.text);
		return r;
	}
	*a = t;
	return 0;
}

void
worker_assign_release(struct worker_assign *a)
{
	free(a->text);
	memset(a, 0, sizeof(*a));
}

const char *
worker_assign_get(void *arg, const char *name)
{
	const struct worker_assign *a = arg;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->name[i], name) == 0)
			return a->value[i];
	return NULL;
}
