// SPDX-License-Identifier: Apache-2.0
// The plugin host of confidential jobs (doc/worker.md 9.1): a plugin runs
// in a process that never held a key, `coffer-worker --app-host`, started
// by the runner with execve(2) (so nothing of the runner's memory is in
// it) and fed one item at a time over a socket. The runner keeps the keys,
// the store and the queue; the host sees the job's parameters and the
// plaintext of the item it is given, and nothing else.
//
// Frames on the socket, both ways: type (u32) || length (u32) || body,
// native byte order (one machine). A string or a byte string is its
// length (u32) and its bytes. The host is the app's, so the runner reads
// what comes back as hostile: bounded, checked, and the host killed on the
// first byte that breaks the format.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "worker/app.h"

enum {
	F_INIT = 1,          /* runner: the parameters */
	F_INFO = 2,          /* host: i32 status, name, version, u32 reduce */
	F_PROCESS = 3,       /* runner: id, u32 attempt, owner, input */
	F_REDUCE_ADD = 4,    /* runner: id, input */
	F_REDUCE_FINISH = 5, /* runner: (empty) */
	F_DONE = 6,          /* host: i32 status, error text, output */
};

#define HOST_FD 3          /* the socket, in the host */
#define HOST_APP_FD 4      /* the plugin file, in the host */
#define ERR_TEXT_MAX 1024
#define START_TIMEOUT_MS 120000

struct apphost {
	const struct worker_config *cfg;
	int app_fd;
	const struct coffer_app_param *params;
	size_t nparams;
	pid_t pid;                 /* 0: not running */
	int sock;
	struct app_info info;
	struct coffer_buf frame;   /* the last answer (plaintext: secret) */
};

/* ---- Both sides: whole frames over a socket, within a deadline ---- */

static int
io_all(int fd, int out, void *p, size_t n, const struct app_wait *w,
    int64_t deadline)
{
	uint8_t *b = p;
	int64_t next_hb = coffer_mono_ms();

	while (n > 0) {
		struct pollfd pf = { fd, (short)(out ? POLLOUT : POLLIN), 0 };
		ssize_t m;
		int k;

		if ((k = app_poll(&pf, 1, w, deadline, &next_hb, 0)) < 0)
			return k;
		m = out ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
		if (m > 0) {
			b += m;
			n -= (size_t)m;
		} else if (m == 0 || (errno != EAGAIN && errno != EINTR)) {
			return coffer_errf(COFFER_E_CONNECT, "the app host is gone");
		}
	}
	return 0;
}

static int
put_bytes(struct coffer_buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return coffer_errf(COFFER_E_LIMIT, "app host frame field");
	if ((r = coffer_buf_put(b, &(uint32_t){ (uint32_t)n }, 4)) != 0)
		return r;
	return coffer_buf_put(b, n ? p : "", n);
}

static int
put_str(struct coffer_buf *b, const char *s)
{
	return put_bytes(b, s, strlen(s));
}

static int
get_bytes(struct coffer_cur *c, const uint8_t **p, uint32_t *n)
{
	if (coffer_cur_get(c, n, 4) != 0 || coffer_cur_ptr(c, *n, p) != 0)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " a field runs past its frame");
	return 0;
}

/* Send one frame: header, then body (which may be large). */
static int
send_frame(int fd, uint32_t type, const struct coffer_buf *head,
    const uint8_t *tail, size_t taillen, const struct app_wait *w,
    int64_t deadline)
{
	uint32_t hdr[2];
	int r;

	if (head->len + taillen + 4 > UINT32_MAX)
		return coffer_errf(COFFER_E_LIMIT, "app host frame");
	hdr[0] = type;
	hdr[1] = (uint32_t)(head->len + (tail ? 4 + taillen : 0));
	if ((r = io_all(fd, 1, hdr, sizeof(hdr), w, deadline)) != 0 ||
	    (head->len > 0 && (r = io_all(fd, 1, head->data, head->len, w,
	    deadline)) != 0))
		return r;
	if (tail != NULL) {
		uint32_t n = (uint32_t)taillen;

		if ((r = io_all(fd, 1, &n, 4, w, deadline)) != 0 ||
		    (taillen > 0 && (r = io_all(fd, 1, (void *)tail, taillen, w,
		    deadline)) != 0))
			return r;
	}
	return 0;
}

/* Receive one frame of at most max bytes into b (reset first). */
static int
recv_frame(int fd, uint32_t *type, size_t max, struct coffer_buf *b,
    const struct app_wait *w, int64_t deadline)
{
	uint32_t hdr[2];
	uint8_t *p;
	int r;

	coffer_buf_reset(b);
	if ((r = io_all(fd, 0, hdr, sizeof(hdr), w, deadline)) != 0)
		return r;
	if (hdr[1] > max)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " a frame of %u bytes", hdr[1]);
	if ((r = coffer_buf_reserve(b, hdr[1], &p)) != 0)
		return r;
	if ((r = io_all(fd, 0, p, hdr[1], w, deadline)) != 0)
		return r;
	coffer_buf_commit(b, hdr[1]);
	*type = hdr[0];
	return 0;
}

/* The largest frame either side sends: an item or an output, and a
 * little around it. */
static size_t
frame_max(size_t max_item_bytes)
{
	return max_item_bytes + 2 * COFFER_STORE_KEY_MAX + ERR_TEXT_MAX + 64;
}

int
apphost_parse_done(const uint8_t *p, size_t n, int32_t *status,
    const uint8_t **msg, uint32_t *nmsg, const uint8_t **data, uint32_t *ndata)
{
	struct coffer_cur c;

	coffer_cur_init(&c, p, n);
	if (coffer_cur_get(&c, status, 4) != 0 || get_bytes(&c, msg, nmsg) != 0 ||
	    get_bytes(&c, data, ndata) != 0 || coffer_cur_left(&c) != 0 ||
	    *status > 0 || *nmsg > ERR_TEXT_MAX)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol");
	return 0;
}

/* ---- The runner's side ---- */

static void
host_kill(struct apphost *h, int *status)
{
	*status = 0;
	if (h->pid <= 0)
		return;
	(void)kill(-h->pid, SIGKILL);
	(void)kill(h->pid, SIGKILL);
	while (waitpid(h->pid, status, 0) < 0 && errno == EINTR)
		;
	close(h->sock);
	h->sock = -1;
	h->pid = 0;
}

/* The host could not answer: kill it and say what became of it. */
static int
host_failed(struct apphost *h, int r, const struct app_wait *w, char *err,
    size_t errlen)
{
	char how[128], detail[300];
	int status;

	snprintf(detail, sizeof(detail), "%s", coffer_errdetail());
	host_kill(h, &status);
	app_describe_status(status, how, sizeof(how));
	if (r == COFFER_E_TIMEOUT) {
		snprintf(err, errlen, "app timed out after %d ms (killed)",
		    w ? w->timeout_ms : 0);
		return COFFER_E_TIMEOUT;
	}
	if (r == COFFER_E_PROTO)
		snprintf(err, errlen, "app crashed: %s", detail);
	else
		snprintf(err, errlen, "app crashed: %s", how);
	return COFFER_E_APP;
}

static int
host_spawn(struct apphost *h)
{
	char **envp = NULL, **owned = NULL, maxs[32];
	char *argv[] = { (char *)"coffer-worker", (char *)"--app-host", maxs, NULL };
	size_t nowned = 0;
	int sv[2], r;
	pid_t pid;

	snprintf(maxs, sizeof(maxs), "%zu", h->cfg->max_item_bytes);
	/* An executable app's environment: nothing of the worker's own
	 * (doc/worker.md 4.3); the parameters come in the first frame. */
	if ((r = app_env_build(h->cfg, NULL, 0, NULL, 0, NULL, &envp, &owned,
	    &nowned)) != 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		app_env_free(envp, owned, nowned);
		return coffer_errf(COFFER_E_IO, "socketpair: %s", strerror(errno));
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		app_env_free(envp, owned, nowned);
		return coffer_errf(COFFER_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Async-signal-safe calls only, then execve: the new image has
		 * none of this process's memory (the key page is zero here
		 * anyway, MADV_WIPEONFORK). */
		int s = fcntl(sv[1], F_DUPFD, 10), a = fcntl(h->app_fd, F_DUPFD, 10);

		app_child_setup();
		if (s < 0 || a < 0 || dup2(s, HOST_FD) != HOST_FD ||
		    dup2(a, HOST_APP_FD) != HOST_APP_FD)
			_exit(127);
		closefrom(HOST_APP_FD + 1);
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	close(sv[1]);
	app_env_free(envp, owned, nowned);
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	h->pid = pid;
	h->sock = sv[0];
	return 0;
}

/* Start the host and init the plugin in it: F_INIT, then F_INFO. */
static int
host_start(struct apphost *h, char *err, size_t errlen)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(1 << 20);
	struct coffer_cur c;
	const uint8_t *name, *ver, *msg;
	uint32_t type, n1, n2, reduce;
	int32_t status;
	int64_t deadline = coffer_mono_ms() + START_TIMEOUT_MS;
	int r;

	if ((r = host_spawn(h)) != 0) {
		snprintf(err, errlen, "%s", coffer_errdetail());
		goto out;
	}
	/* The parameters, the app's secret among them: secret buffer. */
	r = coffer_buf_put(&b, &(uint32_t){ (uint32_t)h->nparams }, 4);
	for (size_t i = 0; i < h->nparams && r == 0; i++)
		if ((r = put_str(&b, h->params[i].key)) == 0)
			r = put_str(&b, h->params[i].value);
	if (r == 0)
		r = send_frame(h->sock, F_INIT, &b, NULL, 0, NULL, deadline);
	if (r == 0)
		r = recv_frame(h->sock, &type, 4096, &h->frame, NULL, deadline);
	if (r != 0) {
		char how[200];

		r = host_failed(h, r, NULL, err, errlen);
		/* Crashed while loading: the same words as a runner that did. */
		if (strncmp(err, "app crashed: ", 13) == 0) {
			snprintf(how, sizeof(how), "%s", err + 13);
			snprintf(err, errlen, "the app crashed (%s) while loading it", how);
		}
		goto out;
	}
	coffer_cur_init(&c, h->frame.data, h->frame.len);
	if (type != F_INFO || coffer_cur_get(&c, &status, 4) != 0) {
		r = coffer_errf(COFFER_E_PROTO, "the app host broke its protocol");
		r = host_failed(h, r, NULL, err, errlen);
		goto out;
	}
	if (status != 0) {
		/* The loader's own refusal (doc/format/app-abi.md section 3). */
		if (get_bytes(&c, &msg, &n1) != 0)
			n1 = 0;
		snprintf(err, errlen, "%.*s", (int)(n1 > 1000 ? 1000 : n1),
		    n1 ? (const char *)msg : "");
		r = status < 0 && status > -64 ? status : COFFER_E_APP;
		host_kill(h, &(int){ 0 });
		goto out;
	}
	if (get_bytes(&c, &name, &n1) != 0 || get_bytes(&c, &ver, &n2) != 0 ||
	    coffer_cur_get(&c, &reduce, 4) != 0 || n1 >= sizeof(h->info.name) ||
	    n2 >= sizeof(h->info.version)) {
		r = coffer_errf(COFFER_E_PROTO, "the app host broke its protocol");
		r = host_failed(h, r, NULL, err, errlen);
		goto out;
	}
	memset(&h->info, 0, sizeof(h->info));
	memcpy(h->info.name, name, n1);
	memcpy(h->info.version, ver, n2);
	h->info.kind = APP_KIND_PLUGIN;
	h->info.has_reduce = reduce != 0;
out:
	coffer_buf_release(&b);
	return r;
}

int
apphost_start(const struct worker_config *cfg, int app_fd,
    const struct coffer_app_param *params, size_t nparams,
    struct apphost **out, struct app_info *info)
{
	struct apphost *h = coffer_calloc(1, sizeof(*h));
	char err[WORKER_ERR_MAX];
	int r;

	if (h == NULL)
		return coffer_errf(COFFER_E_NOMEM, "app host");
	h->cfg = cfg;
	h->app_fd = app_fd;
	h->params = params;
	h->nparams = nparams;
	h->sock = -1;
	coffer_buf_init_secret(&h->frame, frame_max(cfg->max_item_bytes));
	if ((r = host_start(h, err, sizeof(err))) != 0) {
		r = coffer_errf(r, "%s", err);
		apphost_stop(h);
		return r;
	}
	*info = h->info;
	*out = h;
	return 0;
}

int
apphost_call(struct apphost *h, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
{
	struct coffer_buf head = COFFER_BUF_INIT(2 * COFFER_STORE_KEY_MAX + 64);
	const uint8_t *msg, *data;
	uint32_t ftype, nmsg, ndata;
	int32_t status;
	int64_t deadline = w && w->timeout_ms > 0 ? coffer_mono_ms() + w->timeout_ms : 0;
	int r;

	*reported = 0;
	/* A host that died with an earlier item starts again (its init runs
	 * again, as a new runner's would). */
	if (h->pid == 0 && (r = host_start(h, err, errlen)) != 0)
		goto out;
	if (type == PLUGIN_PROCESS)
		r = put_str(&head, id) || coffer_buf_put(&head, &attempt, 4) ||
		    put_str(&head, owner ? owner : "") ? COFFER_E_LIMIT : 0;
	else if (type == PLUGIN_REDUCE_ADD)
		r = put_str(&head, id);
	else
		r = 0;
	if (r != 0) {
		snprintf(err, errlen, "item id too long for the app host");
		goto out;
	}
	r = send_frame(h->sock, type == PLUGIN_PROCESS ? F_PROCESS :
	    type == PLUGIN_REDUCE_ADD ? F_REDUCE_ADD : F_REDUCE_FINISH, &head,
	    type == PLUGIN_REDUCE_FINISH ? NULL : in ? in : (const uint8_t *)"",
	    inlen, w, deadline);
	if (r == 0)
		r = recv_frame(h->sock, &ftype, frame_max(h->cfg->max_item_bytes),
		    &h->frame, w, deadline);
	if (r != 0) {
		r = host_failed(h, r, w, err, errlen);
		goto out;
	}
	if (ftype != F_DONE || apphost_parse_done(h->frame.data, h->frame.len,
	    &status, &msg, &nmsg, &data, &ndata) != 0) {
		r = coffer_errf(COFFER_E_PROTO, "an answer out of its format");
		r = host_failed(h, r, w, err, errlen);
		goto out;
	}
	if (status != 0) {
		/* The app's own failure, reported through its own channel. */
		snprintf(err, errlen, "%.*s", (int)nmsg, nmsg ? (const char *)msg : "");
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", coffer_strerror(status));
		r = status == COFFER_E_LIMIT ? COFFER_E_LIMIT : COFFER_E_APP;
		if (status != COFFER_E_LIMIT)
			*reported = (uint32_t)-(int64_t)status;
		goto out;
	}
	if (out != NULL && ndata > 0 && coffer_buf_put(out, data, ndata) != 0) {
		snprintf(err, errlen, "output larger than the limit of %zu bytes",
		    h->cfg->max_item_bytes);
		r = COFFER_E_LIMIT;
	}
out:
	coffer_buf_release(&head);
	coffer_buf_reset(&h->frame);
	return r;
}

void
apphost_stop(struct apphost *h)
{
	if (h == NULL)
		return;
	if (h->pid > 0) {
		int status;

		/* EOF on its socket: the host runs the plugin's fini and
		 * exits; one that does not within a second is killed. WNOWAIT:
		 * it stays a zombie until host_kill reaps it, so its process
		 * group id cannot be reused before kill(-pid). */
		shutdown(h->sock, SHUT_WR);
		for (int i = 0; i < 100; i++) {
			siginfo_t si;

			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)h->pid, &si, WEXITED | WNOHANG |
			    WNOWAIT) == 0 && si.si_pid == h->pid)
				break;
			usleep(10000);
		}
		host_kill(h, &status);
	}
	coffer_buf_release(&h->frame);
	free(h);
}

/* ---- The host's side: coffer-worker --app-host MAX_ITEM_BYTES ---- */

/* F_DONE (status, message, output), or with type F_INFO a refusal
 * (status, message). */
static int
host_reply(uint32_t type, int32_t status, const char *msg, const uint8_t *data,
    size_t n)
{
	struct coffer_buf b = COFFER_BUF_INIT(ERR_TEXT_MAX + 64);
	char text[ERR_TEXT_MAX];
	int r;

	snprintf(text, sizeof(text), "%s", msg);
	if ((r = coffer_buf_put(&b, &status, 4)) == 0)
		r = put_str(&b, text);
	if (r == 0)
		r = send_frame(HOST_FD, type, &b, type == F_DONE ? (data ? data :
		    (const uint8_t *)"") : NULL, n, NULL, 0);
	coffer_buf_release(&b);
	return r;
}

int
apphost_main(int argc, char **argv)
{
	struct worker_config cfg;
	struct coffer_app_param *params = NULL;
	struct coffer_buf in = COFFER_BUF_INIT_SECRET(1 << 20);
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(0);
	struct plugin *p = NULL;
	struct app_info info;
	struct coffer_cur c;
	char *end, err[ERR_TEXT_MAX], app[32];
	uint32_t type, n = 0;
	unsigned long long max;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	if (argc != 3 || (max = strtoull(argv[2], &end, 10)) == 0 || *end != '\0' ||
	    fcntl(HOST_FD, F_GETFD) < 0 || fcntl(HOST_APP_FD, F_GETFD) < 0) {
		fprintf(stderr, "coffer-worker --app-host: started by the runner only\n");
		return 2;
	}
	/* Blocking reads and writes: the runner keeps the time. */
	(void)fcntl(HOST_FD, F_SETFL, 0);
	snprintf(app, sizeof(app), "/proc/self/fd/%d", HOST_APP_FD);
	cfg.app = app;
	cfg.app_kind = APP_KIND_PLUGIN;
	cfg.max_item_bytes = (size_t)max;
	/* F_INIT: the parameters, then load the plugin (the file the runner
	 * hashed, through its descriptor) and init it. */
	if ((r = recv_frame(HOST_FD, &type, 1 << 20, &in, NULL, 0)) != 0 ||
	    type != F_INIT)
		goto out;
	coffer_cur_init(&c, in.data, in.len);
	if (coffer_cur_get(&c, &n, 4) != 0 || n > APP_MAX_PARAMS ||
	    (params = coffer_calloc(n + 1, sizeof(*params))) == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *k, *v;
		uint32_t kn, vn;

		if (get_bytes(&c, &k, &kn) != 0 || get_bytes(&c, &v, &vn) != 0 ||
		    (params[i].key = coffer_strndup((const char *)k, kn)) == NULL ||
		    (params[i].value = coffer_strndup((const char *)v, vn)) == NULL)
			goto out;
	}
	/* Items and outputs: the runner's limits. */
	coffer_buf_release(&in);
	coffer_buf_init_secret(&in, frame_max(cfg.max_item_bytes));
	coffer_buf_init_secret(&out, cfg.max_item_bytes);
	if ((r = plugin_load(&cfg, params, n, &p, &info)) != 0) {
		(void)host_reply(F_INFO, r, coffer_errdetail(), NULL, 0);
		goto out;
	}
	{
		struct coffer_buf b = COFFER_BUF_INIT(256);

		r = coffer_buf_put(&b, &(int32_t){ 0 }, 4);
		if (r == 0 && (r = put_str(&b, info.name)) == 0 &&
		    (r = put_str(&b, info.version)) == 0)
			r = coffer_buf_put(&b, &(uint32_t){ (uint32_t)info.has_reduce }, 4);
		if (r == 0)
			r = send_frame(HOST_FD, F_INFO, &b, NULL, 0, NULL, 0);
		coffer_buf_release(&b);
		if (r != 0)
			goto out;
	}
	/* One item at a time until the runner closes the socket. */
	while (recv_frame(HOST_FD, &type, frame_max(cfg.max_item_bytes), &in, NULL,
	    0) == 0) {
		const uint8_t *id = (const uint8_t *)"", *data = NULL, *own = NULL;
		uint32_t idn = 0, dn = 0, attempt = 0, on = 0;
		char idbuf[COFFER_STORE_KEY_MAX + 1], ownbuf[256];
		int kind = type == F_PROCESS ? PLUGIN_PROCESS : type == F_REDUCE_ADD ?
		    PLUGIN_REDUCE_ADD : type == F_REDUCE_FINISH ? PLUGIN_REDUCE_FINISH : 0;

		coffer_cur_init(&c, in.data, in.len);
		if (kind == 0 || (kind != PLUGIN_REDUCE_FINISH &&
		    (get_bytes(&c, &id, &idn) != 0 || idn > COFFER_STORE_KEY_MAX ||
		    (kind == PLUGIN_PROCESS && (coffer_cur_get(&c, &attempt, 4) != 0 ||
		    get_bytes(&c, &own, &on) != 0 || on >= sizeof(ownbuf))) ||
		    get_bytes(&c, &data, &dn) != 0)))
			break;
		memcpy(idbuf, id, idn);
		idbuf[idn] = '\0';
		if (on > 0)
			memcpy(ownbuf, own, on);
		ownbuf[on] = '\0';
		coffer_buf_reset(&out);
		r = plugin_call(p, kind, idbuf, attempt, on > 0 ? ownbuf : NULL, data, dn,
		    kind == PLUGIN_REDUCE_ADD ? NULL : &out, err, sizeof(err));
		if (host_reply(F_DONE, r, r ? err : "", out.data, out.len) != 0)
			break;
	}
	r = 0;
out:
	plugin_unload(p);
	for (uint32_t i = 0; params != NULL && i < n; i++) {
		free((char *)params[i].key);
		coffer_free_secret((char *)params[i].value,
		    params[i].value ? strlen(params[i].value) : 0);
	}
	free(params);
	coffer_buf_release(&in);
	coffer_buf_release(&out);
	return r == 0 ? 0 : 1;
}
