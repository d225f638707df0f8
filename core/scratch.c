/* Per-thread scratch buffers: a worker thread reuses the same memory for every image. */
#include "core/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct scratch {
	void *buf[LK_SCRATCH_COUNT];
	size_t cap[LK_SCRATCH_COUNT];
};

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
	struct scratch *s = p;
	for (int i = 0; i < LK_SCRATCH_COUNT; i++)
		free(s->buf[i]);
	free(s);
}

static void make_key(void)
{
	/* Failure leaves the key unusable; lk__scratch then reports ENOMEM on every call. */
	(void)pthread_key_create(&key, scratch_free);
}

void *lk__scratch_keep(lk_scratch_slot slot, size_t bytes, size_t keep)
{
	pthread_once(&key_once, make_key);
	struct scratch *s = pthread_getspecific(key);
	if (!s) {
		s = calloc(1, sizeof *s);
		if (!s || pthread_setspecific(key, s) != 0) {
			free(s);
			lk__fail(LK_ENOMEM, "cannot allocate per-thread scratch");
			return NULL;
		}
	}
	if (bytes == 0)
		bytes = 1;
	if (s->cap[slot] < bytes) {
		/* Grow by half again so a slowly rising size does not reallocate every time. */
		size_t cap = bytes + bytes / 2;
		cap = (cap + 63) & ~(size_t)63;
		void *p = NULL;
		if (posix_memalign(&p, 64, cap) != 0) {
			lk__fail(LK_ENOMEM, "cannot allocate %zu bytes of scratch", cap);
			return NULL;
		}
		if (keep && s->buf[slot])
			memcpy(p, s->buf[slot], keep < s->cap[slot] ? keep : s->cap[slot]);
		free(s->buf[slot]);
		s->buf[slot] = p;
		s->cap[slot] = cap;
	}
	return s->buf[slot];
}

void *lk__scratch(lk_scratch_slot slot, size_t bytes)
{
	return lk__scratch_keep(slot, bytes, 0);
}

void lk__scratch_trim(size_t keep_bytes)
{
	pthread_once(&key_once, make_key);
	struct scratch *s = pthread_getspecific(key);
	if (!s)
		return;
	for (int i = 0; i < LK_SCRATCH_COUNT; i++)
		if (s->cap[i] > keep_bytes) {
			free(s->buf[i]);
			s->buf[i] = NULL;
			s->cap[i] = 0;
		}
}
