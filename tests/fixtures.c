#include "fixtures.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Folders made for a test, removed when its process exits. */
static char made[64][256];
static int n_made;

static void remove_made(void)
{
	for (int i = 0; i < n_made; i++) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%.255s'", made[i]);
		if (system(cmd) != 0)
			fprintf(stderr, "fixtures: could not remove %s\n", made[i]);
	}
	n_made = 0;
}

static void remember_dir(const char *dir)
{
	if (n_made == 0)
		atexit(remove_made);
	if (n_made < 64)
		snprintf(made[n_made++], sizeof made[0], "%s", dir);
}

const char *fx_pdq_image(const char *name)
{
	/* A small ring, so that several paths can appear in one expression. */
	static _Thread_local char paths[4][1024];
	static _Thread_local unsigned next;
	char *path = paths[next++ % 4];
	snprintf(path, sizeof paths[0], "%s/vectors/pdq/img/%s", LK_SHARED_DIR, name);
	return path;
}

unsigned char *fx_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open fixture %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

const char *fx_write_temp(const char *name, const void *data, size_t len)
{
	static char dir[256];
	static _Thread_local char path[512];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s/likeness-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		cr_assert(mkdtemp(dir), "mkdtemp");
		remember_dir(dir);
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert(f, "cannot write %s", path);
	if (len)
		cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

VipsImage *fx_load(const char *path)
{
	cr_assert_eq(lk_init(), LK_OK);
	VipsImage *img = vips_image_new_from_file(path, "access", VIPS_ACCESS_RANDOM, NULL);
	cr_assert(img, "libvips cannot load %s: %s", path, vips_error_buffer());
	return img;
}

void *fx_encode(VipsImage *img, const char *suffix, size_t *len)
{
	void *buf = NULL;
	char fmt[64];
	snprintf(fmt, sizeof fmt, ".%s", suffix);
	cr_assert_eq(vips_image_write_to_buffer(img, fmt, &buf, len, NULL), 0, "encode %s: %s", suffix,
		     vips_error_buffer());
	return buf;
}

lk_pdq_result fx_hash_bytes(const void *data, size_t len)
{
	lk_pdq_result r;
	int rc = lk_pdq_hash_bytes(&r, data, len, NULL);
	cr_assert_eq(rc, LK_OK, "hash failed: %s (%s)", lk_error_name(rc), lk_error_detail());
	return r;
}

lk_pdq_result fx_hash_encoded(VipsImage *img, const char *suffix_and_options)
{
	size_t len;
	void *buf = fx_encode(img, suffix_and_options, &len);
	lk_pdq_result r = fx_hash_bytes(buf, len);
	g_free(buf);
	return r;
}

void fx_expect_same(const lk_pdq_result *a, const lk_pdq_result *b, const char *what)
{
	cr_expect_eq(memcmp(a->hash, b->hash, sizeof a->hash), 0, "%s: %d bits apart", what,
		     lk_pdq_distance(&a->hash[0], &b->hash[0]));
	cr_expect_eq(a->quality, b->quality, "%s quality", what);
}

int fx_distance(const lk_pdq_result *a, const lk_pdq_result *b)
{
	int best = LK_PDQ_BITS;
	for (int d = 0; d < LK_DIHEDRAL_COUNT; d++) {
		int x = lk_pdq_distance(&a->hash[0], &b->hash[d]);
		if (x < best)
			best = x;
	}
	return best;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static unsigned char *put_chunk(unsigned char *o, const char *type, const void *data, size_t n)
{
	o[0] = (unsigned char)(n >> 24), o[1] = (unsigned char)(n >> 16), o[2] = (unsigned char)(n >> 8), o[3] = (unsigned char)n;
	memcpy(o + 4, type, 4);
	if (n)
		memcpy(o + 8, data, n);
	uint32_t c = crc32_of(o + 4, n + 4);
	o[8 + n] = (unsigned char)(c >> 24), o[9 + n] = (unsigned char)(c >> 16), o[10 + n] = (unsigned char)(c >> 8), o[11 + n] = (unsigned char)c;
	return o + 12 + n;
}

unsigned char *fx_png_with_header(uint32_t w, uint32_t h, int depth, int colour_type,
				  const void *idat, size_t idat_len, size_t *len)
{
	unsigned char *buf = malloc(8 + 25 + 12 + idat_len + 12), *o = buf;
	memcpy(o, "\x89PNG\r\n\x1a\n", 8);
	o += 8;
	unsigned char ihdr[13] = { (unsigned char)(w >> 24), (unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w,
				   (unsigned char)(h >> 24), (unsigned char)(h >> 16), (unsigned char)(h >> 8), (unsigned char)h,
				   (unsigned char)depth, (unsigned char)colour_type, 0, 0, 0 };
	o = put_chunk(o, "IHDR", ihdr, sizeof ihdr);
	o = put_chunk(o, "IDAT", idat, idat_len);
	o = put_chunk(o, "IEND", NULL, 0);
	*len = (size_t)(o - buf);
	return buf;
}

static void slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
}

struct fx_run *fx_cli_env(const char *env, const char *args)
{
	static struct fx_run r;
	char out[] = "/tmp/lk-cli-out-XXXXXX", err[] = "/tmp/lk-cli-err-XXXXXX";
	close(mkstemp(out));
	close(mkstemp(err));
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "%s '%s' %s >%s 2>%s", env, LK_CLI_PATH, args, out, err);
	int st = system(cmd);
	cr_assert(WIFEXITED(st), "likeness did not exit normally: %s", cmd);
	r.status = WEXITSTATUS(st);
	slurp(out, r.out, sizeof r.out);
	slurp(err, r.err, sizeof r.err);
	unlink(out);
	unlink(err);
	return &r;
}

struct fx_run *fx_cli(const char *args)
{
	return fx_cli_env("", args);
}

int fx_no_skip(void)
{
	const char *v = getenv("LK_TEST_NO_SKIP");
	return v && v[0] && strcmp(v, "0") != 0;
}

const char *fx_temp_dir(void)
{
	static char dir[256];
	snprintf(dir, sizeof dir, "%s/likeness-dir-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert(mkdtemp(dir));
	remember_dir(dir);
	return dir;
}

void fx_make_registry(const char *dir, const char *slug, const char *image)
{
	cr_assert_eq(lk_registry_create(dir), LK_OK, "%s", lk_error_detail());
	lk_registry *reg;
	cr_assert_eq(lk_registry_open(&reg, dir), LK_OK, "%s", lk_error_detail());
	lk_character c = fx_character(slug, slug);
	cr_assert_eq(lk_character_add(reg, &c), LK_OK, "%s", lk_error_detail());
	cr_assert_eq(lk_reference_add_file(NULL, reg, slug, fx_pdq_image(image), NULL), LK_OK, "%s", lk_error_detail());
	lk_registry_close(reg);
}

void fx_embedded_open(struct fx_embedded *f)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	cr_assert_eq(lk_embedder_open(&f->embedder, LK_MODELS_DIR), LK_OK, "%s", lk_error_detail());
	snprintf(f->dir, sizeof f->dir, "%s/reg", fx_temp_dir());
	cr_assert_eq(lk_registry_create(f->dir), LK_OK, "%s", lk_error_detail());
	cr_assert_eq(lk_registry_open(&f->reg, f->dir), LK_OK, "%s", lk_error_detail());
	cr_assert_eq(lk_registry_set_embedder(f->reg, f->embedder), LK_OK, "%s", lk_error_detail());
	static const char *const slugs[] = { "char1", "char2", "char3" };
	for (int i = 0; i < 3; i++) {
		lk_character c = fx_character(slugs[i], slugs[i]);
		cr_assert_eq(lk_character_add(f->reg, &c), LK_OK, "%s", lk_error_detail());
		char image[64];
		snprintf(image, sizeof image, "%s_orig.png", slugs[i]);
		cr_assert_eq(lk_reference_add_file(NULL, f->reg, slugs[i], fx_pdq_image(image), NULL), LK_OK, "%s",
			     lk_error_detail());
	}
	cr_assert_eq(lk_registry_set_embedding_thresholds(f->reg, 0.90f, 0.60f), LK_OK, "%s", lk_error_detail());
}

void fx_embedded_close(struct fx_embedded *f)
{
	lk_registry_close(f->reg);
	lk_embedder_close(f->embedder);
	f->reg = NULL;
	f->embedder = NULL;
}

lk_character fx_character(const char *slug, const char *name)
{
	lk_character c = LK_CHARACTER_INIT;
	snprintf(c.slug, sizeof c.slug, "%s", slug);
	snprintf(c.name, sizeof c.name, "%s", name);
	return c;
}

double fx_relative_error(const float *got, const float *want, size_t n)
{
	double max_ref = 0, max_diff = 0;
	for (size_t k = 0; k < n; k++) {
		max_ref = fmax(max_ref, fabs(want[k]));
		max_diff = fmax(max_diff, fabs((double)got[k] - want[k]));
	}
	return max_diff / fmax(max_ref, 1e-12);
}

float *fx_cnn_inputs(void)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/vectors/mobilenet_v2/inputs_u8.bin", LK_SHARED_DIR);
	size_t len;
	unsigned char *u8 = fx_read(path, &len);
	const size_t per_image = (size_t)FX_CNN_SIDE * FX_CNN_SIDE * 3;
	cr_assert_eq(len, per_image * FX_CNN_IMAGES, "%s holds %zu bytes", path, len);
	float *f = malloc(len * sizeof *f);
	for (size_t i = 0; i < len; i++)
		f[i] = u8[i] / 255.0f;
	free(u8);
	return f;
}
