/* likeness-iconify: writes icons of an Iconify JSON icon set (the format of the npm packages
 * @iconify-json/...) as standalone SVG files, rendered at a chosen size, so character art
 * fetched from npm can be registered like any image.
 *
 *   likeness-iconify [--size N] ICONS.json OUTDIR NAME...
 *
 * Prints the path of each SVG written; names missing from the set are reported on standard
 * error (exit 3 if any). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dimension(json_t *icon, json_t *set, const char *key, int fallback)
{
	json_t *v = json_object_get(icon, key);
	if (!json_is_number(v))
		v = json_object_get(set, key);
	return json_is_number(v) ? (int)json_number_value(v) : fallback;
}

/* An icon's body, following one level of alias ("parent") as Iconify sets use them. */
static json_t *find_icon(json_t *set, const char *name, const char **resolved)
{
	json_t *icons = json_object_get(set, "icons");
	json_t *icon = json_object_get(icons, name);
	*resolved = name;
	if (!icon) {
		json_t *alias = json_object_get(json_object_get(set, "aliases"), name);
		const char *parent = json_string_value(json_object_get(alias, "parent"));
		if (parent) {
			icon = json_object_get(icons, parent);
			*resolved = parent;
		}
	}
	return json_is_string(json_object_get(icon, "body")) ? icon : NULL;
}

int main(int argc, char **argv)
{
	int size = 512, i = 1;
	if (argc > 2 && !strcmp(argv[1], "--size")) {
		size = atoi(argv[2]);
		i = 3;
	}
	if (argc - i < 3 || size < 8 || size > 8192) {
		fputs("usage: likeness-iconify [--size N] ICONS.json OUTDIR NAME...\n", stderr);
		return 2;
	}
	json_error_t err;
	json_t *set = json_load_file(argv[i], 0, &err);
	if (!set || !json_is_object(json_object_get(set, "icons"))) {
		fprintf(stderr, "likeness-iconify: %s: not an Iconify icon set (%s, line %d)\n", argv[i],
			set ? "no 'icons'" : err.text, err.line);
		return 3;
	}
	const char *outdir = argv[i + 1];
	int missing = 0;
	for (int k = i + 2; k < argc; k++) {
		const char *resolved;
		json_t *icon = find_icon(set, argv[k], &resolved);
		if (!icon || strchr(argv[k], '/')) {
			fprintf(stderr, "likeness-iconify: no icon '%s' in %s\n", argv[k], argv[i]);
			missing++;
			continue;
		}
		const int w = dimension(icon, set, "width", 16), h = dimension(icon, set, "height", 16);
		const int left = dimension(icon, set, "left", 0), top = dimension(icon, set, "top", 0);
		char path[4096];
		snprintf(path, sizeof path, "%s/%s.svg", outdir, argv[k]);
		FILE *f = fopen(path, "w");
		if (!f) {
			fprintf(stderr, "likeness-iconify: %s: %s\n", path, strerror(errno));
			return 4;
		}
		fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"%d %d %d %d\">%s</svg>\n",
			size, size * h / (w ? w : 1), left, top, w, h, json_string_value(json_object_get(icon, "body")));
		if (fclose(f) != 0) {
			fprintf(stderr, "likeness-iconify: %s: %s\n", path, strerror(errno));
			return 4;
		}
		puts(path);
	}
	json_decref(set);
	return missing ? 3 : 0;
}
