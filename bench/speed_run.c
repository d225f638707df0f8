/* bench_speed's rounds (speed_run.h). Threads are started per round: a few tens of microseconds
 * against rounds of seconds, and every configuration pays it alike. */
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
	struct speed_config *c;
	int thread, n_images, failed;
	double *lat_ms; /* n_images slots of its own, or NULL */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const int first = w->thread * w->n_images / w->c->threads;
	for (int j = 0; j < w->n_images && !w->failed; j++) {
		const double t = bench_wall_s();
		w->failed = w->c->call(w->c->ctx, (first + j) % w->n_images) != 0;
		if (w->lat_ms)
			w->lat_ms[j] = (bench_wall_s() - t) * 1e3;
	}
	return NULL;
}

int speed_round(struct speed_config *c, int n_images, int timed)
{
	if (c->failed)
		return -1;
	if (timed && c->n_lat + c->threads * n_images > c->cap)
		return -1;
	struct worker w[64];
	pthread_t tid[64];
	const int n = c->threads < 64 ? c->threads : 64;
	int started = 0;
	const double t0 = bench_wall_s();
	for (int i = 0; i < n; i++) {
		w[i] = (struct worker){ c, i, n_images, 0, timed ? c->lat_ms + c->n_lat + i * n_images : NULL };
		if (pthread_create(&tid[i], NULL, work, &w[i]) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	const double wall = bench_wall_s() - t0;
	int failed = started < n;
	for (int i = 0; i < started; i++)
		failed |= w[i].failed;
	if (failed) {
		c->failed = 1;
		return -1;
	}
	if (timed) {
		c->n_lat += n * n_images;
		c->wall_s += wall;
	}
	return 0;
}
