/* bench_speed's characters (speed_characters.h). */
#include "speed_characters.h"
#include "speed_images.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int speed_characters_add(struct speed_character *out, int want, lk_registry *reg, const char *corpus)
{
	char dir[4096];
	int n_dirs = 0, added = 0;
	snprintf(dir, sizeof dir, "%s/characters", corpus);
	char **dirs = speed_list(dir, "", &n_dirs);
	if (!dirs) {
		fprintf(stderr, "bench_speed: cannot read %s\n", dir);
		return -1;
	}
	for (int i = 0; i < n_dirs && added < want; i++) {
		struct speed_character *c = &out[added];
		memset(c, 0, sizeof *c);
		snprintf(c->svg, sizeof c->svg, "%s/fluent.svg", dirs[i]);
		if (access(c->svg, R_OK) != 0)
			continue;
		const char *name = strrchr(dirs[i], '/') + 1;
		lk_character ch = LK_CHARACTER_INIT;
		snprintf(c->slug, sizeof c->slug, "%s", name);
		snprintf(ch.slug, sizeof ch.slug, "%s", name);
		snprintf(ch.name, sizeof ch.name, "%s", name);
		if (speed_render_png(&c->png, &c->png_len, c->svg, SPEED_REFERENCE_SIDE)) {
			fprintf(stderr, "bench_speed: rendering %s failed\n", c->svg);
			break;
		}
		int rc = lk_character_add(reg, &ch);
		if (rc == LK_OK)
			rc = lk_reference_add_bytes(NULL, reg, ch.slug, c->png, c->png_len, NULL);
		if (rc == LK_ELOWQUALITY) {
			lk_character_remove(reg, ch.slug);
			g_free(c->png);
			c->png = NULL;
			continue;
		}
		if (rc != LK_OK) {
			fprintf(stderr, "bench_speed: adding %s: %s\n", c->svg, lk_error_detail());
			g_free(c->png);
			c->png = NULL;
			break;
		}
		added++;
	}
	speed_free_list(dirs);
	return added;
}

void speed_characters_free(struct speed_character *c, int n)
{
	for (int i = 0; i < n; i++) {
		g_free(c[i].png);
		c[i].png = NULL;
	}
}
