/* The invariant checks (assert) are compiled into debug and sanitizer builds, where CI runs the
 * tests, and stop the process at a broken invariant instead of letting it corrupt memory. In a
 * release build (NDEBUG) they are compiled out and this file has nothing to test. */
#include "index/search/search.h"

#include <criterion/criterion.h>
#include <signal.h>

#ifndef NDEBUG
/* A snapshot released once more than it was acquired would be freed under a running check. */
Test(invariants, a_snapshot_released_too_often_stops_the_process, .signal = SIGABRT)
{
	struct snapshot snap = { 0 };
	atomic_init(&snap.refcount, 0);
	lk__snapshot_release(&snap);
}

/* A view with rows closer than a row apart would make every reader run past the pixels. */
Test(invariants, an_image_with_a_short_stride_stops_the_process, .signal = SIGABRT)
{
	static const unsigned char pixels[4 * 4 * 3];
	const lk_image8 img = { pixels, 4, 4, 4, 3 };
	static float luma[16];
	lk__luma_from_image8(luma, &img);
}
#endif
