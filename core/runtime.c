/* Process-wide start-up: libvips once, with settings safe for untrusted input. */
#include "core/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <vips/vips.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_status = LK_EINTERNAL;
static char init_detail[256];

/* libvips also logs a warning for each damaged image it meets; likeness already reports the
 * failure through its own error, so the duplicate only floods a server's log. */
static void drop_vips_warning(const gchar *domain, GLogLevelFlags level, const gchar *message,
			      gpointer user)
{
	(void)domain, (void)level, (void)message, (void)user;
}

static void init_once(void)
{
	if (VIPS_INIT("likeness") != 0) {
		snprintf(init_detail, sizeof init_detail, "libvips failed to start: %s",
			 vips_error_buffer());
		vips_error_clear();
		return;
	}
	/* The operation cache keys loads on the buffer's address: a caller that reuses one
	 * buffer for many images could get an old image back. Each image is decoded once anyway. */
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	/* Loaders such as ImageMagick, FITS or MATLAB are not hardened against hostile files. */
	vips_block_untrusted_set(TRUE);
	/* ...except SVG, which lk_ingest_options.allow_svg governs per call (see likeness.h). */
	vips_operation_block_set("VipsForeignLoadSvg", FALSE);
	/* Callers run one image per thread; libvips' own worker threads would only contend. */
	vips_concurrency_set(1);
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, drop_vips_warning, NULL);
	init_status = LK_OK;
}

int lk__ensure_init(void)
{
	pthread_once(&once, init_once);
	if (init_status != LK_OK)
		return lk__fail(init_status, "%s", init_detail);
	return LK_OK;
}

int lk_init(void)
{
	lk__clear_error();
	return lk__ensure_init();
}

const char *lk_version(void)
{
	return LK_VERSION_STRING;
}

unsigned int lk_version_number(void)
{
	return LK_VERSION_NUMBER;
}

/* LIKENESS_TEST_NO_AVX2=1 makes this CPU look as if it had no AVX2: the only way to test the
 * refusal below on machines that have it. */
static int cpu_has_avx2(void)
{
	const char *pretend = getenv("LIKENESS_TEST_NO_AVX2");
	if (pretend && *pretend == '1')
		return 0;
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

int lk_cpu_check(void)
{
	lk__clear_error();
	if (LK_FAISS_AVX2 && !cpu_has_avx2())
		return lk__fail(LK_ECPU, "this CPU has no AVX2, which this build of likeness needs (its "
				"faiss is the AVX2 build); rebuild with LK_FAISS_OPT=generic scripts/build.sh");
	return LK_OK;
}

#if LK_FAISS_AVX2
/* The bundled faiss is compiled for AVX2 and its C++ static initialisers may already execute
 * AVX2 instructions when this library is loaded. This runs first (constructor priority 101
 * sorts before default-priority initialisers in the same object), so a CPU without AVX2 gets
 * a sentence and exit status 4 instead of an illegal-instruction crash. */
__attribute__((constructor(101))) static void refuse_cpu_without_avx2(void)
{
	if (lk_cpu_check() == LK_OK)
		return;
	fprintf(stderr, "likeness: %s\n", lk_error_detail());
	_exit(4);
}
#endif
