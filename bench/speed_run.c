/* bench_speed's rounds (speed_run.h). The pool's threads meet the main thread at two barriers
 * per round: one to start together, one when all are done. */
#include "speed_run.h"
#include "stats.h"

#include <pthread.h>
#include <stdlib.h>

int speed_config_alloc(struct speed_config *c, int rounds, int n_images)
{
	c->cap = rounds * n_images * c->threads;
	c->n_lat = 0;
	c->wall_s = 0;
	c->failed = 0;
	c->lat_ms = malloc(sizeof(double) * (size_t)(c->cap > 0 ? c->cap : 1));
	return c->lat_ms ? 0 : -1;
}

void speed_config_free(struct speed_config *c)
{
	free(c->lat_ms);
	c->lat_ms = NULL;
}

struct worker {
	struct speed_pool *pool;
	int thread, failed;
};

struct speed_pool {
	int n, stop;
	pthread_barrier_t start, done;
	pthread_t tid[SPEED_MAX_THREADS];
	struct worker w[SPEED_MAX_THREADS];
	/* this round's work, set by the main thread before the start barrier */
	struct speed_config *c;
	int n_images;
	double *lat_ms; /* n_images slots per thread, or NULL */
};

static void run_images(struct worker *w)
{
	const struct speed_pool *p = w->pool;
	const int first = w->thread * p->n_images / p->c->threads;
	double *lat = p->lat_ms ? p->lat_ms + (size_t)w->thread * (size_t)p->n_images : NULL;
	for (int j = 0; j < p->n_images && !w->failed; j++) {
		const double t = bench_wall_s();
		w->failed = p->c->call(p->c->ctx, (first + j) % p->n_images) != 0;
		if (lat)
			lat[j] = (bench_wall_s() - t) * 1e3;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct speed_pool *p = w->pool;
	for (;;) {
		pthread_barrier_wait(&p->start);
		if (p->stop)
			return NULL;
		if (w->thread < p->c->threads)
			run_images(w);
		pthread_barrier_wait(&p->done);
	}
}

int speed_pool_start(struct speed_pool **out, int threads)
{
	if (threads < 1 || threads > SPEED_MAX_THREADS)
		return -1;
	struct speed_pool *p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	p->n = threads;
	if (pthread_barrier_init(&p->start, NULL, (unsigned)threads + 1) != 0) {
		free(p);
		return -1;
	}
	if (pthread_barrier_init(&p->done, NULL, (unsigned)threads + 1) != 0) {
		pthread_barrier_destroy(&p->start);
		free(p);
		return -1;
	}
	for (int i = 0; i < threads; i++) {
		p->w[i] = (struct worker){ p, i, 0 };
		if (pthread_create(&p->tid[i], NULL, work, &p->w[i]) != 0)
			abort(); /* the barriers count on every thread: no way back from half a pool */
	}
	*out = p;
	return 0;
}

void speed_pool_stop(struct speed_pool *p)
{
	if (!p)
		return;
	p->stop = 1;
	pthread_barrier_wait(&p->start);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->tid[i], NULL);
	pthread_barrier_destroy(&p->start);
	pthread_barrier_destroy(&p->done);
	free(p);
}

int speed_round(struct speed_pool *p, struct speed_config *c, int n_images, int timed)
{
	if (c->failed || c->threads > p->n)
		return -1;
	if (timed && c->n_lat + c->threads * n_images > c->cap)
		return -1;
	p->c = c;
	p->n_images = n_images;
	p->lat_ms = timed ? c->lat_ms + c->n_lat : NULL;
	for (int i = 0; i < c->threads; i++)
		p->w[i].failed = 0;
	const double t0 = bench_wall_s();
	pthread_barrier_wait(&p->start);
	pthread_barrier_wait(&p->done);
	const double wall = bench_wall_s() - t0;
	for (int i = 0; i < c->threads; i++)
		c->failed |= p->w[i].failed;
	if (c->failed)
		return -1;
	if (timed) {
		c->n_lat += c->threads * n_images;
		c->wall_s += wall;
	}
	return 0;
}
