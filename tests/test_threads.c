/* Many threads hashing at once get exactly the single-threaded answers (per-thread scratch,
 * no shared mutable state); the sanitizer build checks the memory side. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

static const char *const files[] = { "char1_orig.png", "char2_jpeg50.jpg", "char7_1024x640.png",
				     "bench_b0001_1024.jpg", "noise_200x150_grey.png", "char3_rot5.png" };
enum { NFILES = sizeof files / sizeof files[0], THREADS = 6, ROUNDS = 4 };

static lk_pdq_result expected[NFILES];

struct worker {
	int id;
	int mismatches;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int round = 0; round < ROUNDS; round++)
		for (int i = 0; i < NFILES; i++) {
			int f = (i + w->id + round) % NFILES; /* threads hit different files at once */
			lk_pdq_result r;
			if (lk_pdq_hash_file(&r, fx_pdq_image(files[f]), NULL) != LK_OK) {
				w->errors++;
				continue;
			}
			if (memcmp(r.hash, expected[f].hash, sizeof r.hash) || r.quality != expected[f].quality)
				w->mismatches++;
		}
	return NULL;
}

Test(threads, concurrent_hashing_matches_serial)
{
	for (int i = 0; i < NFILES; i++)
		cr_assert_eq(lk_pdq_hash_file(&expected[i], fx_pdq_image(files[i]), NULL), LK_OK);
	pthread_t t[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i };
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(w[i].errors, 0, "thread %d had errors", i);
		cr_expect_eq(w[i].mismatches, 0, "thread %d got different hashes", i);
	}
}

/* Error details are per thread: a failing thread's message never lands on another. */
static void *fail_repeatedly(void *arg)
{
	int *ok = arg;
	*ok = 1;
	for (int i = 0; i < 50; i++) {
		lk_pdq_result r;
		if (lk_pdq_hash_bytes(&r, "not an image at all", 19, NULL) != LK_ENOTIMAGE ||
		    !strstr(lk_error_detail(), "not a recognised image"))
			*ok = 0;
	}
	return NULL;
}

static void *succeed_repeatedly(void *arg)
{
	int *ok = arg;
	*ok = 1;
	for (int i = 0; i < 20; i++) {
		lk_pdq_result r;
		if (lk_pdq_hash_file(&r, fx_pdq_image("char1_orig.png"), NULL) != LK_OK || lk_error_detail()[0])
			*ok = 0;
	}
	return NULL;
}

Test(threads, error_details_are_thread_local)
{
	pthread_t a, b;
	int ok_a = 0, ok_b = 0;
	pthread_create(&a, NULL, fail_repeatedly, &ok_a);
	pthread_create(&b, NULL, succeed_repeatedly, &ok_b);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	cr_expect(ok_a, "failing thread saw a wrong code or detail");
	cr_expect(ok_b, "succeeding thread saw another thread's error detail");
}
