/* Walking the files under a path, the one way every command does it. */
#include "tools/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int lk_cli_is_directory(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int lk_cli_walk(const char *path, int (*visit)(const char *file, void *ctx), void *ctx)
{
	if (!lk_cli_is_directory(path))
		return visit(path, ctx) ? -1 : 0;
	struct dirent **names;
	const int n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "likeness: %s: cannot read the folder: %s\n", path, strerror(errno));
		return 1;
	}
	int unreadable = 0, stop = 0;
	for (int i = 0; i < n; i++) {
		if (!stop && names[i]->d_name[0] != '.') {
			char *child = malloc(strlen(path) + strlen(names[i]->d_name) + 2);
			if (!child) {
				stop = 1;
			} else {
				sprintf(child, "%s/%s", path, names[i]->d_name);
				const int rc = lk_cli_walk(child, visit, ctx);
				if (rc < 0)
					stop = 1;
				else
					unreadable += rc;
				free(child);
			}
		}
		free(names[i]);
	}
	free(names);
	return stop ? -1 : unreadable;
}
