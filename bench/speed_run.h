/* bench_speed's timing: one configuration (a tool, an input form, a thread count) run in rounds,
 * interleaved with the others by the caller. */
#ifndef LK_BENCH_SPEED_RUN_H
#define LK_BENCH_SPEED_RUN_H

/* One call on image `image` (from any thread); 0, or nonzero after saying why on stderr. */
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

/* One round: c->threads threads at once, each calling once for every image (each starting at
 * another image, so that they do not hold the same one), the round's wall time from the first
 * start to the last finish. When `timed` is 0 nothing is recorded (warm-up: per-thread memory,
 * caches). 0, or -1 when a call failed. */
int speed_round(struct speed_config *c, int n_images, int timed);

#endif
