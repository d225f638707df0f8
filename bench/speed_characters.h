/* bench_speed's registry of protected characters, filled from the corpus as a user would. */
#ifndef LK_BENCH_SPEED_CHARACTERS_H
#define LK_BENCH_SPEED_CHARACTERS_H

#include "likeness.h"

#include <stddef.h>

/* Reference art is rendered at this side: larger than anything likeness or the peers look at
 * (PDQ 512, the CNN 224). */
#define SPEED_REFERENCE_SIDE 512

struct speed_character {
	char slug[LK_SLUG_MAX]; /* the corpus folder: its codepoints */
	char svg[1024];         /* CORPUS/characters/<codepoints>/fluent.svg */
	void *png;              /* the reference as added (g_free) */
	size_t png_len;
};

/* Adds up to `want` characters of CORPUS/characters that have a fluent drawing, in folder
 * order, each with that drawing rendered to PNG as its one image reference
 * (lk_reference_add_bytes; with the registry's embedder attached, its views are embedded).
 * Drawings too plain to hash (LK_ELOWQUALITY) are skipped with their character. Returns how
 * many were added: fewer when the corpus runs out or a step fails (said on stderr); -1 when
 * the folder cannot be read. */
int speed_characters_add(struct speed_character *out, int want, lk_registry *reg, const char *corpus);
void speed_characters_free(struct speed_character *c, int n);

#endif
