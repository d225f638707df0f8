/* bench_cnn: time per image of the two MobileNetV2s on one thread, and the arithmetic rate.
 *
 *   bench_cnn [--runs R] [--images N] [--keep-all] [--simd-limit 0..2] MODELS_DIR
 *
 * MODELS_DIR is what scripts/fetch-models.sh prints. Inputs are the 224x224 reference inputs of
 * ../shared/vectors/mobilenet_v2 (pixel / 255). Reports the median over R runs of the mean over
 * N images, the multiply-adds the net performs per image, and GFLOP/s (2 x multiply-adds); also
 * the median CPU time per image, steadier than wall time on a machine shared with other work.
 * The arena keeps only the net's output, as the embedder keeps only its last map; --keep-all
 * keeps every layer, as the reference tests do. --simd-limit 1 runs the kernels of a CPU without
 * AVX-512, 2 those of one without AVX2 either (see lk__cnn_simd_limit). */
#include "core/cnn/graph_loader.h"
#include "core/internal.h"
#include "core/cnn/keras_loader.h"
#include "stats.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double multiply_adds(const lk_net *net)
{
	double total = 0;
	for (int i = 0; i < net->n_ops; i++) {
		const lk_op *op = &net->ops[i];
		const double out = (double)op->h * op->w * op->c;
		if (op->kind == LK_OP_CONV)
			total += out * op->kh * op->kw * op->weights_in;
		else if (op->kind == LK_OP_DWCONV)
			total += out * op->kh * op->kw;
		else if (op->kind == LK_OP_DENSE)
			total += out * (double)lk__op_size(&net->ops[op->in[0]]);
	}
	return total;
}

int main(int argc, char **argv)
{
	int runs = 7, images = 5, keep_all = 0;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--images") && i + 1 < argc)
			images = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keep-all"))
			keep_all = 1;
		else if (!strcmp(argv[i], "--simd-limit") && i + 1 < argc)
			lk__cnn_simd_limit = atoi(argv[++i]);
		else
			dir = argv[i];
	}
	if (!dir || runs < 1 || runs > 64 || images < 1 || images > 14) {
		fprintf(stderr, "usage: bench_cnn [--runs 1..64] [--images 1..14] [--keep-all] [--simd-limit 0..2] MODELS_DIR\n");
		return 2;
	}
	omp_set_num_threads(1);
	openblas_set_num_threads(1);
	char path[1024];
	snprintf(path, sizeof path, "%s/vectors/mobilenet_v2/inputs_u8.bin", LK_SHARED_DIR);
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	const size_t per = 224 * 224 * 3;
	unsigned char *u8 = malloc(per * 14);
	if (fread(u8, 1, per * 14, f) != per * 14)
		return 1;
	fclose(f);
	float *in = malloc(per * 14 * sizeof(float));
	for (size_t i = 0; i < per * 14; i++)
		in[i] = u8[i] / 255.0f;
	char machine[400];
	bench_machine(machine, sizeof machine);
	printf("bench_cnn: %d runs x %d images, one thread, %s, SIMD limit %d; %s\n\n", runs, images,
	       keep_all ? "every layer kept" : "output only kept", lk__cnn_simd_limit, machine);
	printf("| model | multiply-adds | ms/image (min-max) | CPU ms/image | GFLOP/s |\n|---|---:|---:|---:|---:|\n");
	static const struct {
		const char *sub, *label;
		int graph;
	} models[] = { { "mobilenet_v2", "MobileNetV2 1.0 (layers)", 0 }, { "mobilenet_v2_mid", "MobileNetV2 1.4 (graph)", 1 } };
	for (int mi = 0; mi < 2; mi++) {
		snprintf(path, sizeof path, "%s/%s", dir, models[mi].sub);
		lk_tfjs_model m;
		lk_net net;
		if (lk__tfjs_load(&m, path) != LK_OK ||
		    (models[mi].graph ? lk__net_from_graph(&net, &m, NULL) : lk__net_from_keras(&net, &m)) != LK_OK) {
			fprintf(stderr, "bench_cnn: %s\n", lk_error_detail());
			return 1;
		}
		lk__tfjs_free(&m);
		double t[64], cpu[64];
		lk_net_arena arena;
		const int last = net.n_ops - 1;
		if ((keep_all ? lk__net_arena_init(&arena, &net) : lk__net_arena_init_keep(&arena, &net, &last, 1)) != LK_OK)
			return 1;
		lk__net_run(&net, in, &arena); /* warm-up */
		for (int r = 0; r < runs; r++) {
			const double t0 = bench_wall_s(), c0 = bench_cpu_s();
			for (int k = 0; k < images; k++)
				lk__net_run(&net, in + (size_t)k * per, &arena);
			t[r] = (bench_wall_s() - t0) / images;
			cpu[r] = (bench_cpu_s() - c0) / images;
		}
		const double med = bench_median(t, runs), macs = multiply_adds(&net);
		printf("| %s | %.0fM | %.1f (%.1f-%.1f) | %.1f | %.1f |\n", models[mi].label, macs / 1e6, med * 1e3,
		       bench_min(t, runs) * 1e3, bench_max(t, runs) * 1e3, bench_median(cpu, runs) * 1e3,
		       2 * macs / med / 1e9);
		lk__net_arena_free(&arena);
		lk__net_free(&net);
	}
	free(u8);
	free(in);
	return 0;
}
