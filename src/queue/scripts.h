/* SPDX-License-Identifier: Apache-2.0 */
/* The queue's Lua scripts (one atomic step each; doc/queue.md section 4).
 * Private to src/queue. */
#ifndef COFFER_QUEUE_SCRIPTS_H
#define COFFER_QUEUE_SCRIPTS_H

enum queue_script {
	QS_LOAD_BEGIN,
	QS_TOUCH,
	QS_CLAIM,
	QS_RENEW,
	QS_ACK,
	QS_ACK_NEXT,
	QS_TAKE_MORE,
	QS_FAIL,
	QS_REAP,
	QS_STATS,
	QS_DEAD_PAGE,
	QS_DESTROY,
	QS_LEAVE,
	QS_HOLDERS,
	QS_ASP_LOAD_BEGIN,
	QS_ASP_STATS,
	QS_ASP_REAP,
	QS_ASP_DESTROY,
	QS_META,
	QS_COUNT
};

struct queue_script_def {
	const char *name;
	const char *src;
};

extern const struct queue_script_def queue_scripts[QS_COUNT];

#endif
