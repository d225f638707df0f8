/* likeness character: add, list, show, update, enable, disable, remove characters. */
#include "tools/cli.h"
#include "likeness.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char lk_cli_character_usage[] =
	"usage: likeness character add SLUG --name NAME [options]\n"
	"       likeness character list | show SLUG | enable SLUG | disable SLUG | remove SLUG\n"
	"\n"
	"Manages protected characters. SLUG is a stable id of a-z 0-9 . _ - (e.g. 'ultraman').\n"
	"'remove' deletes the character and all its references (a takedown); 'disable' keeps them\n"
	"but stops matching. Both take effect for every checker at its next check.\n"
	"\n"
	"options of add (and of 'character update SLUG', which changes only what is given):\n"
	"  --name TEXT            display name (required for add)\n"
	"  --aliases LIST         comma-separated other names\n"
	"  --rights-holder TEXT   who holds the rights\n"
	"  --licence TEXT         licence or notes on the rights\n"
	"  --labels LIST          comma-separated labels\n"
	"  --block N              block at PDQ distance <= N (default 31)\n"
	"  --review N             review at PDQ distance <= N (default 55)\n"
	"  --embed-copy S         block at embedding similarity >= S (0 < S <= 1; 0: the registry's)\n"
	"  --embed-similar S      review at embedding similarity >= S (likewise)\n"
	"  --franchise SLUG       the series it belongs to (one rights holder's characters); checks\n"
	"                         name the franchise too ('' : none, the character is its own)\n"
	"  --on-character ACTION  review (default) or block a picture that shows this character\n"
	"                         without copying one of its references (the stricter standard)\n"
	"  --character-threshold S  the character score that flags it (-2..2; 0: the one calibrate gave\n"
	"                           it, else the registry's)\n"
	"  -r, --registry DIR     the registry (default: $LIKENESS_REGISTRY)\n";

enum { OPT_NAME = 1000, OPT_ALIASES, OPT_HOLDER, OPT_LICENCE, OPT_LABELS, OPT_BLOCK, OPT_REVIEW, OPT_EMBED_COPY,
       OPT_EMBED_SIMILAR, OPT_FRANCHISE, OPT_ON_CHARACTER, OPT_CHARACTER_THRESHOLD };

static int parse_score(const char *text, float *out)
{
	char *end;
	const double v = strtod(text, &end);
	if (*end || end == text || !(v >= -2 && v <= 2)) {
		fprintf(stderr, "likeness: a character threshold is a score -2..2 (0: the registry's), got '%s'\n", text);
		return -1;
	}
	*out = (float)v;
	return 0;
}

static int parse_similarity(const char *text, float *out)
{
	char *end;
	const double v = strtod(text, &end);
	if (*end || end == text || !(v >= 0 && v <= 1)) {
		fprintf(stderr, "likeness: an embedding threshold is a similarity 0..1 (0: the registry's), got '%s'\n",
			text);
		return -1;
	}
	*out = (float)v;
	return 0;
}

static int parse_threshold(const char *text, int *out)
{
	unsigned long long v;
	if (lk_cli_parse_size(text, 0, &v) || v > LK_PDQ_BITS) {
		fprintf(stderr, "likeness: a threshold is a distance 0..256, got '%s'\n", text);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void print_character(const lk_character *c)
{
	printf("%s\n  name: %s\n", c->slug, c->name);
	if (c->aliases[0])
		printf("  aliases: %s\n", c->aliases);
	if (c->rights_holder[0])
		printf("  rights holder: %s\n", c->rights_holder);
	if (c->licence[0])
		printf("  licence: %s\n", c->licence);
	if (c->labels[0])
		printf("  labels: %s\n", c->labels);
	printf("  block at <= %d, review at <= %d%s\n",
	       c->block_threshold < 0 ? LK_DEFAULT_BLOCK_THRESHOLD : c->block_threshold,
	       c->review_threshold < 0 ? LK_DEFAULT_REVIEW_THRESHOLD : c->review_threshold,
	       c->block_threshold < 0 && c->review_threshold < 0 ? " (defaults)" : "");
	if (c->embed_copy != LK_EMBED_INHERIT || c->embed_similar != LK_EMBED_INHERIT) {
		char copy[16] = "registry's", similar[16] = "registry's";
		if (c->embed_copy != LK_EMBED_INHERIT)
			snprintf(copy, sizeof copy, "%.3f", (double)c->embed_copy);
		if (c->embed_similar != LK_EMBED_INHERIT)
			snprintf(similar, sizeof similar, "%.3f", (double)c->embed_similar);
		printf("  embedding: block at >= %s, review at >= %s\n", copy, similar);
	}
	printf("  franchise: %s\n", c->franchise);
	if (c->character_threshold != LK_EMBED_INHERIT)
		printf("  character: %s at score >= %.3f\n", c->block_on_character ? "block" : "review",
		       (double)c->character_threshold);
	else
		printf("  character: %s at the registry's score\n", c->block_on_character ? "block" : "review");
	printf("  %s, %lld reference(s)\n", c->enabled ? "enabled" : "DISABLED", (long long)c->references);
}

static int list_characters(lk_registry *reg)
{
	size_t total;
	int rc = lk_character_list(NULL, 0, &total, reg);
	lk_character *all = rc == LK_OK ? calloc(total ? total : 1, sizeof *all) : NULL;
	if (rc == LK_OK && !all)
		rc = LK_ENOMEM;
	if (rc == LK_OK)
		rc = lk_character_list(all, total, &total, reg);
	if (rc != LK_OK) {
		free(all);
		lk_cli_report(rc);
		return LK_EXIT_INPUT;
	}
	printf("%-24s %-8s %5s %6s %10s  %-20s %s\n", "character", "state", "block", "review", "references", "franchise",
	       "name");
	for (size_t i = 0; i < total; i++) {
		const lk_character *c = &all[i];
		printf("%-24s %-8s %5d %6d %10lld  %-20s %s\n", c->slug, c->enabled ? "enabled" : "disabled",
		       c->block_threshold < 0 ? LK_DEFAULT_BLOCK_THRESHOLD : c->block_threshold,
		       c->review_threshold < 0 ? LK_DEFAULT_REVIEW_THRESHOLD : c->review_threshold,
		       (long long)c->references, c->franchise, c->name);
	}
	free(all);
	return LK_EXIT_OK;
}

int lk_cli_character(int argc, char **argv)
{
	static const struct option options[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "aliases", required_argument, NULL, OPT_ALIASES },
		{ "rights-holder", required_argument, NULL, OPT_HOLDER },
		{ "licence", required_argument, NULL, OPT_LICENCE },
		{ "labels", required_argument, NULL, OPT_LABELS },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "review", required_argument, NULL, OPT_REVIEW },
		{ "embed-copy", required_argument, NULL, OPT_EMBED_COPY },
		{ "embed-similar", required_argument, NULL, OPT_EMBED_SIMILAR },
		{ "franchise", required_argument, NULL, OPT_FRANCHISE },
		{ "on-character", required_argument, NULL, OPT_ON_CHARACTER },
		{ "character-threshold", required_argument, NULL, OPT_CHARACTER_THRESHOLD },
		{ "registry", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fields[OPT_LABELS - OPT_NAME + 1] = { 0 };
	int block = -2, review = -2; /* -2: not given */
	float embed_copy = -1, embed_similar = -1; /* -1: not given */
	float character_threshold = NAN;           /* NaN: not given */
	int block_on_character = -1;               /* -1: not given */
	const char *registry = NULL, *franchise = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		if (opt >= OPT_NAME && opt <= OPT_LABELS)
			fields[opt - OPT_NAME] = optarg;
		else if (opt == OPT_BLOCK) {
			if (parse_threshold(optarg, &block))
				return LK_EXIT_USAGE;
		} else if (opt == OPT_REVIEW) {
			if (parse_threshold(optarg, &review))
				return LK_EXIT_USAGE;
		} else if (opt == OPT_EMBED_COPY || opt == OPT_EMBED_SIMILAR) {
			if (parse_similarity(optarg, opt == OPT_EMBED_COPY ? &embed_copy : &embed_similar))
				return LK_EXIT_USAGE;
		} else if (opt == OPT_FRANCHISE)
			franchise = optarg;
		else if (opt == OPT_ON_CHARACTER) {
			if (strcmp(optarg, "review") && strcmp(optarg, "block")) {
				fprintf(stderr, "likeness character: --on-character is review or block, not '%s'\n", optarg);
				return LK_EXIT_USAGE;
			}
			block_on_character = !strcmp(optarg, "block");
		} else if (opt == OPT_CHARACTER_THRESHOLD) {
			if (parse_score(optarg, &character_threshold))
				return LK_EXIT_USAGE;
		} else if (opt == 'r')
			registry = optarg;
		else
			return LK_EXIT_USAGE;
	}
	const int nargs = argc - optind;
	const char *action = nargs > 0 ? argv[optind] : "";
	const char *slug = nargs > 1 ? argv[optind + 1] : NULL;
	const int needs_slug = strcmp(action, "list") != 0;
	if (!*action || (needs_slug && !slug) || nargs > (needs_slug ? 2 : 1)) {
		fputs(lk_cli_character_usage, stderr);
		return LK_EXIT_USAGE;
	}
	/* Ids are never cut short: a shortened one would name another character or franchise. */
	const char *const ids[2] = { slug, franchise };
	for (int i = 0; i < 2; i++)
		if (ids[i] && strlen(ids[i]) >= LK_SLUG_MAX) {
			fprintf(stderr, "likeness character: '%.40s...' is longer than %d bytes\n", ids[i], LK_SLUG_MAX - 1);
			return LK_EXIT_USAGE;
		}
	lk_registry *reg;
	int exit_code = lk_cli_open_registry(&reg, registry);
	if (exit_code != LK_EXIT_OK)
		return exit_code;
	int rc = LK_OK;
	if (!strcmp(action, "list")) {
		exit_code = list_characters(reg);
	} else if (!strcmp(action, "add") || !strcmp(action, "update")) {
		lk_character c = LK_CHARACTER_INIT;
		const int adding = !strcmp(action, "add");
		if (adding) {
			snprintf(c.slug, sizeof c.slug, "%s", slug);
		} else {
			rc = lk_character_get(&c, reg, slug);
		}
		char *const dst[] = { c.name, c.aliases, c.rights_holder, c.licence, c.labels };
		for (int i = 0; rc == LK_OK && i < 5; i++)
			if (fields[i]) {
				if (strlen(fields[i]) >= LK_TEXT_MAX) {
					fprintf(stderr, "likeness character: '%s' is longer than %d bytes\n",
						options[i].name, LK_TEXT_MAX - 1);
					lk_registry_close(reg);
					return LK_EXIT_USAGE;
				}
				snprintf(dst[i], LK_TEXT_MAX, "%s", fields[i]);
			}
		if (block != -2)
			c.block_threshold = block;
		if (review != -2)
			c.review_threshold = review;
		if (embed_copy >= 0)
			c.embed_copy = embed_copy;
		if (embed_similar >= 0)
			c.embed_similar = embed_similar;
		if (franchise)
			snprintf(c.franchise, sizeof c.franchise, "%s", franchise);
		if (block_on_character >= 0)
			c.block_on_character = block_on_character;
		if (!isnan(character_threshold))
			c.character_threshold = character_threshold;
		if (rc == LK_OK)
			rc = adding ? lk_character_add(reg, &c) : lk_character_update(reg, &c);
		if (rc == LK_OK)
			printf("%s character %s\n", adding ? "added" : "updated", c.slug);
	} else if (!strcmp(action, "show")) {
		lk_character c;
		rc = lk_character_get(&c, reg, slug);
		if (rc == LK_OK)
			print_character(&c);
	} else if (!strcmp(action, "enable") || !strcmp(action, "disable")) {
		rc = lk_character_set_enabled(reg, slug, action[0] == 'e');
		if (rc == LK_OK)
			printf("%sd %s\n", action, slug);
	} else if (!strcmp(action, "remove")) {
		rc = lk_character_remove(reg, slug);
		if (rc == LK_OK)
			printf("removed %s and its references\n", slug);
	} else {
		fprintf(stderr, "likeness character: no action '%s' (see likeness character --help)\n", action);
		exit_code = LK_EXIT_USAGE;
	}
	if (rc != LK_OK) {
		lk_cli_report(rc);
		exit_code = rc == LK_EINVAL ? LK_EXIT_USAGE : LK_EXIT_INPUT;
	}
	lk_registry_close(reg);
	return exit_code;
}
