// SPDX-License-Identifier: Apache-2.0
// The plugin host of confidential jobs (doc/worker.md 9.1 and 9.5): a
// plugin runs in a process that never held a key, `coffer-worker
// --app-host`, started by the runner with execve(2) (so nothing of the
// runner's memory is in it) and fed one item at a time. The runner keeps
// the keys, the store and the queue; the host sees the job's parameters
// and the plaintext of the item it is given, and nothing else.
//
// Frames on the socket, both ways: type (u32) || length (u32) || body,
// native byte order (one machine), each sent with as few writes as it
// can. A string is its length (u32) and its bytes. An item's input and
// output are a data field: length (u32), where (u32), then the bytes when
// where is 0 (in the frame); where 1 says they are at the start of the
// shared region's half for that direction (9.5), and the frame is a few
// bytes whatever the item's size. The host is the app's, so the runner
// reads what comes back as hostile: bounded, checked, and the host killed
// on the first byte that breaks the format; what the host leaves in the
// region is copied once into the runner's own memory before anything
// reads it.
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "worker/app.h"

enum {
	F_INIT = 1,          /* runner: region, parameters */
	F_INFO = 2,          /* host: i32 status, name, version, u32 reduce,
	                        u32 region */
	F_PROCESS = 3,       /* runner: id, u32 attempt, owner, input (data) */
	F_REDUCE_ADD = 4,    /* runner: id, input (data) */
	F_REDUCE_FINISH = 5, /* runner: (empty) */
	F_DONE = 6,          /* host: i32 status, error text, output (data) */
	F_BATCH = 7,         /* runner: count, per item: id, u32 attempt,
	                        owner, u32 offset, u32 length (input half) */
	F_BATCH_DONE = 8,    /* host: count, per answer: i32 status, error
	                        text, u32 length, u32 offset (or IN_FRAME_OFF
	                        and the bytes, last answer only) */
};

/* A batch answer's output offset that says "in the frame" (HB2). */
#define IN_FRAME_OFF 0xffffffffu

/* Where a data field's bytes are: IN_FD, in the memfd passed with the
 * frame (doc/worker.md 9.5, HF1 to HF5). */
enum { IN_FRAME = 0, IN_REGION = 1, IN_FD = 2 };

#define HOST_FD 3          /* the socket, in the host */
#define HOST_APP_FD 4      /* the plugin file, in the host */
#define HOST_REGION_FD 5   /* the shared region, in the host (if any) */
#define ERR_TEXT_MAX 1024
#define START_TIMEOUT_MS 120000
#define REGION_HALF_MAX ((size_t)1 << 20)  /* larger items go in frames */
#define TOKEN_LEN 16
#define HEAD_MAX (2 * COFFER_STORE_KEY_MAX + 64)
#define BATCH_ITEMS_MAX APPHOST_BATCH_MAX

/* One item of the batch being run (doc/worker.md 9.5, HB1 to HB6): its
 * input in the input half, and once answered its result. */
struct hb_item {
	const char *id, *owner;    /* borrowed from the caller */
	uint32_t attempt, off, len;
	int r;                     /* as apphost_call returns */
	uint32_t reported;
	uint32_t out_len, out_off; /* out_off IN_FRAME_OFF: out_frame */
	const uint8_t *out_frame;  /* into the last answer's frame */
	char err[WORKER_ERR_MAX];
};

struct hbatch {
	size_t n;                  /* items added */
	size_t next;               /* the first without an answer */
	size_t single_until;       /* items before it are asked alone (HB5) */
	size_t used_in, used_out;  /* bytes of each half in use */
	struct hb_item it[BATCH_ITEMS_MAX];
};

/* The shared region (9.5): one memfd of two halves of `half` bytes each,
 * mapped by both processes: the input (runner to host) at base, the output
 * (host to runner) at base + half. */
struct region {
	uint8_t *base;             /* NULL: none */
	size_t half;
	int fd;
};

struct apphost {
	const struct worker_config *cfg;
	int app_fd;
	const struct coffer_app_param *params;
	size_t nparams;
	pid_t pid;                 /* 0: not running */
	int sock;
	struct app_info info;
	struct region reg;         /* created once, shared by every host */
	int reg_on;                /* this host reads and writes it */
	struct coffer_buf head;    /* the frame being sent (no item data) */
	struct coffer_buf frame;   /* the last answer (plaintext: secret) */
	int batching;              /* the last INFO took the region (HB1) */
	struct hbatch b;
	int rfd[2];                /* passed with the last answer (-1: none),
	                              and how many were (HF2) */
	int take_fd;               /* a PROCESS output in a memfd is kept (HF4) */
	int out_fd;                /* ... here, out_len bytes; -1: none */
	size_t out_len;
};

/* ---- Both sides: whole frames over a socket, within a deadline ---- */

/* Move n bytes; poll only when the socket is not ready (poll_first: at
 * once, for an answer that is computed meanwhile). */
/* recv, keeping a descriptor passed with the bytes (HF2): the first in
 * rfd[0], their count in rfd[1]; any other is closed. */
static ssize_t
recv_fds(int fd, void *b, size_t n, int rfd[2])
{
	union {
		struct cmsghdr h;
		char c[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec iov = { b, n };
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t m;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.c;
	msg.msg_controllen = sizeof(u.c);
	m = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (m < 0)
		return m;
	if (msg.msg_flags & MSG_CTRUNC)
		rfd[1] += 2;  /* more than fit: the kernel closed them */
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (rfd[0] < 0)
				rfd[0] = f;
			else
				close(f);
			rfd[1]++;
		}
	}
	return m;
}

static int
io_all(int fd, int out, void *p, size_t n, int poll_first,
    const struct app_wait *w, int64_t deadline, int *rfd)
{
	uint8_t *b = p;
	int64_t next_hb = coffer_mono_ms();
	int wait = poll_first;

	while (n > 0) {
		ssize_t m;

		if (wait) {
			struct pollfd pf = { fd, (short)(out ? POLLOUT : POLLIN), 0 };
			int k;

			if ((k = app_poll(&pf, 1, w, deadline, &next_hb, 0)) < 0)
				return k;
		} else if (deadline > 0 && coffer_mono_ms() >= deadline) {
			/* A host that trickles bytes never makes us poll. */
			return coffer_errf(COFFER_E_TIMEOUT, "app timed out");
		}
		m = out ? send(fd, b, n, MSG_NOSIGNAL) : rfd != NULL ?
		    recv_fds(fd, b, n, rfd) : recv(fd, b, n, 0);
		if (m > 0) {
			b += m;
			n -= (size_t)m;
			wait = 0;
		} else if (m < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			wait = 1;
		} else if (m == 0 || errno != EINTR) {
			return coffer_errf(COFFER_E_CONNECT, "the app host is gone");
		}
	}
	return 0;
}

static int
put_u32(struct coffer_buf *b, uint32_t v)
{
	return coffer_buf_put(b, &v, 4);
}

static int
put_bytes(struct coffer_buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return coffer_errf(COFFER_E_LIMIT, "app host frame field");
	if ((r = put_u32(b, (uint32_t)n)) != 0)
		return r;
	return coffer_buf_put(b, n ? p : "", n);
}

static int
put_str(struct coffer_buf *b, const char *s)
{
	return put_bytes(b, s, strlen(s));
}

static int
broken(void)
{
	return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
	    " a field runs past its frame");
}

static int
get_bytes(struct coffer_cur *c, const uint8_t **p, uint32_t *n)
{
	if (coffer_cur_get(c, n, 4) != 0 || coffer_cur_ptr(c, *n, p) != 0)
		return broken();
	return 0;
}

/* A data field. In the frame: *p points at its bytes; in the region
 * (allowed only when half > 0, and then at most half bytes): *p is NULL
 * and the reader takes them from its half of the region. */
static int
get_data(struct coffer_cur *c, size_t half, int fd_ok, const uint8_t **p,
    uint32_t *n, int *in_fd)
{
	uint32_t where;

	*in_fd = 0;
	if (coffer_cur_get(c, n, 4) != 0 || coffer_cur_get(c, &where, 4) != 0)
		return broken();
	if (where == IN_FRAME)
		return coffer_cur_ptr(c, *n, p) != 0 ? broken() : 0;
	if (where == IN_REGION && half > 0 && *n <= half) {
		*p = NULL;
		return 0;
	}
	/* HF1: only over the half, from a host that shares the region,
	 * with the one descriptor passed (HF2). */
	if (where == IN_FD && fd_ok && half > 0 && *n > half) {
		*p = NULL;
		*in_fd = 1;
		return 0;
	}
	if (where == IN_FD)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " an output of %u bytes in a descriptor %s (HF1, HF2)", *n,
		    !fd_ok ? "not passed alone with its answer" :
		    "where it does not belong");
	return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
	    " data of %u bytes in %s", *n, where == IN_REGION ?
	    "a shared region it does not have room in" : "an unknown place");
}

/* A frame is built in b after 8 bytes for its header, which send_frame
 * fills in. */
static int
frame_begin(struct coffer_buf *b)
{
	coffer_buf_reset(b);
	return coffer_buf_put(b, (uint32_t[2]){ 0, 0 }, 8);
}

/* Send the frame in b (frame_begin) of this type, its last taillen bytes
 * (the data of a data field in the frame) at tail: one write for the
 * frame, one for the tail. */
static int
send_frame(int fd, uint32_t type, struct coffer_buf *b, const uint8_t *tail,
    size_t taillen, const struct app_wait *w, int64_t deadline)
{
	uint32_t hdr[2];
	int r;

	if (b->len - 8 + taillen > UINT32_MAX)
		return coffer_errf(COFFER_E_LIMIT, "app host frame");
	hdr[0] = type;
	hdr[1] = (uint32_t)(b->len - 8 + taillen);
	memcpy(b->data, hdr, sizeof(hdr));
	if ((r = io_all(fd, 1, b->data, b->len, 0, w, deadline, NULL)) != 0)
		return r;
	/* tail NULL: the caller sends the tail (apphost_call_src). */
	if (taillen > 0 && tail != NULL)
		r = io_all(fd, 1, (void *)tail, taillen, 0, w, deadline, NULL);
	return r;
}

/* Receive one frame of at most max bytes into b (reset first); rfd
 * (or NULL: none taken) as recv_fds, for the header's bytes. */
static int
recv_frame(int fd, uint32_t *type, size_t max, struct coffer_buf *b,
    const struct app_wait *w, int64_t deadline, int *rfd)
{
	uint32_t hdr[2];
	uint8_t *p;
	int r;

	coffer_buf_reset(b);
	/* The host's reads block (no time to keep): no poll before them. */
	if ((r = io_all(fd, 0, hdr, sizeof(hdr), w != NULL || deadline > 0, w,
	    deadline, rfd)) != 0)
		return r;
	if (hdr[1] > max)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " a frame of %u bytes", hdr[1]);
	if ((r = coffer_buf_reserve(b, hdr[1], &p)) != 0)
		return r;
	/* The body was written with the header: it is there already. */
	if ((r = io_all(fd, 0, p, hdr[1], 0, w, deadline, NULL)) != 0)
		return r;
	coffer_buf_commit(b, hdr[1]);
	*type = hdr[0];
	return 0;
}

/* The largest frame either side sends: an item or an output in the
 * frame, and a little around it. */
static size_t
frame_max(size_t max_item_bytes)
{
	return max_item_bytes + HEAD_MAX + ERR_TEXT_MAX + 64;
}

/* A BATCH_DONE frame: one output in the frame at most, and every
 * answer's fixed fields and error text (HB3). */
static size_t
batch_frame_max(size_t max_item_bytes)
{
	return frame_max(max_item_bytes) + 4 + BATCH_ITEMS_MAX * (ERR_TEXT_MAX + 16);
}

/* The size of each half of the region for this limit: whole pages, at
 * most REGION_HALF_MAX. */
static size_t
region_half(size_t max_item_bytes)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n;

	n = max_item_bytes < REGION_HALF_MAX ? max_item_bytes : REGION_HALF_MAX;
	return (n + pg - 1) / pg * pg;
}

int
apphost_parse_done(const uint8_t *p, size_t n, size_t half, int fd_ok,
    int32_t *status, const uint8_t **msg, uint32_t *nmsg, const uint8_t **data,
    uint32_t *ndata, int *in_fd)
{
	struct coffer_cur c;
	int r;

	coffer_cur_init(&c, p, n);
	if (coffer_cur_get(&c, status, 4) != 0 || get_bytes(&c, msg, nmsg) != 0)
		return broken();
	if ((r = get_data(&c, half, fd_ok, data, ndata, in_fd)) != 0)
		return r;
	if (coffer_cur_left(&c) != 0 || *status > 0 || *nmsg > ERR_TEXT_MAX ||
	    (*in_fd && *status != 0))
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol");
	return 0;
}

static int
bd_broken(const char *rule, size_t k, const char *what)
{
	return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
	    " answer %zu of its batch: %s (%s)", k + 1, what, rule);
}

int
apphost_parse_batch_done(const uint8_t *p, size_t n, size_t asked, size_t half,
    size_t max_item, struct apphost_answer *a, size_t *count)
{
	struct coffer_cur c;
	uint32_t cnt;
	uint64_t end = 0;   /* where the next region output must begin */

	*count = 0;
	coffer_cur_init(&c, p, n);
	if (coffer_cur_get(&c, &cnt, 4) != 0)
		return broken();
	if (cnt == 0 || cnt > asked)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " %u answers to a batch of %zu (BD1)", cnt, asked);
	for (size_t k = 0; k < cnt; k++) {
		struct apphost_answer *e = &a[k];

		if (coffer_cur_get(&c, &e->status, 4) != 0 ||
		    get_bytes(&c, &e->msg, &e->nmsg) != 0 ||
		    coffer_cur_get(&c, &e->len, 4) != 0 ||
		    coffer_cur_get(&c, &e->off, 4) != 0)
			return broken();
		e->data = NULL;
		if (e->status > 0 || e->nmsg > ERR_TEXT_MAX)
			return bd_broken("BD2", k, "a status above 0 or an error"
			    " text over 1024 bytes");
		if (e->status < 0 && (e->len != 0 || e->off != 0))
			return bd_broken("BD3", k, "a failure with an output");
		/* HB2: a failure has no output, so BD4 and BD5 (about
		 * outputs) do not apply to its offset 0. */
		if (e->status < 0)
			continue;
		if (e->off == IN_FRAME_OFF) {
			if (k + 1 != cnt || e->len > max_item ||
			    coffer_cur_ptr(&c, e->len, &e->data) != 0)
				return bd_broken("BD5", k, "an output in the frame"
				    " not last, over the limit or not all there");
			continue;
		}
		if (e->off != end || end + e->len > half)
			return bd_broken("BD4", k, "an output that overlaps another,"
			    " leaves a gap or ends past the region's half");
		end += e->len;
	}
	if (coffer_cur_left(&c) != 0)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " bytes after the last answer of its batch (BD6)");
	if (cnt < asked && a[cnt - 1].off != IN_FRAME_OFF)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " %u answers to a batch of %zu, the last output not in the"
		    " frame (BD1)", cnt, asked);
	*count = cnt;
	return 0;
}

/* ---- The runner's side ---- */

/* Sealed at its size, so that a host cannot shrink it under the runner's
 * reads (which would then fault) nor grow it. */
static int
region_new(size_t max_item_bytes, struct region *rg)
{
	size_t half = region_half(max_item_bytes);
	void *p = MAP_FAILED;
	int fd, e;

	rg->base = NULL;
	rg->half = 0;
	if ((rg->fd = fd = memfd_create("coffer-apphost", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) < 0)
		return coffer_errf(COFFER_E_IO, "memfd_create: %s", strerror(errno));
	if (ftruncate(fd, (off_t)(2 * half)) != 0 || fcntl(fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
	    (p = mmap(NULL, 2 * half, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		e = errno;
		close(fd);
		rg->fd = -1;
		return coffer_errf(COFFER_E_IO, "shared region: %s", strerror(e));
	}
	/* Item plaintext: never in a core file of the runner. */
	(void)madvise(p, 2 * half, MADV_DONTDUMP);
	rg->base = p;
	rg->half = half;
	return 0;
}

static void
region_free(struct region *rg)
{
	if (rg->base != NULL)
		munmap(rg->base, 2 * rg->half);
	if (rg->fd >= 0)
		close(rg->fd);
	rg->base = NULL;
	rg->fd = -1;
}

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
	h->reg_on = 0;
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

/*
 * Start the host (doc/worker.md 9.5) with posix_spawn(3): glibc's shares
 * the runner's memory until the execve (CLONE_VM | CLONE_VFORK) instead
 * of copying its page tables, and the runner's writes after it cost no
 * copy-on-write faults; the new image has none of the runner's memory
 * either way. The child's set-up is the spawn's attributes: its own
 * process group, an empty signal mask, SIGPIPE, SIGTERM and SIGINT to
 * their defaults, descriptors 3 to 5 and nothing above.
 * PR_SET_PDEATHSIG, which a spawn cannot set, the host sets itself
 * (apphost_main, with the runner's pid to check it did not miss it).
 */
static int
host_spawn(struct apphost *h)
{
	char **envp = NULL, **owned = NULL, maxs[32], ppid[32];
	char *argv[] = { (char *)"coffer-worker", (char *)"--app-host", maxs, ppid,
	    NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	size_t nowned = 0;
	int sv[2] = { -1, -1 }, tmp[3] = { -1, -1, -1 }, r, e;
	pid_t pid;

	snprintf(maxs, sizeof(maxs), "%zu", h->cfg->max_item_bytes);
	snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
	/* An executable app's environment: nothing of the worker's own
	 * (doc/worker.md 4.3); the parameters come in the first frame. */
	if ((r = app_env_build(h->cfg, NULL, 0, NULL, 0, NULL, &envp, &owned,
	    &nowned)) != 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		app_env_free(envp, owned, nowned);
		return coffer_errf(COFFER_E_IO, "socketpair: %s", strerror(errno));
	}
	/* Above the targets first, so that no dup2 below overwrites a
	 * source (close-on-exec: they stay in this process only). */
	if ((tmp[0] = fcntl(sv[1], F_DUPFD_CLOEXEC, 10)) < 0 ||
	    (tmp[1] = fcntl(h->app_fd, F_DUPFD_CLOEXEC, 10)) < 0 ||
	    (h->reg.fd >= 0 && (tmp[2] = fcntl(h->reg.fd, F_DUPFD_CLOEXEC, 10)) < 0)) {
		r = coffer_errf(COFFER_E_IO, "fcntl: %s", strerror(errno));
		goto out;
	}
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
		r = coffer_errf(COFFER_E_NOMEM, "posix_spawn: %s", strerror(e));
		goto out;
	}
	if ((e = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		r = coffer_errf(COFFER_E_NOMEM, "posix_spawn: %s", strerror(e));
		goto out;
	}
	/* dup2 clears close-on-exec on the copy it makes. */
	if ((e = posix_spawn_file_actions_adddup2(&fa, tmp[0], HOST_FD)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, tmp[1], HOST_APP_FD)) == 0 &&
	    (tmp[2] < 0 || (e = posix_spawn_file_actions_adddup2(&fa, tmp[2],
	    HOST_REGION_FD)) == 0) &&
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, tmp[2] >= 0 ?
	    HOST_REGION_FD + 1 : HOST_APP_FD + 1)) == 0 &&
	    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0 &&
	    (e = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (e = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (e = posix_spawnattr_setsigdefault(&at, &dfl)) == 0) {
		fflush(NULL);
		e = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, envp);
	}
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		r = coffer_errf(COFFER_E_IO, "starting the plugin host: %s",
		    strerror(e));
		goto out;
	}
	h->pid = pid;
	h->sock = sv[0];
	sv[0] = -1;
	(void)fcntl(h->sock, F_SETFL, O_NONBLOCK);
	r = 0;
out:
	for (size_t i = 0; i < 3; i++)
		if (tmp[i] >= 0)
			close(tmp[i]);
	if (sv[0] >= 0)
		close(sv[0]);
	close(sv[1]);
	app_env_free(envp, owned, nowned);
	return r;
}

/* Init the plugin in the started host: F_INIT, then F_INFO. */
static int
host_init(struct apphost *h, char *err, size_t errlen)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(1 << 20);
	struct coffer_cur c;
	const uint8_t *name, *ver, *msg;
	uint8_t token[TOKEN_LEN], saved[TOKEN_LEN];
	uint32_t type, n1, n2, reduce, reg;
	int32_t status;
	int64_t deadline = coffer_mono_ms() + START_TIMEOUT_MS;
	int r, offer = 0;

	/* The region's token, written after the fork: a host that finds it
	 * there shares the runner's pages (a runtime that copied the region
	 * at the fork, or cannot share memory between processes, does not),
	 * and items go in frames otherwise. */
	memset(token, 0, sizeof(token));
	if (h->reg.base != NULL && coffer_random(token, sizeof(token)) == 0) {
		/* A batch's first input may be there (HB6): put back after. */
		memcpy(saved, h->reg.base, sizeof(saved));
		memcpy(h->reg.base, token, sizeof(token));
		offer = 1;
	}
	/* The parameters, the app's secret among them: secret buffer. */
	r = frame_begin(&b);
	if (r == 0 && (r = put_u32(&b, offer ? (uint32_t)h->reg.half : 0)) == 0 &&
	    (r = coffer_buf_put(&b, token, sizeof(token))) == 0)
		r = put_u32(&b, (uint32_t)h->nparams);
	for (size_t i = 0; i < h->nparams && r == 0; i++)
		if ((r = put_str(&b, h->params[i].key)) == 0)
			r = put_str(&b, h->params[i].value);
	if (r == 0)
		r = send_frame(h->sock, F_INIT, &b, NULL, 0, NULL, deadline);
	if (r == 0)
		r = recv_frame(h->sock, &type, 4096, &h->frame, NULL, deadline, NULL);
	if (offer) {
		memcpy(h->reg.base, saved, sizeof(saved));
		coffer_wipe(saved, sizeof(saved));
	}
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
	    coffer_cur_get(&c, &reduce, 4) != 0 || coffer_cur_get(&c, &reg, 4) != 0 ||
	    coffer_cur_left(&c) != 0 || n1 >= sizeof(h->info.name) ||
	    n2 >= sizeof(h->info.version) || reg > (uint32_t)offer) {
		r = coffer_errf(COFFER_E_PROTO, "the app host broke its protocol");
		r = host_failed(h, r, NULL, err, errlen);
		goto out;
	}
	memset(&h->info, 0, sizeof(h->info));
	memcpy(h->info.name, name, n1);
	memcpy(h->info.version, ver, n2);
	h->info.kind = APP_KIND_PLUGIN;
	h->info.has_reduce = reduce != 0;
	h->reg_on = reg == 1;
	h->batching = h->reg_on;
	if (offer && !h->reg_on)
		coffer_logkv(COFFER_LOG_INFO, "the plugin host does not share the"
		    " runner's memory: items go through its socket", NULL);
out:
	coffer_buf_release(&b);
	return r;
}

/* Start the host and init the plugin in it. */
static int
host_start(struct apphost *h, char *err, size_t errlen)
{
	int r;

	if ((r = host_spawn(h)) != 0) {
		snprintf(err, errlen, "%s", coffer_errdetail());
		return r;
	}
	return host_init(h, err, errlen);
}

int
apphost_spawn(const struct worker_config *cfg, int app_fd, struct apphost **out)
{
	struct apphost *h = coffer_calloc(1, sizeof(*h));

	if (h != NULL) {
		h->rfd[0] = -1;
		h->out_fd = -1;
	}
	int r;

	if (h == NULL)
		return coffer_errf(COFFER_E_NOMEM, "app host");
	h->cfg = cfg;
	h->app_fd = app_fd;
	h->sock = -1;
	coffer_buf_init(&h->head, HEAD_MAX * BATCH_ITEMS_MAX);
	coffer_buf_init_secret(&h->frame, batch_frame_max(cfg->max_item_bytes));
	/* Without a region (no memfd here), items go in frames. */
	if (region_new(cfg->max_item_bytes, &h->reg) != 0)
		coffer_logkv(COFFER_LOG_INFO, "no shared region for the plugin"
		    " host: items go through its socket", "error",
		    coffer_errdetail(), NULL);
	if ((r = host_spawn(h)) != 0) {
		apphost_stop(h);
		return r;
	}
	*out = h;
	return 0;
}

int
apphost_init(struct apphost *h, const struct coffer_app_param *params,
    size_t nparams, struct app_info *info)
{
	char err[WORKER_ERR_MAX];
	int r;

	h->params = params;
	h->nparams = nparams;
	/* A host that died meanwhile is started again, as for an item. */
	if ((r = h->pid == 0 ? host_start(h, err, sizeof(err)) :
	    host_init(h, err, sizeof(err))) != 0)
		return coffer_errf(r, "%s", err);
	*info = h->info;
	return 0;
}

int
apphost_start(const struct worker_config *cfg, int app_fd,
    const struct coffer_app_param *params, size_t nparams,
    struct apphost **out, struct app_info *info)
{
	struct apphost *h = NULL;
	int r;

	if ((r = apphost_spawn(cfg, app_fd, &h)) != 0)
		return r;
	if ((r = apphost_init(h, params, nparams, info)) != 0) {
		apphost_stop(h);
		return r;
	}
	*out = h;
	return 0;
}

/* The app's own failure (status < 0), reported through its own channel:
 * its text, made printable, as the item's error, and its code. */
static int
answer_failed(int32_t status, const uint8_t *msg, uint32_t nmsg,
    uint32_t *reported, char *err, size_t errlen)
{
	snprintf(err, errlen, "%.*s", (int)nmsg, nmsg ? (const char *)msg : "");
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (err[0] == '\0')
		snprintf(err, errlen, "%s", coffer_strerror(status));
	if (status == COFFER_E_LIMIT)
		return COFFER_E_LIMIT;
	*reported = (uint32_t)-(int64_t)status;
	return COFFER_E_APP;
}

/* Send a streamed input's inlen bytes, the tail of the frame sent
 * (doc/worker.md 9.4, BI4); a failure of the source kills the host, which
 * has not called the app (it reads a PROCESS frame whole first, BI6). */
static int
send_src(struct apphost *h, const struct app_src *src, size_t inlen,
    const struct app_wait *w, int64_t deadline, char *err, size_t errlen)
{
	const uint8_t *p;
	size_t n, sent = 0;
	int r, status;

	while (sent < inlen) {
		if ((r = src->next(src->arg, &p, &n)) != 0 || n > inlen - sent) {
			if (r == 0)
				r = coffer_errf(COFFER_E_INTERNAL, "a streamed input"
				    " longer than it said");
			snprintf(err, errlen, "%s", coffer_errdetail());
			host_kill(h, &status);
			return r;
		}
		if ((r = io_all(h->sock, 1, (void *)p, n, 0, w, deadline, NULL)) != 0)
			return host_failed(h, r, w, err, errlen);
		sent += n;
	}
	return 0;
}

static int
call(struct apphost *h, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, const struct app_src *src,
    struct coffer_buf *out, const struct app_wait *w, uint32_t *reported,
    char *err, size_t errlen);

int
apphost_pread(int fd, uint64_t off, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t m = pread(fd, b, n, (off_t)off);

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0)
			return coffer_errf(COFFER_E_IO, "the app host's output"
			    " descriptor: %s at byte %llu", m < 0 ? strerror(errno) :
			    "shorter than it said", (unsigned long long)off);
		b += m;
		n -= (size_t)m;
		off += (uint64_t)m;
	}
	return 0;
}

/* HF3: a memfd sealed against writes, growth and shrinking (so nothing
 * changes its bytes between the runner's two passes, BO1), exactly len
 * bytes, at most max. */
int
apphost_check_out_fd(int fd, size_t len, size_t max)
{
	const int need = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " its output descriptor takes no seals (not a memfd: %s, HF3)",
		    strerror(errno));
	if ((seals & need) != need)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " its output descriptor is not sealed against%s%s%s (HF3)",
		    seals & F_SEAL_WRITE ? "" : " writes", seals & F_SEAL_GROW ? "" :
		    " growth", seals & F_SEAL_SHRINK ? "" : " shrinking");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size != (uint64_t)len || len > max)
		return coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " its output descriptor holds %lld bytes, its answer says %zu"
		    " (at most %zu, HF3)", (long long)st.st_size, len, max);
	return 0;
}

void
apphost_keep_fd(struct apphost *h, int on)
{
	h->take_fd = on;
}

int
apphost_take_out_fd(struct apphost *h, size_t *len)
{
	int fd = h->out_fd;

	*len = h->out_len;
	h->out_fd = -1;
	h->out_len = 0;
	return fd;
}

int
apphost_call(struct apphost *h, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
{
	return call(h, type, id, attempt, owner, in, inlen, NULL, out, w, reported,
	    err, errlen);
}

int
apphost_call_src(struct apphost *h, const char *id, uint32_t attempt,
    const char *owner, const struct app_src *src, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
{
	return call(h, PLUGIN_PROCESS, id, attempt, owner, NULL, src->len, src,
	    out, w, reported, err, errlen);
}

static int
call(struct apphost *h, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, const struct app_src *src,
    struct coffer_buf *out, const struct app_wait *w, uint32_t *reported,
    char *err, size_t errlen)
{
	const uint8_t *msg, *data;
	uint32_t ftype, nmsg, ndata;
	int32_t status;
	int64_t deadline = w && w->timeout_ms > 0 ? coffer_mono_ms() + w->timeout_ms : 0;
	size_t used_in = 0, used_out = 0;
	int r, shared = 0, in_fd = 0;

	*reported = 0;
	if (h->out_fd >= 0) {
		/* An output the caller did not take. */
		close(h->out_fd);
		h->out_fd = -1;
	}
	h->rfd[0] = -1;
	h->rfd[1] = 0;
	/* A host that died with an earlier item starts again (its init runs
	 * again, as a new runner's would). */
	if (h->pid == 0 && (r = host_start(h, err, errlen)) != 0)
		return r;
	if (in == NULL)
		in = (const uint8_t *)"";
	r = frame_begin(&h->head);
	if (r == 0 && type == PLUGIN_PROCESS)
		r = put_str(&h->head, id) || put_u32(&h->head, attempt) ||
		    put_str(&h->head, owner ? owner : "") ? COFFER_E_LIMIT : 0;
	else if (r == 0 && type == PLUGIN_REDUCE_ADD)
		r = put_str(&h->head, id);
	if (r == 0 && type != PLUGIN_REDUCE_FINISH) {
		/* The input: in the region when it fits (a streamed one goes
		 * in the frame, BI4). */
		shared = src == NULL && h->reg_on && inlen <= h->reg.half;
		r = inlen > UINT32_MAX || put_u32(&h->head, (uint32_t)inlen) ||
		    put_u32(&h->head, shared ? IN_REGION : IN_FRAME) ?
		    COFFER_E_LIMIT : 0;
	}
	if (r != 0) {
		snprintf(err, errlen, "item id too long for the app host");
		return COFFER_E_LIMIT;
	}
	if (shared) {
		memcpy(h->reg.base, in, inlen);
		used_in = inlen;
	}
	r = send_frame(h->sock, type == PLUGIN_PROCESS ? F_PROCESS :
	    type == PLUGIN_REDUCE_ADD ? F_REDUCE_ADD : F_REDUCE_FINISH, &h->head,
	    src != NULL ? NULL : in, type == PLUGIN_REDUCE_FINISH || shared ? 0 :
	    inlen, w, deadline);
	if (r == 0 && src != NULL &&
	    (r = send_src(h, src, inlen, w, deadline, err, errlen)) != 0)
		goto out;
	if (r == 0)
		r = recv_frame(h->sock, &ftype, frame_max(h->cfg->max_item_bytes),
		    &h->frame, w, deadline, h->rfd);
	if (r != 0) {
		r = host_failed(h, r, w, err, errlen);
		goto out;
	}
	/* HF2: one descriptor, with a DONE whose output is in it. */
	if (ftype != F_DONE)
		r = coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " an answer of type %u", ftype);
	else if ((r = apphost_parse_done(h->frame.data, h->frame.len,
	    h->reg_on ? h->reg.half : 0, h->rfd[1] == 1, &status, &msg, &nmsg,
	    &data, &ndata, &in_fd)) == 0 && h->rfd[1] > 0 && !in_fd)
		r = coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " %d descriptors passed with an answer that has none (HF2)",
		    h->rfd[1]);
	else if (r == 0 && in_fd)
		r = apphost_check_out_fd(h->rfd[0], ndata, h->cfg->max_item_bytes);
	if (r != 0) {
		r = host_failed(h, COFFER_E_PROTO, w, err, errlen);
		goto out;
	}
	if (data == NULL && !in_fd)
		used_out = ndata;
	if (status != 0) {
		r = answer_failed(status, msg, nmsg, reported, err, errlen);
		goto out;
	}
	/* One copy into the runner's own memory, read once: whatever the
	 * host writes into the region later changes nothing the runner
	 * hashes, seals or stores. A big output in the frame is in the
	 * runner's memory already: out takes the frame's instead of a
	 * second copy (doc/worker.md 9.4, "Memory"). */
	/* HF4: a PROCESS output in a memfd stays there for a caller that
	 * reads it in passes (BO1); any other is read once into out. */
	if (in_fd && out != NULL && h->take_fd && type == PLUGIN_PROCESS &&
	    out->len == 0) {
		h->out_fd = h->rfd[0];
		h->out_len = ndata;
		h->rfd[0] = -1;
	} else if (in_fd && out != NULL) {
		uint8_t *p;

		if ((r = coffer_buf_reserve(out, ndata, &p)) != 0 ||
		    (r = apphost_pread(h->rfd[0], 0, p, ndata)) != 0) {
			snprintf(err, errlen, "reading the app's output: %s",
			    coffer_errdetail());
			goto out;
		}
		coffer_buf_commit(out, ndata);
	} else if (out != NULL && ndata > 0 && (data != NULL && ndata > ((size_t)1 << 20) &&
	    out->len == 0 ? coffer_buf_take(out, &h->frame,
	    (size_t)(data - h->frame.data), ndata) : coffer_buf_put(out,
	    data != NULL ? data : h->reg.base + h->reg.half, ndata)) != 0) {
		snprintf(err, errlen, "output larger than the limit of %zu bytes",
		    h->cfg->max_item_bytes);
		r = COFFER_E_LIMIT;
	}
out:
	if (h->rfd[0] >= 0) {
		close(h->rfd[0]);
		h->rfd[0] = -1;
	}
	/* The item's plaintext does not stay in the region. */
	if (h->reg.base != NULL) {
		coffer_wipe(h->reg.base, used_in);
		coffer_wipe(h->reg.base + h->reg.half, used_out);
	}
	coffer_buf_reset(&h->frame);
	/* A big output's frame goes with it (9.4, "Memory"). */
	if (h->frame.alloc > ((size_t)1 << 20))
		coffer_buf_release(&h->frame);
	return r;
}

/* ---- The runner's side of a batch in one exchange (HB1 to HB6) ---- */

size_t
apphost_batch_room(const struct apphost *h)
{
	if (!h->batching || h->reg.base == NULL || h->b.n >= BATCH_ITEMS_MAX)
		return 0;
	return h->reg.half - h->b.used_in;
}

int
apphost_batch_add(struct apphost *h, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen)
{
	struct hb_item *it;

	/* HB1: back to back in the input half, or the next exchange. */
	if (!h->batching || h->b.n >= BATCH_ITEMS_MAX ||
	    inlen > apphost_batch_room(h))
		return COFFER_E_LIMIT;
	it = &h->b.it[h->b.n++];
	memset(it, 0, sizeof(*it));
	it->id = id;
	it->owner = owner ? owner : "";
	it->attempt = attempt;
	it->off = (uint32_t)h->b.used_in;
	it->len = (uint32_t)inlen;
	if (inlen > 0)
		memcpy(h->reg.base + h->b.used_in, in, inlen);
	h->b.used_in += inlen;
	return 0;
}

size_t
apphost_batch_size(const struct apphost *h)
{
	return h->b.n;
}

/* Items first..first+k-1 all end with this result (no answer for them). */
static void
batch_fail(struct apphost *h, size_t first, size_t k, int r, const char *err)
{
	for (size_t i = first; i < first + k; i++) {
		h->b.it[i].r = r;
		snprintf(h->b.it[i].err, sizeof(h->b.it[i].err), "%s", err);
	}
}

/* Send BATCH for items first..first+k-1 and read BATCH_DONE into
 * h->frame: 0, or the error of a host that could not answer (not yet
 * killed). */
static int
batch_exchange(struct apphost *h, size_t first, size_t k,
    const struct app_wait *w, int64_t deadline, uint32_t *type)
{
	int r = frame_begin(&h->head);

	if (r == 0)
		r = put_u32(&h->head, (uint32_t)k);
	for (size_t i = first; i < first + k && r == 0; i++) {
		const struct hb_item *it = &h->b.it[i];

		r = put_str(&h->head, it->id) || put_u32(&h->head, it->attempt) ||
		    put_str(&h->head, it->owner) || put_u32(&h->head, it->off) ||
		    put_u32(&h->head, it->len) ? COFFER_E_LIMIT : 0;
	}
	if (r != 0)
		return coffer_errf(COFFER_E_LIMIT, "item ids too long for the app"
		    " host");
	if ((r = send_frame(h->sock, F_BATCH, &h->head, NULL, 0, w, deadline)) != 0)
		return r;
	return recv_frame(h->sock, type, batch_frame_max(h->cfg->max_item_bytes),
	    &h->frame, w, deadline, NULL);
}

int
apphost_batch_run(struct apphost *h, const struct app_wait *w, size_t *first,
    size_t *count)
{
	struct apphost_answer a[BATCH_ITEMS_MAX];
	struct app_wait wk;
	char err[WORKER_ERR_MAX];
	size_t k, got = 0;
	uint32_t type = 0;
	int64_t deadline = 0;
	int r;

	*first = h->b.next;
	*count = 0;
	if (h->b.next >= h->b.n)
		return 0;
	/* What the host wrote last time is read already (HB4). */
	coffer_wipe(h->reg.base + h->reg.half, h->b.used_out);
	h->b.used_out = 0;
	coffer_buf_reset(&h->frame);
	k = h->b.next < h->b.single_until ? 1 : h->b.n - h->b.next;
	/* HB5: the sum of the items' timeouts. */
	memset(&wk, 0, sizeof(wk));
	if (w != NULL)
		wk = *w;
	if (wk.timeout_ms > 0)
		deadline = coffer_mono_ms() + (int64_t)wk.timeout_ms * (int64_t)k;
	if (h->pid == 0 && (r = host_start(h, err, sizeof(err))) != 0) {
		batch_fail(h, h->b.next, k, r, err);
		goto answered;
	}
	if (!h->reg_on) {
		/* A host started again that no longer takes the region. */
		host_kill(h, &(int){ 0 });
		batch_fail(h, h->b.next, k, COFFER_E_APP, "app crashed: the app host"
		    " started again without the shared region");
		goto answered;
	}
	r = batch_exchange(h, h->b.next, k, &wk, deadline, &type);
	if (r == 0 && type != F_BATCH_DONE)
		r = coffer_errf(COFFER_E_PROTO, "the app host broke its protocol:"
		    " an answer of type %u", type);
	if (r == 0)
		r = apphost_parse_batch_done(h->frame.data, h->frame.len, k,
		    h->reg.half, h->cfg->max_item_bytes, a, &got);
	if (r != 0) {
		/* Killed; the message is the item's own when it was alone. */
		r = host_failed(h, r, &wk, err, sizeof(err));
		if (k > 1) {
			/* HB5: no answer for any; each is asked again alone. */
			coffer_logkv(COFFER_LOG_WARN, "the app host failed a batch:"
			    " its items run again one at a time", "items",
			    h->b.it[h->b.next].id, "error", err, NULL);
			h->b.single_until = h->b.next + k;
			return 0;
		}
		batch_fail(h, h->b.next, 1, r, err);
		goto answered;
	}
	for (size_t j = 0; j < got; j++) {
		struct hb_item *it = &h->b.it[h->b.next + j];

		if (a[j].status != 0) {
			it->r = answer_failed(a[j].status, a[j].msg, a[j].nmsg,
			    &it->reported, it->err, sizeof(it->err));
			continue;
		}
		it->out_len = a[j].len;
		it->out_off = a[j].off;
		it->out_frame = a[j].data;
		if (a[j].off != IN_FRAME_OFF)
			h->b.used_out = (size_t)a[j].off + a[j].len;
	}
	k = got;
answered:
	*count = k;
	h->b.next += k;
	return 0;
}

int
apphost_batch_result(struct apphost *h, size_t i, struct coffer_buf *out,
    uint32_t *reported, char *err, size_t errlen)
{
	const struct hb_item *it = &h->b.it[i];

	*reported = it->reported;
	if (it->r != 0) {
		snprintf(err, errlen, "%s", it->err);
		return it->r;
	}
	/* One copy into the runner's own memory, read once (HB4). */
	if (out != NULL && it->out_len > 0 && coffer_buf_put(out,
	    it->out_off == IN_FRAME_OFF ? it->out_frame :
	    h->reg.base + h->reg.half + it->out_off, it->out_len) != 0) {
		snprintf(err, errlen, "output larger than the limit of %zu bytes",
		    h->cfg->max_item_bytes);
		return COFFER_E_LIMIT;
	}
	return 0;
}

void
apphost_batch_end(struct apphost *h)
{
	/* No item's plaintext stays in the region (HB4). */
	if (h->reg.base != NULL) {
		coffer_wipe(h->reg.base, h->b.used_in);
		coffer_wipe(h->reg.base + h->reg.half, h->b.used_out);
	}
	coffer_buf_reset(&h->frame);
	memset(&h->b, 0, offsetof(struct hbatch, it));
}

void
apphost_stop(struct apphost *h)
{
	if (h == NULL)
		return;
	if (h->out_fd >= 0)
		close(h->out_fd);
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
	region_free(&h->reg);
	coffer_buf_release(&h->head);
	coffer_buf_release(&h->frame);
	free(h);
}

/* ---- The host's side: coffer-worker --app-host MAX_ITEM_BYTES ---- */

/* The region the runner offers in F_INIT (half, token): mapped if it is
 * the size offered and the token is in it. Else NULL: frames only. */
static uint8_t *
host_region(size_t half, const uint8_t token[TOKEN_LEN], size_t max)
{
	struct stat st;
	void *p;

	if (half == 0 || half != region_half(max) ||
	    fcntl(HOST_REGION_FD, F_GETFD) < 0 || fstat(HOST_REGION_FD, &st) != 0 ||
	    (uint64_t)st.st_size != 2 * (uint64_t)half)
		return NULL;
	p = mmap(NULL, 2 * half, PROT_READ | PROT_WRITE, MAP_SHARED,
	    HOST_REGION_FD, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (memcmp(p, token, TOKEN_LEN) != 0) {
		munmap(p, 2 * half);
		return NULL;
	}
	return p;
}

/* HF1: an output over the region's half written into a memfd (with
 * write(2): never mapped, so that it can be sealed), sealed against
 * writes, growth and shrinking. -1 when it cannot be: the frame, then. */
static int
host_out_fd(const uint8_t *data, size_t n)
{
	int fd = memfd_create("coffer-output", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < n) {
		ssize_t m = write(fd, data + off, n - off);

		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)m;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The frame in b (frame_begin, no tail) with descriptor fd passed with
 * its first bytes (HF2). */
static int
send_frame_fd(uint32_t type, struct coffer_buf *b, int fd)
{
	union {
		struct cmsghdr h;
		char c[CMSG_SPACE(sizeof(int))];
	} u;
	uint32_t hdr[2] = { type, (uint32_t)(b->len - 8) };
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t m;

	memcpy(b->data, hdr, sizeof(hdr));
	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	iov.iov_base = b->data;
	iov.iov_len = b->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.c;
	msg.msg_controllen = sizeof(u.c);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		m = sendmsg(HOST_FD, &msg, MSG_NOSIGNAL);
	while (m < 0 && errno == EINTR);
	if (m <= 0)
		return coffer_errf(COFFER_E_CONNECT, "the runner is gone");
	return io_all(HOST_FD, 1, b->data + m, b->len - (size_t)m, 0, NULL, 0,
	    NULL);
}

/* F_DONE (status, message, output: in the region when it fits, else in
 * a memfd when the host shares the region, HF1, else in the frame), or
 * with type F_INFO a refusal (status, message). */
static int
host_reply(uint32_t type, int32_t status, const char *msg, const uint8_t *data,
    size_t n, uint8_t *reg, size_t half)
{
	struct coffer_buf b = COFFER_BUF_INIT(ERR_TEXT_MAX + 64);
	char text[ERR_TEXT_MAX];
	int r, shared = reg != NULL && n <= half, fd = -1;

	if (type == F_DONE && status == 0 && reg != NULL && n > half)
		fd = host_out_fd(data, n);
	snprintf(text, sizeof(text), "%s", msg);
	if ((r = frame_begin(&b)) == 0 && (r = coffer_buf_put(&b, &status, 4)) == 0)
		r = put_str(&b, text);
	if (r == 0 && type == F_DONE && (r = put_u32(&b, (uint32_t)n)) == 0)
		r = put_u32(&b, fd >= 0 ? IN_FD : shared ? IN_REGION : IN_FRAME);
	if (r == 0 && type == F_DONE && shared && n > 0)
		memcpy(reg + half, data, n);
	if (r == 0 && fd >= 0)
		r = send_frame_fd(type, &b, fd);
	else if (r == 0)
		r = send_frame(HOST_FD, type, &b, data, type == F_DONE && !shared ?
		    n : 0, NULL, 0);
	if (fd >= 0)
		close(fd);
	coffer_buf_release(&b);
	return r;
}

/* An item's id, attempt and owner in a PROCESS or BATCH frame, as C
 * strings. */
static int
host_item_head(struct coffer_cur *c, char id[COFFER_STORE_KEY_MAX + 1],
    uint32_t *attempt, char owner[256])
{
	const uint8_t *p, *o;
	uint32_t n, on;

	if (get_bytes(c, &p, &n) != 0 || n > COFFER_STORE_KEY_MAX ||
	    coffer_cur_get(c, attempt, 4) != 0 || get_bytes(c, &o, &on) != 0 ||
	    on >= 256)
		return -1;
	memcpy(id, p, n);
	id[n] = '\0';
	memcpy(owner, o, on);
	owner[on] = '\0';
	return 0;
}

/* BATCH (HB2): run the items in order, the outputs back to back in the
 * output half, and answer them all in one BATCH_DONE; an output that
 * does not fit what is left goes in the frame and ends the answer. */
static int
host_batch(struct plugin *p, struct coffer_cur *c, uint8_t *reg, size_t half,
    struct coffer_buf *out, struct coffer_buf *ans)
{
	char id[COFFER_STORE_KEY_MAX + 1], owner[256], err[ERR_TEXT_MAX];
	uint32_t n, attempt, off, len, done = 0;
	size_t used = 0;
	int r;

	if (reg == NULL || coffer_cur_get(c, &n, 4) != 0 || n == 0 ||
	    n > BATCH_ITEMS_MAX || frame_begin(ans) != 0 || put_u32(ans, 0) != 0)
		return -1;
	while (done < n) {
		if (host_item_head(c, id, &attempt, owner) != 0 ||
		    coffer_cur_get(c, &off, 4) != 0 || coffer_cur_get(c, &len, 4) != 0 ||
		    (uint64_t)off + len > half)
			return -1;
		coffer_buf_reset(out);
		r = plugin_call(p, PLUGIN_PROCESS, id, attempt, owner[0] ? owner : NULL,
		    reg + off, len, out, err, sizeof(err));
		done++;
		if (r != 0) {
			if (coffer_buf_put(ans, &(int32_t){ r }, 4) != 0 ||
			    put_str(ans, err) != 0 || put_u32(ans, 0) != 0 ||
			    put_u32(ans, 0) != 0)
				return -1;
			continue;
		}
		if (coffer_buf_put(ans, &(int32_t){ 0 }, 4) != 0 ||
		    put_str(ans, "") != 0 || put_u32(ans, (uint32_t)out->len) != 0)
			return -1;
		if (out->len <= half - used) {
			if (out->len > 0)
				memcpy(reg + half + used, out->data, out->len);
			if (put_u32(ans, (uint32_t)used) != 0)
				return -1;
			used += out->len;
			continue;
		}
		if (put_u32(ans, IN_FRAME_OFF) != 0 ||
		    coffer_buf_put(ans, out->data, out->len) != 0)
			return -1;
		break;
	}
	memcpy(ans->data + 8, &done, 4);
	return send_frame(HOST_FD, F_BATCH_DONE, ans, NULL, 0, NULL, 0);
}

int
apphost_main(int argc, char **argv)
{
	struct worker_config cfg;
	struct coffer_app_param *params = NULL;
	struct coffer_buf in = COFFER_BUF_INIT_SECRET(1 << 20);
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(0);
	struct coffer_buf ans = COFFER_BUF_INIT_SECRET(0);
	struct plugin *p = NULL;
	struct app_info info;
	struct coffer_cur c;
	const uint8_t *token;
	uint8_t *reg = NULL;
	char *end, err[ERR_TEXT_MAX], app[32];
	uint32_t type, n = 0, half = 0;
	unsigned long long max;
	long runner;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	if (argc != 4 || (max = strtoull(argv[2], &end, 10)) == 0 || *end != '\0' ||
	    (runner = strtol(argv[3], &end, 10)) <= 0 || *end != '\0' ||
	    fcntl(HOST_FD, F_GETFD) < 0 || fcntl(HOST_APP_FD, F_GETFD) < 0) {
		fprintf(stderr, "coffer-worker --app-host: started by the runner only\n");
		return 2;
	}
	/* Dies with the runner (9.5); a runner already gone before this
	 * line made someone else the parent: stop now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != (pid_t)runner)
		return 2;
	/* Blocking reads and writes: the runner keeps the time. */
	(void)fcntl(HOST_FD, F_SETFL, 0);
	snprintf(app, sizeof(app), "/proc/self/fd/%d", HOST_APP_FD);
	cfg.app = app;
	cfg.app_kind = APP_KIND_PLUGIN;
	cfg.max_item_bytes = (size_t)max;
	/* F_INIT: the region, the parameters; then load the plugin (the
	 * file the runner hashed, through its descriptor) and init it. */
	if ((r = recv_frame(HOST_FD, &type, 1 << 20, &in, NULL, 0, NULL)) != 0 ||
	    type != F_INIT)
		goto out;
	coffer_cur_init(&c, in.data, in.len);
	if (coffer_cur_get(&c, &half, 4) != 0 || coffer_cur_ptr(&c, TOKEN_LEN,
	    &token) != 0 || coffer_cur_get(&c, &n, 4) != 0 || n > APP_MAX_PARAMS ||
	    (params = coffer_calloc(n + 1, sizeof(*params))) == NULL)
		goto out;
	if ((reg = host_region(half, token, cfg.max_item_bytes)) == NULL)
		half = 0;
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
	coffer_buf_init_secret(&in, frame_max(cfg.max_item_bytes) +
	    BATCH_ITEMS_MAX * HEAD_MAX);
	coffer_buf_init_secret(&out, cfg.max_item_bytes);
	coffer_buf_init_secret(&ans, batch_frame_max(cfg.max_item_bytes));
	if ((r = plugin_load(&cfg, params, n, &p, &info)) != 0) {
		(void)host_reply(F_INFO, r, coffer_errdetail(), NULL, 0, NULL, 0);
		goto out;
	}
	{
		struct coffer_buf b = COFFER_BUF_INIT(256);

		r = frame_begin(&b);
		if (r == 0 && (r = coffer_buf_put(&b, &(int32_t){ 0 }, 4)) == 0 &&
		    (r = put_str(&b, info.name)) == 0 &&
		    (r = put_str(&b, info.version)) == 0 &&
		    (r = put_u32(&b, (uint32_t)info.has_reduce)) == 0)
			r = put_u32(&b, reg != NULL);
		if (r == 0)
			r = send_frame(HOST_FD, F_INFO, &b, NULL, 0, NULL, 0);
		coffer_buf_release(&b);
		if (r != 0)
			goto out;
	}
	/* One exchange at a time until the runner closes the socket. */
	while (recv_frame(HOST_FD, &type, frame_max(cfg.max_item_bytes) +
	    BATCH_ITEMS_MAX * HEAD_MAX, &in, NULL, 0, NULL) == 0) {
		const uint8_t *id = (const uint8_t *)"", *data = NULL;
		uint32_t idn = 0, dn = 0, attempt = 0;
		int in_fd;
		char idbuf[COFFER_STORE_KEY_MAX + 1], ownbuf[256] = "";
		int kind = type == F_PROCESS ? PLUGIN_PROCESS : type == F_REDUCE_ADD ?
		    PLUGIN_REDUCE_ADD : type == F_REDUCE_FINISH ? PLUGIN_REDUCE_FINISH : 0;

		coffer_cur_init(&c, in.data, in.len);
		if (type == F_BATCH) {
			if (host_batch(p, &c, reg, half, &out, &ans) != 0 ||
			    coffer_cur_left(&c) != 0)
				break;
			coffer_buf_reset(&ans);
			continue;
		}
		idbuf[0] = '\0';
		if (kind == 0 || (kind == PLUGIN_PROCESS &&
		    host_item_head(&c, idbuf, &attempt, ownbuf) != 0) ||
		    (kind == PLUGIN_REDUCE_ADD && (get_bytes(&c, &id, &idn) != 0 ||
		    idn > COFFER_STORE_KEY_MAX)) || (kind != PLUGIN_REDUCE_FINISH &&
		    get_data(&c, half, 0, &data, &dn, &in_fd) != 0) ||
		    coffer_cur_left(&c) != 0)
			break;
		if (data == NULL)
			data = reg;
		if (kind == PLUGIN_REDUCE_ADD) {
			memcpy(idbuf, id, idn);
			idbuf[idn] = '\0';
		}
		coffer_buf_reset(&out);
		r = plugin_call(p, kind, idbuf, attempt, ownbuf[0] ? ownbuf : NULL, data,
		    dn, kind == PLUGIN_REDUCE_ADD ? NULL : &out, err, sizeof(err));
		/* A big input was used, and a big output is in its memfd or
		 * sent: their buffers go (HF5, wiped), the input's before the
		 * memfd is written. */
		if (in.alloc > REGION_HALF_MAX) {
			coffer_buf_release(&in);
			coffer_buf_init_secret(&in, frame_max(cfg.max_item_bytes) +
			    BATCH_ITEMS_MAX * HEAD_MAX);
		}
		if (host_reply(F_DONE, r, r ? err : "", out.data, out.len, reg,
		    half) != 0)
			break;
		if (out.alloc > REGION_HALF_MAX) {
			coffer_buf_release(&out);
			coffer_buf_init_secret(&out, cfg.max_item_bytes);
		}
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
	coffer_buf_release(&ans);
	return r == 0 ? 0 : 1;
}
