/* lk_check_files: a batch of checks spread over threads of its own. */
#include "index/check/check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct batch {
	lk_check_result *results;
	int *codes;
	lk_registry *reg;
	const char *const *paths;
	size_t n;
	const lk_check_options *opts;
	atomic_size_t next;
	pthread_mutex_t first_lock; /* guards first_* */
	size_t first;               /* index of the first failing file, n for none */
	char first_detail[512];
};

static void *worker(void *arg)
{
	struct batch *b = arg;
	for (size_t i; (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
		const int rc = lk_check_file(&b->results[i], b->reg, b->paths[i], b->opts);
		b->codes[i] = rc;
		if (rc == LK_OK)
			continue;
		memset(&b->results[i], 0, sizeof b->results[i]);
		pthread_mutex_lock(&b->first_lock);
		if (i < b->first) {
			b->first = i;
			snprintf(b->first_detail, sizeof b->first_detail, "%s", lk_error_detail());
		}
		pthread_mutex_unlock(&b->first_lock);
	}
	return NULL;
}

int lk_check_files(lk_check_result *results, int *codes, lk_registry *reg, const char *const *paths, size_t n,
		   const lk_check_options *opts, int threads)
{
	lk__clear_error();
	if (!results || !codes || !reg || (!paths && n) || threads < 0)
		return lk__fail(LK_EINVAL, "lk_check_files: NULL argument or negative thread count");
	for (size_t i = 0; i < n; i++)
		if (!paths[i])
			return lk__fail(LK_EINVAL, "lk_check_files: path %zu is NULL", i);
	/* Bad options fail the call before any file is touched, not every file alike. */
	lk_check_options o;
	int rc = lk__check_options_read(&o, opts);
	if (rc != LK_OK)
		return rc;
	if (!threads) {
		const long cores = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cores > 0 ? (int)cores : 1;
	}
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;
	if (threads > 256)
		threads = 256;
	struct batch b = { .results = results, .codes = codes, .reg = reg, .paths = paths, .n = n, .opts = &o,
			   .first = n };
	atomic_init(&b.next, 0);
	pthread_mutex_init(&b.first_lock, NULL);
	pthread_t t[256];
	int started = 0;
	for (; started < threads - 1; started++)
		if (pthread_create(&t[started], NULL, worker, &b) != 0)
			break; /* fewer threads: the caller's still works through the batch */
	worker(&b);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&b.first_lock);
	if (b.first == n)
		return LK_OK;
	return lk__fail(codes[b.first], "%s", b.first_detail);
}
