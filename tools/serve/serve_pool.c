/* The bounded worker pool that runs checks and registry work for the HTTP service.
 *
 * Admission is decided when a request arrives, not when a worker frees up: a request that
 * would make more than workers + queue jobs pending is refused at once (429), so a flood costs
 * the server a few microseconds per request instead of an ever longer queue whose answers come
 * too late to be useful. A job that still waited longer than the queue timeout is answered 503
 * without being run, for the same reason. */
#include "tools/serve/serve.h"

#include <stdlib.h>
#include <vips/vips.h>

struct lk_serve_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct lk_serve_job *head, *tail;
	unsigned pending, capacity;
	double queue_timeout_s;
	int stopping;                  /* no more submissions; queued jobs are answered, not run */
	unsigned n_threads;
	pthread_t threads[];
};

static struct lk_serve_job *take(struct lk_serve_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	while (!pool->head && !pool->stopping)
		pthread_cond_wait(&pool->wake, &pool->lock);
	struct lk_serve_job *job = pool->head;
	if (job) {
		pool->head = job->next;
		if (!pool->head)
			pool->tail = NULL;
	}
	pthread_mutex_unlock(&pool->lock);
	return job;
}

static void *worker(void *arg)
{
	struct lk_serve_pool *pool = arg;
	struct lk_serve_job *job;
	while ((job = take(pool))) {
		struct lk_serve_request *req = job->req;
		job->queue_s = lk_serve_now() - job->enqueued;
		if (job->is_check)
			lk_serve_metrics_stage(LK_STAGE_QUEUE, job->queue_s);
		/* The timeout bounds how long a request waits for its first worker: a batch's later
		 * images waiting behind its own earlier ones are not late. Once one job of a request
		 * has expired, its others are not worth running: the reply will be 503. */
		int late = job->queue_s > pool->queue_timeout_s && !atomic_load(&req->started_work);
		pthread_mutex_lock(&pool->lock);
		int cancelled = pool->stopping;
		pthread_mutex_unlock(&pool->lock);
		if (late || cancelled || atomic_load(&req->gave_up)) {
			job->expired = 1;
			atomic_store(&req->gave_up, 1);
		} else {
			atomic_store(&req->started_work, 1);
			job->run(job);
		}
		pthread_mutex_lock(&pool->lock);
		pool->pending--;
		pthread_mutex_unlock(&pool->lock);
		/* The last touch of the request: once resumed, the I/O thread may reply and free it. */
		if (atomic_fetch_sub(&req->jobs_left, 1) == 1)
			MHD_resume_connection(req->conn);
	}
	/* libvips keeps per-thread state that only this call releases. */
	vips_thread_shutdown();
	return NULL;
}

struct lk_serve_pool *lk_serve_pool_start(unsigned workers, unsigned queue, unsigned queue_timeout_ms)
{
	struct lk_serve_pool *pool = calloc(1, sizeof *pool + workers * sizeof(pthread_t));
	if (!pool)
		return NULL;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	pool->capacity = workers + queue;
	pool->queue_timeout_s = queue_timeout_ms / 1000.0;
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0) {
			lk_serve_pool_stop(pool);
			lk_serve_pool_free(pool);
			return NULL;
		}
		pool->n_threads++;
	}
	return pool;
}

int lk_serve_pool_submit(struct lk_serve_pool *pool, struct lk_serve_job *jobs, size_t n)
{
	double now = lk_serve_now();
	pthread_mutex_lock(&pool->lock);
	if (pool->stopping || n > pool->capacity - pool->pending) {
		pthread_mutex_unlock(&pool->lock);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i].enqueued = now;
		jobs[i].next = NULL;
		if (pool->tail)
			pool->tail->next = &jobs[i];
		else
			pool->head = &jobs[i];
		pool->tail = &jobs[i];
	}
	pool->pending += (unsigned)n;
	if (n > 1)
		pthread_cond_broadcast(&pool->wake);
	else
		pthread_cond_signal(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

unsigned lk_serve_pool_pending(struct lk_serve_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	unsigned n = pool->pending;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

unsigned lk_serve_pool_capacity(struct lk_serve_pool *pool)
{
	return pool->capacity;
}

void lk_serve_pool_stop(struct lk_serve_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = 1;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->n_threads; i++)
		pthread_join(pool->threads[i], NULL);
	pool->n_threads = 0;
}

void lk_serve_pool_free(struct lk_serve_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->wake);
	free(pool);
}
