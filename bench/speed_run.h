/* bench_speed's timing: one configuration (a tool, an input form, a thread count) run in rounds
 * on a pool of long-lived threads, interleaved with the others by the caller. */
#ifndef LK_BENCH_SPEED_RUN_H
#define LK_BENCH_SPEED_RUN_H

/* One call on image `image` (from any pool thread); 0, or nonzero after saying why on
 * stderr. */
typedef int (*speed_call)(void *ctx, int image);

struct speed_config {
	char tool[64];
	const char *input; /* "png", "jpeg", "raw" */
	int threads;
	speed_call call;
	void *ctx;
	double *lat_ms;    /* every timed call's latency */
	int n_lat, cap;
	double wall_s;     /* the rounds' wall time, summed */
	int failed;        /* a call failed: the configuration is dropped */
};

/* Sizes c->lat_ms for `rounds` rounds over n_images images; 0, or -1 when out of memory. */
int speed_config_alloc(struct speed_config *c, int rounds, int n_images);
void speed_config_free(struct speed_config *c);

#define SPEED_MAX_THREADS 64

/* Threads kept for the whole run, as a server keeps its workers: the per-thread state of
 * likeness and of the peers (scratch buffers, hash objects) is made once, in the warm-up
 * round, not again in every round. */
struct speed_pool;
/* 0, or -1 when the threads cannot be started. */
int speed_pool_start(struct speed_pool **out, int threads);
void speed_pool_stop(struct speed_pool *p);

/* One round: the first c->threads threads of the pool at once (at most the pool's), each
 * calling once for every image (each starting at another image, so that they do not hold the
 * same one); the round's wall time from their start to the last one's finish. When `timed` is
 * 0 nothing is recorded (warm-up). 0, or -1 when a call failed. */
int speed_round(struct speed_pool *p, struct speed_config *c, int n_images, int timed);

#endif
