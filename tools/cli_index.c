/* likeness index: build the approximate embedding index of a registry, or describe it. */
#include "tools/cli.h"
#include "likeness.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char lk_cli_index_usage[] =
	"usage: likeness index build [--nlist N] [--nprobe N] [--recall R] [--sample N] [--threads N] [REGISTRY]\n"
	"       likeness index status [REGISTRY]\n"
	"\n"
	"Checks compare an image's embedding with every reference's exactly, which slows down as the\n"
	"registry grows. 'build' trains an approximate index (faiss IVF) on the embeddings the\n"
	"registry holds now and saves it as embeddings.ivf in the registry folder; every checker uses\n"
	"it from its next check, searching references added later exactly beside it and never\n"
	"matching removed or disabled ones. It pays past about 2500 image references (20000\n"
	"vectors); below that, exact search is fast and the index only loses recall. Rebuild when\n"
	"many references were added since ('status' counts them). Delete the file to go back to\n"
	"exact search (from the next change of the registry, or the next process).\n"
	"\n"
	"'status' prints the index's state: none, current (in use), stale (made by another embedder:\n"
	"ignored) or refused (damaged: ignored, checks search exactly), with what it covers.\n"
	"\n"
	"options of build:\n"
	"  --nlist N       lists (k-means cells); default about 4 x sqrt(vectors)\n"
	"  --nprobe N      lists searched per query; default twice the fewest that reach --recall\n"
	"  --recall R      share of sample queries that must find what exact search finds (the\n"
	"                  nearest vector: same reference, same similarity), 0 < R <= 1\n"
	"                  (default 0.99)\n"
	"  --sample N      queries measuring the recall (default 500)\n"
	"  --threads N     threads for training (default: one per core)\n"
	"  -r, --registry DIR  the registry (or REGISTRY; default: $LIKENESS_REGISTRY)\n";

enum { OPT_NLIST = 1000, OPT_NPROBE, OPT_RECALL, OPT_SAMPLE, OPT_THREADS };

static int parse_int(const char *name, const char *text, int *out)
{
	unsigned long long v;
	if (lk_cli_parse_size(text, 0, &v) || v > 1000000000ull) {
		fprintf(stderr, "likeness index: %s needs a count, got '%s'\n", name, text);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_recall(const char *text, float *out)
{
	char *end;
	const double v = strtod(text, &end);
	if (*end || end == text || !(v > 0 && v <= 1)) {
		fprintf(stderr, "likeness index: --recall needs 0 < R <= 1, got '%s'\n", text);
		return -1;
	}
	*out = (float)v;
	return 0;
}

static void print_info(const char *dir, const lk_index_info *i)
{
	printf("index: %s\n", lk_index_state_name(i->state));
	if (i->detail[0])
		printf("why: %s\n", i->detail);
	if (i->state == LK_INDEX_NONE && !i->file_bytes) {
		printf("embedded references: %lld, searched exactly\n", (long long)i->embedded_references);
	} else {
		printf("file: %s/embeddings.ivf (%llu bytes)\n", dir, (unsigned long long)i->file_bytes);
		if (i->nlist) {
			printf("built from version: %llu (registry now at %llu), in %.1f s\n",
			       (unsigned long long)i->built_version, (unsigned long long)i->registry_version,
			       i->build_seconds);
			printf("references: %lld (%lld vectors)\n", (long long)i->references, (long long)i->vectors);
			printf("nlist: %d, nprobe: %d, recall: %.3f on %d queries\n", i->nlist, i->nprobe, (double)i->recall,
			       i->sample);
			printf("embedder: %s\n", i->embedder);
		}
		printf("embedded references: %lld, %lld of them not in the index (searched exactly)\n",
		       (long long)i->embedded_references, (long long)i->delta_references);
	}
	if (i->state == LK_INDEX_CURRENT && i->delta_references * 4 > i->references)
		printf("note: over a fifth of the references were added since the build; rebuild it\n");
	if (i->embedded_references < LK_EMBED_INDEX_RECOMMENDED)
		printf("note: below %d embedded references exact search is fast; an index pays past that\n",
		       LK_EMBED_INDEX_RECOMMENDED);
}

int lk_cli_index(int argc, char **argv)
{
	static const struct option options[] = {
		{ "nlist", required_argument, NULL, OPT_NLIST },    { "nprobe", required_argument, NULL, OPT_NPROBE },
		{ "recall", required_argument, NULL, OPT_RECALL },  { "sample", required_argument, NULL, OPT_SAMPLE },
		{ "threads", required_argument, NULL, OPT_THREADS }, { "registry", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },                 { NULL, 0, NULL, 0 }
	};
	lk_index_options o = LK_INDEX_OPTIONS_INIT;
	const char *registry = NULL;
	int opt, bad = 0, build_options = 0;
	while ((opt = getopt_long(argc, argv, "r:h", options, NULL)) != -1) {
		build_options += opt >= OPT_NLIST;
		switch (opt) {
		case OPT_NLIST: bad |= parse_int("--nlist", optarg, &o.nlist); break;
		case OPT_NPROBE: bad |= parse_int("--nprobe", optarg, &o.nprobe); break;
		case OPT_RECALL: bad |= parse_recall(optarg, &o.target_recall); break;
		case OPT_SAMPLE: bad |= parse_int("--sample", optarg, &o.sample); break;
		case OPT_THREADS: bad |= parse_int("--threads", optarg, &o.threads); break;
		case 'r': registry = optarg; break;
		case 'h': fputs(lk_cli_index_usage, stdout); return LK_EXIT_OK;
		default: bad = 1;
		}
	}
	const int nargs = argc - optind;
	const char *action = nargs > 0 ? argv[optind] : "";
	const int build = !strcmp(action, "build"), status = !strcmp(action, "status");
	if (nargs == 2)
		registry = argv[optind + 1];
	if (bad || nargs < 1 || nargs > 2 || (!build && !status) || (status && build_options)) {
		if (!bad)
			fprintf(stderr, "likeness index: %s\n", !build && !status ? "say 'build' or 'status'"
							       : status && build_options ? "'status' takes no build options"
										     : "one registry at most");
		fputs(lk_cli_index_usage, stderr);
		return LK_EXIT_USAGE;
	}
	lk_registry *reg;
	const int exit_code = lk_cli_open_registry(&reg, registry);
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	lk_index_info info;
	int rc;
	if (build) {
		rc = lk_registry_build_index(&info, reg, &o);
		if (rc == LK_OK)
			printf("built the index in %.1f s\n", info.build_seconds);
	} else {
		rc = lk_registry_index_info(&info, reg);
	}
	if (rc == LK_OK)
		print_info(lk_cli_registry_dir(registry), &info);
	else
		lk_cli_report(rc);
	lk_registry_close(reg);
	return rc == LK_OK ? LK_EXIT_OK : rc == LK_EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAILURE;
}
