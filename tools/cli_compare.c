/* likeness compare: PDQ distance from one reference image to others, through its dihedral
 * variants, with the standard match decision. */
#include "tools/cli.h"
#include "likeness.h"

#include <stdlib.h>
#include <string.h>

const char lk_cli_compare_usage[] =
	"usage: likeness compare [options] REFERENCE IMAGE...\n"
	"\n"
	"Prints, for each IMAGE, the smallest PDQ Hamming distance (0-256) between it and the\n"
	"REFERENCE or any of the reference's 7 rotations and mirrors, which transform gave it, and\n"
	"whether that is a match. Tab-separated: distance, transform, verdict, quality, path.\n"
	"Verdicts: 'match' (distance <= threshold), 'different', or 'unusable' when either image\n"
	"has quality below 50 (flat or featureless images hash to noise and are never matched).\n"
	"\n"
	"options:\n"
	"  --threshold N   match radius in bits (default 31, the PDQ convention)\n"
	"  -h, --help      this text\n"
	"\n"
	"Exit status: 0 all compared, 2 wrong arguments, 3 some images could not be read,\n"
	"4 output failed.\n";

int lk_cli_compare(int argc, char **argv)
{
	unsigned long long threshold = 31;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--threshold") && i + 1 < argc) {
			if (lk_cli_parse_size(argv[++i], 0, &threshold) || threshold > LK_PDQ_BITS) {
				fprintf(stderr, "likeness compare: --threshold needs 0..256, got '%s'\n", argv[i]);
				return LK_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "likeness compare: unknown option '%s' (see likeness compare --help)\n",
				argv[i]);
			return LK_EXIT_USAGE;
		}
	}
	if (argc - i < 2) {
		fputs("likeness compare: needs a REFERENCE and at least one IMAGE (see --help)\n", stderr);
		return LK_EXIT_USAGE;
	}
	lk_pdq_result ref;
	int rc = lk_pdq_hash_file(&ref, argv[i], NULL);
	if (rc != LK_OK) {
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	int failures = 0;
	for (int k = i + 1; k < argc; k++) {
		lk_pdq_result img;
		rc = lk_pdq_hash_file(&img, argv[k], NULL);
		if (rc != LK_OK) {
			lk_cli_report(rc);
			failures++;
			continue;
		}
		int best = LK_PDQ_BITS + 1, which = 0;
		for (int d = 0; d < LK_DIHEDRAL_COUNT; d++) {
			int dist = lk_pdq_distance(&img.hash[LK_DIHEDRAL_ORIGINAL], &ref.hash[d]);
			if (dist < best)
				best = dist, which = d;
		}
		const int quality = img.quality < ref.quality ? img.quality : ref.quality;
		const char *verdict = quality < 50 ? "unusable" : (unsigned)best <= threshold ? "match" : "different";
		printf("%d\t%s\t%s\t%d\t%s\n", best, lk_dihedral_name((lk_dihedral)which), verdict, quality, argv[k]);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("likeness: writing the output");
		return LK_EXIT_FAILURE;
	}
	return failures ? LK_EXIT_INPUT : LK_EXIT_OK;
}
