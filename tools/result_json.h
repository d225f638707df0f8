/* A check's result as JSON (tools/result_json.c), shared by the CLI, the audit and the
 * service. */
#ifndef LK_TOOLS_RESULT_JSON_H
#define LK_TOOLS_RESULT_JSON_H

#include "likeness.h"

#include <jansson.h>

/* JSON of one check (as 'check --json' prints it; without "path" when `path` is NULL); the
 * caller owns it. */
json_t *lk_json_result(const char *path, const lk_check_result *r);
/* The character model's decision (the result's "character" object, present when a character
 * was scored): character, name, franchise, verdict, score, threshold, margin, uncertain,
 * nearest [{reference, similarity}], bank_pictures; runner_up when the franchise has another
 * scored character; false_positive_rate and calibration_negatives once calibrated. */
json_t *lk_json_character(const lk_character_decision *c);
/* JSON of a failed check: the path, the error's name and this thread's detail. */
json_t *lk_json_error(const char *path, int code);

#endif
