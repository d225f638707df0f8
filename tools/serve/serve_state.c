/* What the loader, the workers and the probes share about the server's state: the clock, why
 * the registry is not ready, and the newest registry version seen. Below every other file of
 * the service, so that none of them needs the start-up code (serve_main.c). */
#include "tools/serve/serve.h"

#include <stdio.h>
#include <time.h>

double lk_serve_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void lk_serve_load_error(struct lk_serve *s, char *out, size_t cap)
{
	if (atomic_load(&s->stopping)) {
		snprintf(out, cap, "the server is stopping");
		return;
	}
	pthread_mutex_lock(&s->state_lock);
	snprintf(out, cap, "%s", s->load_error[0] ? s->load_error : "the registry is still loading");
	pthread_mutex_unlock(&s->state_lock);
}

void lk_serve_set_load_error(struct lk_serve *s, const char *text)
{
	pthread_mutex_lock(&s->state_lock);
	snprintf(s->load_error, sizeof s->load_error, "%s", text);
	pthread_mutex_unlock(&s->state_lock);
}

void lk_serve_saw_version(struct lk_serve *s, uint64_t version)
{
	uint64_t seen = atomic_load(&s->registry_version);
	while (version > seen && !atomic_compare_exchange_weak(&s->registry_version, &seen, version))
		;
}
