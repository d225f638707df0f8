/* likeness-embed-prior: the mean raw descriptor of a sample of art, which every embedding then
 * has subtracted (see core/embed/embedder.c, PRIOR_FILE). scripts/prepare-prior.sh runs it at
 * set-up on Fluent Emoji art.
 *
 *   likeness-embed-prior MODELS_DIR OUT.f32 IMAGE...
 *
 * Writes OUT.f32 (LK_EMBEDDING_DIM float32) through a temporary file, fsync and rename, so a
 * crash never leaves a partial prior where the embedder would read it. */
#include "core/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fputs("usage: likeness-embed-prior MODELS_DIR OUT.f32 IMAGE...\n", stderr);
		return 2;
	}
	lk_embedder *e;
	if (lk__embedder_open(&e, argv[1], 0) != LK_OK) {
		fprintf(stderr, "likeness-embed-prior: %s\n", lk_error_detail());
		return 4;
	}
	double sum[LK_EMBEDDING_DIM] = { 0 };
	int n = 0;
	for (int i = 3; i < argc; i++) {
		lk_embedding v;
		if (lk_embed_file(&v, e, argv[i], NULL) != LK_OK) {
			fprintf(stderr, "likeness-embed-prior: %s\n", lk_error_detail());
			lk_embedder_close(e);
			return 3;
		}
		for (int j = 0; j < LK_EMBEDDING_DIM; j++)
			sum[j] += v.v[j];
		n++;
	}
	lk_embedder_close(e);
	float mean[LK_EMBEDDING_DIM];
	for (int j = 0; j < LK_EMBEDDING_DIM; j++)
		mean[j] = (float)(sum[j] / n);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", argv[2], (long)getpid());
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(mean, sizeof mean, 1, f) == 1 && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, argv[2]) != 0) {
		fprintf(stderr, "likeness-embed-prior: %s: %s\n", argv[2], strerror(errno));
		unlink(tmp);
		return 4;
	}
	printf("%s: mean of %d images\n", argv[2], n);
	return 0;
}
