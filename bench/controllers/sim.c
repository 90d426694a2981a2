/* SPDX-License-Identifier: Apache-2.0 */
/* The discrete-event engine of the controller simulator (sim.h). One heap
 * of timed events, processed in (time, insertion) order: deterministic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sim.h"

/*
 * The model, and why (doc/controllers.md, "Simulator"):
 * - A replica is asked for, pays startup_s (start-up and attestation),
 *   then takes items from the queue one at a time; an item's time is fixed
 *   by the job (the same on every replica), so every controller sees the
 *   same work.
 * - Scale-down is the actuator's graceful stop: a starting or idle replica
 *   exits at once, a busy one finishes its item and exits; if the item
 *   outlasts grace_s it is killed, and the item goes back to the queue when
 *   its lease expires (lease_s later), as with the real queue's reaper.
 *   Victims (idle_first, coffer-manager's actuator with its hint) are the
 *   newest starting replicas, then the newest idle ones, then the busy
 *   ones whose item started most recently; without idle_first (the
 *   actuator without a hint) the newest starting ones, then the newest
 *   ready ones, busy or not.
 * - A crash kills a replica at a random time; its item comes back after
 *   lease_s and the actuator starts a replacement at once.
 * - The host fills the observation as coffer-manager's monitor does
 *   (src/manager/monitor.c), from what a real monitor sees: exact counts
 *   from the queue, replica counts from the actuator, "ready" replicas as
 *   those holding an item (min(in_flight, replicas)), replica-seconds as
 *   the tick-by-tick integral of those, the mean and variance of the
 *   completed items' times (the workers report them with their acks; the
 *   variance no smaller than a millisecond's resolution, 0 below two
 *   items), start-up as the time the first item was taken, a smoothed
 *   throughput. obs_full gives exact ready replicas, replica-seconds and
 *   measured start-ups instead; obs_no_times the monitor before item
 *   times (mean from replica-seconds, no variance).
 * - Cost is every replica's life from the request to its exit; the job
 *   ends (and every replica stops) when the last item is done.
 */

enum { R_STARTING, R_IDLE, R_BUSY, R_STOPPING, R_DEAD };
enum { EV_TICK, EV_READY, EV_DONE, EV_CRASH, EV_KILL, EV_RETURN };

struct replica {
	int state;
	uint32_t gen;     /* bumped to cancel pending DONE/KILL events */
	double t_start;
	int64_t item;
	double item_t0;
};

struct ev {
	double t;
	uint64_t seq;
	int type;
	int32_t rep;
	uint32_t gen;
	int64_t item;
};

struct sim {
	const struct sim_job *j;
	const double *work;
	/* events */
	struct ev *heap;
	size_t nheap, capheap;
	uint64_t seq;
	/* replicas */
	struct replica *reps;
	size_t nreps, capreps;
	int32_t n_starting, n_idle, n_busy, n_stopping;
	int32_t *idle;    /* ring of idle replicas waiting for items */
	size_t idle_head, idle_len, idle_cap;
	/* queue */
	int64_t *q;
	size_t q_head, q_len, q_cap;
	int64_t done, in_flight;
	/* clocks and integrals */
	double t, tl;
	double cost, rs_ready, busy;
	/* monitor state */
	double startup_sum;
	int64_t startup_n;
	int64_t it_n;
	double it_mean, it_m2;
	double thr, thr_t;
	int64_t thr_done;
	/* coffer-manager's monitor, reproduced */
	double mon_rs, mon_t, mon_first_take;
	int32_t mon_last_ready;
	int mon_have;
	int32_t desired;
	struct sim_result *res;
};

static int
heap_push(struct sim *s, double t, int type, int32_t rep, uint32_t gen,
    int64_t item)
{
	struct ev e = { t, s->seq++, type, rep, gen, item };
	size_t i;

	if (s->nheap == s->capheap) {
		size_t cap = s->capheap ? 2 * s->capheap : 256;
		struct ev *h = realloc(s->heap, cap * sizeof(*h));

		if (h == NULL)
			return -1;
		s->heap = h;
		s->capheap = cap;
	}
	i = s->nheap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (s->heap[p].t < e.t ||
		    (s->heap[p].t == e.t && s->heap[p].seq < e.seq))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = e;
	return 0;
}

static struct ev
heap_pop(struct sim *s)
{
	struct ev top = s->heap[0], last = s->heap[--s->nheap];
	size_t i = 0, n = s->nheap;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && (s->heap[c + 1].t < s->heap[c].t ||
		    (s->heap[c + 1].t == s->heap[c].t &&
		    s->heap[c + 1].seq < s->heap[c].seq)))
			c++;
		if (last.t < s->heap[c].t ||
		    (last.t == s->heap[c].t && last.seq < s->heap[c].seq))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n > 0)
		s->heap[i] = last;
	return top;
}

/* Integrate the replica counts up to time t. */
static void
advance(struct sim *s, double t)
{
	double dt = t - s->tl;

	if (dt > 0) {
		s->cost += dt * (s->n_starting + s->n_idle + s->n_busy + s->n_stopping);
		s->rs_ready += dt * (s->n_idle + s->n_busy);
		s->busy += dt * (s->n_busy + s->n_stopping);
		s->res->idle_s += dt * s->n_idle;
		s->res->starting_s += dt * s->n_starting;
		s->tl = t;
	}
	s->t = t;
}

static int
idle_push(struct sim *s, int32_t r)
{
	if (s->idle_len == s->idle_cap) {
		size_t cap = s->idle_cap ? 2 * s->idle_cap : 64, i;
		int32_t *a = malloc(cap * sizeof(*a));

		if (a == NULL)
			return -1;
		for (i = 0; i < s->idle_len; i++)
			a[i] = s->idle[(s->idle_head + i) % s->idle_cap];
		free(s->idle);
		s->idle = a;
		s->idle_cap = cap;
		s->idle_head = 0;
	}
	s->idle[(s->idle_head + s->idle_len++) % s->idle_cap] = r;
	return 0;
}

/* An idle replica takes the next item, or waits for one. */
static int
take_or_wait(struct sim *s, int32_t r)
{
	struct replica *p = &s->reps[r];
	int64_t it;

	if (s->q_len == 0)
		return idle_push(s, r);
	it = s->q[s->q_head];
	s->q_head = (s->q_head + 1) % s->q_cap;
	s->q_len--;
	p->state = R_BUSY;
	s->n_idle--;
	s->n_busy++;
	s->in_flight++;
	p->item = it;
	p->item_t0 = s->t;
	if (s->mon_first_take == 0)
		s->mon_first_take = s->t > 0 ? s->t : 1e-3;
	return heap_push(s, s->t + s->work[it], EV_DONE, r, p->gen, it);
}

/* Items came back to the queue: wake waiting replicas. */
static int
wake(struct sim *s)
{
	while (s->q_len > 0 && s->idle_len > 0) {
		int32_t r = s->idle[s->idle_head];

		s->idle_head = (s->idle_head + 1) % s->idle_cap;
		s->idle_len--;
		if (s->reps[r].state == R_IDLE && take_or_wait(s, r) != 0)
			return -1;
	}
	return 0;
}

static int
start_replica(struct sim *s)
{
	const struct sim_job *j = s->j;
	struct replica *p;
	struct sim_rng rng;
	int32_t r;

	if (s->nreps == s->capreps) {
		size_t cap = s->capreps ? 2 * s->capreps : 64;
		struct replica *a = realloc(s->reps, cap * sizeof(*a));

		if (a == NULL)
			return -1;
		s->reps = a;
		s->capreps = cap;
	}
	r = (int32_t)s->nreps++;
	p = &s->reps[r];
	memset(p, 0, sizeof(*p));
	p->state = R_STARTING;
	p->t_start = s->t;
	p->item = -1;
	s->n_starting++;
	s->res->starts++;
	if (heap_push(s, s->t + j->startup_s, EV_READY, r, p->gen, -1) != 0)
		return -1;
	/* The k-th replica started crashes or not whatever the controller. */
	if (j->crash_frac > 0) {
		sim_rng_seed(&rng, j->seed, 1000003u + (uint64_t)r);
		if (sim_rng_unif(&rng) < j->crash_frac &&
		    heap_push(s, s->t + sim_rng_unif(&rng) * (j->startup_s +
		    j->deadline_s), EV_CRASH, r, 0, -1) != 0)
			return -1;
	}
	return 0;
}

static int
item_lost(struct sim *s, int64_t item)
{
	/* still leased (counted in flight) until the lease expires */
	return heap_push(s, s->t + s->j->lease_s, EV_RETURN, -1, 0, item);
}

/* Stop replica i (the actuator's SIGTERM). */
static int
stop_replica(struct sim *s, size_t i)
{
	struct replica *p = &s->reps[i];

	if (p->state == R_STARTING) {
		p->gen++; /* cancels its READY */
		s->n_starting--;
		p->state = R_DEAD;
	} else if (p->state == R_IDLE) {
		s->n_idle--;
		p->state = R_DEAD;
	} else {
		/* SIGTERM: finish the item (its DONE stays armed) or be killed
		 * after the grace period, whichever first; each cancels the other
		 * by bumping gen. */
		s->n_busy--;
		s->n_stopping++;
		p->state = R_STOPPING;
		if (heap_push(s, s->t + s->j->grace_s, EV_KILL, (int32_t)i, p->gen,
		    p->item) != 0)
			return -1;
	}
	return 0;
}

/* Make the actuator's count n: start, or stop (actuator/actuator.h): the
 * newest starting replicas first; then, with idle_first, the newest idle
 * ones and the busy ones with the most recent item; without, the newest
 * ready ones, busy or not. */
static int
actuate(struct sim *s, int32_t n)
{
	int32_t alive = s->n_starting + s->n_idle + s->n_busy, k;
	size_t i;
	int pass;

	for (; alive < n; alive++)
		if (start_replica(s) != 0)
			return -1;
	k = alive - n;
	if (s->j->idle_first) {
		/* starting, then idle: newest first */
		for (pass = 0; pass < 2 && k > 0; pass++)
			for (i = s->nreps; i > 0 && k > 0; i--)
				if (s->reps[i - 1].state == (pass == 0 ? R_STARTING :
				    R_IDLE)) {
					k--;
					if (stop_replica(s, i - 1) != 0)
						return -1;
				}
		/* busy: the most recent item first (ties: the newest) */
		while (k > 0) {
			size_t best = s->nreps;

			for (i = s->nreps; i > 0; i--)
				if (s->reps[i - 1].state == R_BUSY && (best == s->nreps ||
				    s->reps[i - 1].item_t0 > s->reps[best].item_t0))
					best = i - 1;
			if (best == s->nreps)
				break;
			k--;
			if (stop_replica(s, best) != 0)
				return -1;
		}
		return 0;
	}
	/* passes: starting; then ready, busy or not */
	for (pass = 0; pass < 2 && k > 0; pass++) {
		for (i = s->nreps; i > 0 && k > 0; i--) {
			struct replica *p = &s->reps[i - 1];

			if (pass == 0 && p->state != R_STARTING)
				continue;
			if (pass == 1 && p->state != R_IDLE && p->state != R_BUSY)
				continue;
			k--;
			if (stop_replica(s, i - 1) != 0)
				return -1;
		}
	}
	return 0;
}

static void
fill_obs(struct sim *s, struct coffer_ctl_obs *o)
{
	const struct sim_job *j = s->j;
	int32_t alive = s->n_starting + s->n_idle + s->n_busy, ready;

	/* the manager's monitor: ready = replicas holding an item */
	ready = s->in_flight < alive ? (int32_t)s->in_flight : alive;
	if (s->mon_have)
		s->mon_rs += (s->t - s->mon_t) * s->mon_last_ready;
	s->mon_have = 1;
	s->mon_t = s->t;
	s->mon_last_ready = ready;
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->now_s = s->t;
	o->total = j->n_items;
	o->done = s->done;
	o->failed = 0;
	o->in_flight = s->in_flight;
	o->queued = (int64_t)s->q_len;
	o->progress = j->n_items > 0 ? (double)s->done / (double)j->n_items : 1.0;
	o->time_progress = s->t / j->deadline_s;
	o->error = o->progress - o->time_progress;
	o->replicas = alive;
	o->replicas_desired = s->desired;
	o->throughput = s->thr;
	/* the completed items' times, as coffer-manager's monitor gives them
	 * (mgr_monitor_item_time: the variance never below the millisecond
	 * resolution's, so that 0 keeps meaning unknown) */
	o->item_time_mean_s = s->it_n > 0 ? s->it_mean : 0;
	o->item_time_var_s2 = 0;
	if (s->it_n > 1) {
		o->item_time_var_s2 = s->it_m2 / (double)(s->it_n - 1);
		if (o->item_time_var_s2 < 1e-6 / 12)
			o->item_time_var_s2 = 1e-6 / 12;
	}
	if (j->obs_full) {
		o->replicas_ready = s->n_idle + s->n_busy;
		o->replica_seconds = s->rs_ready;
		o->startup_s = s->startup_n > 0 ?
		    s->startup_sum / (double)s->startup_n : 0;
	} else {
		o->replicas_ready = ready;
		o->replica_seconds = s->mon_rs;
		o->startup_s = s->mon_first_take;
	}
	if (j->obs_startup_known && o->startup_s == 0)
		o->startup_s = j->startup_s;
	if (j->obs_no_times) {
		o->item_time_mean_s = s->done > 0 && s->mon_rs > 0 ?
		    s->mon_rs / (double)s->done : 0;
		o->item_time_var_s2 = 0;
	}
}

static int
tick(struct sim *s, const struct coffer_controller *def, void *st,
    sim_trace_fn trace, void *arg)
{
	const struct sim_job *j = s->j;
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct sim_sample smp;
	int32_t n;
	double dt = s->t - s->thr_t;

	if (dt > 0) {
		double rate = (double)(s->done - s->thr_done) / dt;

		s->thr += (1 - exp(-dt / 60.0)) * (rate - s->thr);
		s->thr_t = s->t;
		s->thr_done = s->done;
	}
	fill_obs(s, &o);
	memset(&d, 0, sizeof(d));
	if (def->decide(st, &o, &d) != 0) {
		s->res->decide_errors++;
		n = s->desired;
	} else {
		n = d.replicas;
		if (n < j->min_replicas)
			n = j->min_replicas;
		if (n > j->max_replicas)
			n = j->max_replicas;
	}
	if (d.flags & COFFER_CTL_INFEASIBLE)
		s->res->infeasible_ticks++;
	if (n != s->desired)
		s->res->scale_events++;
	s->desired = n;
	if (actuate(s, n) != 0)
		return -1;
	if (trace != NULL) {
		smp.t = s->t;
		smp.alive = s->n_starting + s->n_idle + s->n_busy + s->n_stopping;
		smp.ready = s->n_idle + s->n_busy;
		smp.desired = n;
		smp.progress = o.progress;
		smp.queued = (int64_t)s->q_len;
		smp.in_flight = s->in_flight;
		smp.flags = d.flags;
		d.reason[sizeof(d.reason) - 1] = '\0';
		trace(&smp, d.reason, arg);
	}
	return 0;
}

static void
peak(struct sim *s)
{
	int32_t a = s->n_starting + s->n_idle + s->n_busy + s->n_stopping;

	if (a > s->res->peak)
		s->res->peak = a;
}

int
sim_run(const struct sim_job *j, const double *work,
    const struct coffer_controller *def, const struct coffer_ctl_param *params,
    size_t nparams, sim_trace_fn trace, void *trace_arg,
    struct sim_result *res, char *err, size_t errlen)
{
	struct coffer_ctl_config cfg;
	struct sim s;
	void *st = NULL;
	double horizon, w = 0;
	int64_t i;
	int r = -1;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	s.j = j;
	s.work = work;
	s.res = res;
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.min_replicas = j->min_replicas;
	cfg.max_replicas = j->max_replicas;
	cfg.expected_time_s = j->deadline_s;
	cfg.check_interval_s = j->check_interval_s;
	cfg.params = params;
	cfg.nparams = nparams;
	cfg.host_flags = j->idle_first ? COFFER_CTL_HOST_STOPS_IDLE_FIRST : 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (def->create(&cfg, &st, err, errlen) != 0)
		return -1;
	s.q_cap = (size_t)j->n_items + 1;
	if ((s.q = malloc(s.q_cap * sizeof(*s.q))) == NULL)
		goto out;
	for (i = 0; i < j->n_items; i++) {
		s.q[i] = i;
		w += work[i];
	}
	s.q_len = (size_t)j->n_items;
	horizon = 100 * j->deadline_s + 2 * w + 1000;

	s.desired = j->init_replicas;
	for (i = 0; i < j->init_replicas; i++)
		if (start_replica(&s) != 0)
			goto out;
	if (heap_push(&s, 0, EV_TICK, -1, 0, -1) != 0)
		goto out;
	while (s.nheap > 0) {
		struct ev e = heap_pop(&s);
		struct replica *p = e.rep >= 0 ? &s.reps[e.rep] : NULL;

		if (e.t > horizon)
			break;
		advance(&s, e.t);
		res->events++;
		switch (e.type) {
		case EV_TICK:
			if (tick(&s, def, st, trace, trace_arg) != 0 ||
			    heap_push(&s, s.t + j->check_interval_s, EV_TICK, -1, 0,
			    -1) != 0)
				goto out;
			break;
		case EV_READY:
			if (p->state != R_STARTING || p->gen != e.gen)
				break;
			p->state = R_IDLE;
			s.n_starting--;
			s.n_idle++;
			s.startup_sum += s.t - p->t_start;
			s.startup_n++;
			if (take_or_wait(&s, e.rep) != 0)
				goto out;
			break;
		case EV_DONE:
			if (p->gen != e.gen || (p->state != R_BUSY &&
			    p->state != R_STOPPING))
				break;
			s.done++;
			s.in_flight--;
			{
				double x = s.t - p->item_t0, dlt = x - s.it_mean;

				s.it_n++;
				s.it_mean += dlt / (double)s.it_n;
				s.it_m2 += dlt * (x - s.it_mean);
			}
			p->item = -1;
			if (p->state == R_STOPPING) {
				p->state = R_DEAD;
				p->gen++;
				s.n_stopping--;
			} else {
				p->state = R_IDLE;
				s.n_busy--;
				s.n_idle++;
				if (take_or_wait(&s, e.rep) != 0)
					goto out;
			}
			break;
		case EV_CRASH:
			if (p->state == R_DEAD)
				break;
			res->crashes++;
			p->gen++;
			if (p->state == R_STARTING)
				s.n_starting--;
			else if (p->state == R_IDLE)
				s.n_idle--;
			else if (p->state == R_BUSY)
				s.n_busy--;
			else
				s.n_stopping--;
			if ((p->state == R_BUSY || p->state == R_STOPPING) &&
			    item_lost(&s, p->item) != 0)
				goto out;
			if (p->state != R_STOPPING) {
				p->state = R_DEAD;
				if (start_replica(&s) != 0) /* the actuator replaces it */
					goto out;
			}
			s.reps[e.rep].state = R_DEAD;
			break;
		case EV_KILL:
			if (p->gen != e.gen || p->state != R_STOPPING)
				break;
			res->interrupted++;
			p->gen++;
			p->state = R_DEAD;
			s.n_stopping--;
			if (item_lost(&s, p->item) != 0)
				goto out;
			break;
		case EV_RETURN:
			s.in_flight--;
			s.q[(s.q_head + s.q_len) % s.q_cap] = e.item;
			s.q_len++;
			if (wake(&s) != 0)
				goto out;
			break;
		}
		peak(&s);
		if (s.done >= j->n_items) {
			res->finished = 1;
			res->finish_s = s.t;
			break;
		}
	}
	if (!res->finished)
		res->finish_s = s.t > horizon ? s.t : horizon;
	res->met = res->finished && res->finish_s <= j->deadline_s + 1e-9;
	res->lateness_s = res->finish_s > j->deadline_s ?
	    res->finish_s - j->deadline_s : 0;
	res->cost_rs = s.cost;
	res->work_s = s.busy;
	r = 0;
out:
	if (r != 0 && err != NULL && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "simulator: out of memory");
	def->destroy(st);
	free(s.heap);
	free(s.reps);
	free(s.idle);
	free(s.q);
	return r;
}
