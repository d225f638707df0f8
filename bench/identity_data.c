/* bench_identity's tracks: which pictures show which character, and the split.
 *
 * Split by character, from a seed: in each source 40% of the characters train, 15% validate
 * and 45% test; one whole source (--held-out) is all test, so its figures show how a method
 * carries over to art nothing was tuned on. A fifth of the franchises of each source, drawn
 * from the seed, are not registered: their characters' pictures are the look-alike negatives
 * (the same game's style, nobody's protected character). */
#define _GNU_SOURCE
#include "identity.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a of the text, mixed with the seed: a draw that depends only on the name. */
static uint32_t draw(const char *text, unsigned seed)
{
	uint32_t h = 2166136261u ^ seed;
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		h = (h ^ *c) * 16777619u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

static int intern(char ***names, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return i;
	char **grown = realloc(*names, sizeof *grown * (size_t)(*n + 1));
	if (!grown)
		return -1;
	*names = grown;
	if (!(grown[*n] = strdup(name)))
		return -1;
	return (*n)++;
}

typedef struct order {
	int index;
	uint32_t key;
} order;

static int by_key(const void *a, const void *b)
{
	const order *x = a, *y = b;
	return (x->key > y->key) - (x->key < y->key);
}

static void assign_splits(id_track *t, unsigned seed)
{
	order *o = malloc(sizeof *o * (size_t)(t->n_characters ? t->n_characters : 1));
	if (!o)
		return;
	for (int s = 0; s < t->n_sources; s++) {
		int n = 0;
		for (int c = 0; c < t->n_characters; c++)
			if (t->characters[c].source == s)
				o[n++] = (order){ c, draw(t->characters[c].name, seed) };
		qsort(o, (size_t)n, sizeof *o, by_key);
		for (int i = 0; i < n; i++)
			t->characters[o[i].index].split = s == t->held_out ? SPLIT_TEST
							  : i < n * 40 / 100	 ? SPLIT_TRAIN
							  : i < n * 55 / 100	 ? SPLIT_VAL
										 : SPLIT_TEST;
	}
	free(o);
	for (int c = 0; c < t->n_characters; c++) {
		id_character *ch = &t->characters[c];
		ch->registered = draw(t->franchises[ch->franchise], seed ^ 0x5bd1e995u) % 5 != 0;
	}
}

/* The character's images in the order they are registered: drawn from the seed, except that a
 * track may put one picture first (the concept track's Fluent drawing). */
static void order_images(id_track *t, unsigned seed, const char *first_pose)
{
	for (int c = 0; c < t->n_characters; c++) {
		id_character *ch = &t->characters[c];
		order *o = malloc(sizeof *o * (size_t)ch->n);
		id_image *copy = malloc(sizeof *copy * (size_t)ch->n);
		if (!o || !copy) {
			free(o);
			free(copy);
			continue;
		}
		for (int i = 0; i < ch->n; i++) {
			const id_image *im = &t->images[ch->first + i];
			char key[1024];
			snprintf(key, sizeof key, "%s/%s", ch->name, im->pose);
			o[i] = (order){ i, first_pose && !strcmp(im->pose, first_pose) ? 0 : draw(key, seed) | 1u };
			copy[i] = *im;
		}
		qsort(o, (size_t)ch->n, sizeof *o, by_key);
		for (int i = 0; i < ch->n; i++) {
			id_image *im = &t->images[ch->first + i];
			*im = copy[o[i].index];
			im->rank = i;
			/* From the character and pose, not the file's path: the corpus may live anywhere. */
			char key[1024];
			snprintf(key, sizeof key, "%s/%s", ch->name, im->pose);
			im->seed = draw(key, seed ^ 0x9e3779b9u) | 1u;
		}
		free(o);
		free(copy);
	}
}

/* Appends an image of character c (which must be the last character added). */
static int add_image(id_track *t, int c, char *path, char *pose)
{
	id_image *grown = realloc(t->images, sizeof *grown * (size_t)(t->n_images + 1));
	if (!grown)
		return -1;
	t->images = grown;
	grown[t->n_images++] = (id_image){ .character = c, .path = path, .pose = pose };
	t->characters[c].n++;
	return 0;
}

static int add_character(id_track *t, const char *name, const char *franchise, const char *source)
{
	id_character *grown = realloc(t->characters, sizeof *grown * (size_t)(t->n_characters + 1));
	if (!grown)
		return -1;
	t->characters = grown;
	id_character *ch = &grown[t->n_characters];
	*ch = (id_character){ .name = strdup(name), .first = t->n_images };
	ch->franchise = intern(&t->franchises, &t->n_franchises, franchise);
	ch->source = intern(&t->sources, &t->n_sources, source);
	if (!ch->name || ch->franchise < 0 || ch->source < 0)
		return -1;
	return t->n_characters++;
}

int id_track_identity(id_track *t, const char *dir, unsigned seed, const char *held_out)
{
	*t = (id_track){ .name = "identity",
			 .what = "game characters (Wesnoth, Widelands, FreedroidRPG, Flare), each drawn by its own "
				 "artist in other poses and from other directions",
			 .held_out = -1,
			 .ks = { 1, 3, 8 },
			 .n_ks = 3 };
	char list[4096], line[8192];
	snprintf(list, sizeof list, "%s/identity.tsv", dir);
	FILE *f = fopen(list, "r");
	if (!f) {
		fprintf(stderr, "bench_identity: cannot read %s (bench/identity_corpus.sh makes it)\n", list);
		return -1;
	}
	int c = -1, rc = 0;
	while (!rc && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *field[5], *p = line;
		int n = 0;
		for (char *tok; n < 5 && (tok = strsep(&p, "\t"));)
			field[n++] = tok;
		if (n != 5) {
			fprintf(stderr, "bench_identity: %s: a line with %d fields, not 5\n", list, n);
			rc = -1;
			break;
		}
		if (c < 0 || strcmp(t->characters[c].name, field[2]))
			c = add_character(t, field[2], field[1], field[0]);
		char *path = NULL, *pose = strdup(field[3]);
		if (c < 0 || asprintf(&path, "%s/%s", dir, field[4]) < 0 || !pose ||
		    add_image(t, c, path, pose))
			rc = -1;
	}
	fclose(f);
	for (int s = 0; held_out && s < t->n_sources; s++)
		if (!strcmp(t->sources[s], held_out))
			t->held_out = s;
	if (!rc && held_out && t->held_out < 0) {
		fprintf(stderr, "bench_identity: no source '%s' to hold out\n", held_out);
		rc = -1;
	}
	if (rc)
		return -1;
	assign_splits(t, seed);
	order_images(t, seed, NULL);
	return 0;
}

int id_track_concept(id_track *t, const char *corpus, unsigned seed, int limit)
{
	*t = (id_track){ .name = "concept",
			 .what = "emoji concepts, registered by Fluent's drawing (k = 1) or three vendors' (k = 3), "
				 "queried with another vendor's",
			 .held_out = -1,
			 .ks = { 1, 3 },
			 .n_ks = 2 };
	static const char *const vendors[] = { "fluent", "twemoji", "noto", "openmoji" };
	char list[4096], line[8192];
	snprintf(list, sizeof list, "%s/characters.tsv", corpus);
	FILE *f = fopen(list, "r");
	if (!f) {
		fprintf(stderr, "bench_identity: cannot read %s (bench/corpus.sh makes it)\n", list);
		return -1;
	}
	/* Every concept, then the first `limit` of them in the seed's order. */
	int rc = 0, lines = 0;
	order *o = NULL;
	char **codes = NULL;
	while (!rc && fgets(line, sizeof line, f)) {
		if (lines++ == 0)
			continue; /* the header */
		line[strcspn(line, "\t\n")] = '\0';
		char **g = realloc(codes, sizeof *g * (size_t)lines);
		order *go = realloc(o, sizeof *go * (size_t)lines);
		if (g)
			codes = g;
		if (go)
			o = go;
		if (!g || !go || !(codes[lines - 2] = strdup(line)))
			rc = -1;
		else
			o[lines - 2] = (order){ lines - 2, draw(line, seed) };
	}
	fclose(f);
	const int n = lines > 0 ? lines - 1 : 0;
	if (!rc)
		qsort(o, (size_t)n, sizeof *o, by_key);
	for (int i = 0; !rc && i < n && t->n_characters < limit; i++) {
		const char *code = codes[o[i].index];
		char name[256];
		snprintf(name, sizeof name, "emoji:%s", code);
		/* No franchises among emoji: each concept is its own. */
		const int c = add_character(t, name, name, "emoji");
		for (int v = 0; c >= 0 && v < 4; v++) {
			char *path = NULL;
			if (asprintf(&path, "%s/characters/%s/%s.svg", corpus, code, vendors[v]) < 0) {
				rc = -1;
				break;
			}
			FILE *probe = fopen(path, "r");
			if (!probe) {
				free(path);
				continue;
			}
			fclose(probe);
			char *pose = strdup(vendors[v]);
			if (!pose || add_image(t, c, path, pose))
				rc = -1;
		}
		if (c < 0)
			rc = -1;
	}
	for (int i = 0; i < n; i++)
		free(codes[i]);
	free(codes);
	free(o);
	if (rc)
		return -1;
	assign_splits(t, seed);
	order_images(t, seed, "fluent");
	return 0;
}

int id_track_add_empty(id_track *t, int n, unsigned seed)
{
	id_image *grown = realloc(t->images, sizeof *grown * (size_t)(t->n_images + n));
	if (!grown)
		return -1;
	t->images = grown;
	for (int i = 0; i < n; i++) {
		char key[64];
		snprintf(key, sizeof key, "empty-%d", i);
		const uint32_t d = draw(key, seed);
		/* As many empty scenes in training as in testing. */
		grown[t->n_images++] = (id_image){ .character = -1, .pose = "empty scene", .seed = d | 1u,
						   .photo_split = d % 2 ? SPLIT_TEST : (d >> 1) % 3 ? SPLIT_TRAIN : SPLIT_VAL };
	}
	return 0;
}

void id_track_free(id_track *t)
{
	for (int i = 0; i < t->n_images; i++) {
		if (t->images[i].character >= 0) {
			free((char *)t->images[i].path);
			free((char *)t->images[i].pose);
		}
		free(t->images[i].views);
		free(t->images[i].windows);
	}
	free(t->images);
	for (int c = 0; c < t->n_characters; c++)
		free(t->characters[c].name);
	free(t->characters);
	for (int i = 0; i < t->n_franchises; i++)
		free(t->franchises[i]);
	for (int i = 0; i < t->n_sources; i++)
		free(t->sources[i]);
	free(t->franchises);
	free(t->sources);
}

void id_track_write_split(const id_track *t, FILE *f)
{
	static const char *const names[SPLITS] = { "train", "validation", "test" };
	fprintf(f, "track\tcharacter\tfranchise\tsource\tsplit\tregistered\timages\n");
	for (int c = 0; c < t->n_characters; c++) {
		const id_character *ch = &t->characters[c];
		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", t->name, ch->name, t->franchises[ch->franchise],
			t->sources[ch->source], names[ch->split], ch->registered ? "yes" : "no", ch->n);
	}
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The photographs of the corpus, in name order (the seed picks them by place), each split by
 * the picture it was cut from (its name up to the crop number), so no test scene is painted
 * over a photograph a method was tuned with. */
int id_photos_load(id_photos *p, const char *corpus)
{
	*p = (id_photos){ 0 };
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/photos", corpus);
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "bench_identity: cannot read %s (bench/corpus.sh makes it)\n", dir);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		const size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".jpg"))
			continue;
		const char **gp = realloc(p->paths, sizeof *gp * (size_t)(p->n + 1));
		char *path = NULL;
		if (gp)
			p->paths = gp;
		if (!gp || asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			rc = -1;
		else
			p->paths[p->n++] = path;
	}
	closedir(d);
	if (rc || !p->n || !(p->split = malloc(sizeof *p->split * (size_t)p->n))) {
		if (!rc)
			fprintf(stderr, "bench_identity: no photographs in %s\n", dir);
		return -1;
	}
	qsort(p->paths, (size_t)p->n, sizeof *p->paths, by_text);
	for (int i = 0; i < p->n; i++) {
		char stem[256];
		snprintf(stem, sizeof stem, "%s", strrchr(p->paths[i], '/') + 1);
		char *dash = strrchr(stem, '-');
		if (dash)
			*dash = '\0';
		const uint32_t h = draw(stem, 20261202u);
		p->split[i] = h % 2 ? SPLIT_TEST : (h >> 1) % 3 ? SPLIT_TRAIN : SPLIT_VAL;
	}
	return 0;
}

void id_photos_free(id_photos *p)
{
	for (int i = 0; i < p->n; i++)
		free((char *)p->paths[i]);
	free(p->paths);
	free(p->split);
}
