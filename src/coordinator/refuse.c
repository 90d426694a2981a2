// SPDX-License-Identifier: Apache-2.0
// Refusals by name (doc/protocol/key-release.md section 8): every refusal
// is an HTTP error whose `code` is a stable reason name, so that clients,
// tests and logs can tell "nonce.replayed" from "policy.revoked" without
// parsing English. src/proto ends its details with the name in
// parentheses; where it does not, the error class decides.
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "lib/log.h"

/* "a.b" with a and b of [a-z_]: a reason name. */
static int
is_reason(const char *s, size_t n)
{
	int dot = 0;

	if (n == 0 || n >= COORD_REASON_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (i == 0 || i == n - 1 || dot)
				return 0;
			dot = 1;
		} else if (!(islower((unsigned char)s[i]) || s[i] == '_')) {
			return 0;
		}
	}
	return dot;
}

int
coord_reason_of(const char *detail, char out[COORD_REASON_MAX])
{
	const char *p = detail, *name;
	size_t n;

	out[0] = '\0';
	/* The first "(name)" or a leading "name: " */
	for (; (p = strchr(p, '(')) != NULL; p++) {
		name = p + 1;
		n = strcspn(name, ")");
		if (name[n] == ')' && is_reason(name, n)) {
			memcpy(out, name, n);
			out[n] = '\0';
			return 1;
		}
	}
	n = strcspn(detail, ":");
	if (detail[n] == ':' && is_reason(detail, n)) {
		memcpy(out, detail, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}

int
coord_reason_status(const char *reason)
{
	if (strcmp(reason, "request.malformed") == 0 ||
	    strcmp(reason, "collateral.malformed") == 0)
		return 400;
	if (strcmp(reason, "collateral.full") == 0)
		return 507;
	if (strcmp(reason, "policy.unknown") == 0 ||
	    strcmp(reason, "job.unknown") == 0 ||
	    strcmp(reason, "recipient.unknown") == 0 ||
	    strcmp(reason, "owner.unknown") == 0 ||
	    strcmp(reason, "stage.unknown") == 0)
		return 404;
	/* Not yet: doc/format/item-proof.md sections 7.2 and 7.3. */
	if (strcmp(reason, "job.open") == 0 || strcmp(reason, "stage.open") == 0)
		return 409;
	if (strcmp(reason, "coordinator.busy") == 0 ||
	    strcmp(reason, "standby.full") == 0)
		return 503;
	/* doc/format/recovery.md section 6 */
	if (strcmp(reason, "recovery.none") == 0)
		return 404;
	if (strcmp(reason, "recovery.not_recovering") == 0)
		return 409;
	if (strcmp(reason, "recovery.failed") == 0)
		return 500;
	/* doc/format/audit-log.md section 6.2 */
	if (strcmp(reason, "coordinator.rolled_back") == 0)
		return 409;
	return 403;
}

void
coord_refuse(struct http_req *r, const char *reason, const char *field,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Details quote what clients sent (an app name, a field): no control
	 * character reaches a log line or an answer. */
	for (char *q = msg; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	coffer_logkv(COFFER_LOG_INFO, "refused", "route", r->path, "reason",
	    reason, "detail", msg, NULL);
	coord_count_refusal(r->ctx, reason);
	snprintf(((struct coord *)r->ctx)->last_reason, COORD_REFUSAL_REASON_MAX,
	    "%s", reason);
	snprintf(((struct coord *)r->ctx)->last_detail, 513, "%s", msg);
	/* ASCII only in the log's copy: a cut could split a UTF-8 sequence. */
	for (char *q = ((struct coord *)r->ctx)->last_detail; *q != '\0'; q++)
		if ((unsigned char)*q >= 0x80)
			*q = '?';
	http_reply_error(r, coord_reason_status(reason), reason, field, "%s", msg);
}

void
coord_refuse_err(struct http_req *r, int err, const char *reason)
{
	const char *d = coffer_errdetail();
	char name[COORD_REASON_MAX], field[128];

	switch (err) {
	case COFFER_E_NOMEM:
	case COFFER_E_INTERNAL:
	case COFFER_E_DB:
	case COFFER_E_CRYPTO:
	case COFFER_E_IO:
		/* Not the client's doing: a 500, logged with the detail. */
		http_reply_coffer_err(r, err);
		return;
	case COFFER_E_BUSY:
		coord_refuse(r, "coordinator.busy", NULL, "%s", d);
		return;
	default:
		break;
	}
	if (reason == NULL && coord_reason_of(d, name))
		reason = name;
	if (reason == NULL) {
		switch (err) {
		case COFFER_E_FORMAT:
		case COFFER_E_VERSION:
		case COFFER_E_TRUNCATED:
		case COFFER_E_LIMIT:
		case COFFER_E_UNSUPPORTED:
			reason = "request.malformed";
			break;
		default:
			http_reply_coffer_err(r, err);
			return;
		}
	}
	http_detail_field(d, field, sizeof(field));
	/* "job.open: ..." names the reason, not a field: the code says it. */
	if (strcmp(field, reason) == 0) {
		field[0] = '\0';
		d += strlen(reason) + (d[strlen(reason)] == ':');
		d += strspn(d, " ");
	}
	coord_refuse(r, reason, field[0] ? field : NULL, "%s",
	    d[0] ? d : coffer_strerror(err));
}
