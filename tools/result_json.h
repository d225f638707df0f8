/* A check's result as JSON (tools/result_json.c), shared by the CLI, the audit and the
 * service. */
#ifndef LK_TOOLS_RESULT_JSON_H
#define LK_TOOLS_RESULT_JSON_H

#include "likeness.h"

#include <jansson.h>

/* JSON of one check (as 'check --json' prints it; without "path" when `path` is NULL); the
 * caller owns it. */
json_t *lk_json_result(const char *path, const lk_check_result *r);
/* JSON of a failed check: the path, the error's name and this thread's detail. */
json_t *lk_json_error(const char *path, int code);

#endif
